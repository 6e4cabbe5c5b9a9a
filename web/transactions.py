"""Committing a request's work, then sealing what it posted into the hash chain."""

import logging

import ledger

from .extensions import db

log = logging.getLogger(__name__)


def commit() -> None:
    session = db.session
    session.commit()
    if session.info.pop("ledger_unsealed", False):
        seal_quietly()


def seal_quietly() -> None:
    """Sealing runs after the entries committed; if it cannot run now, the next one will."""
    session = db.session
    try:
        ledger.seal_after_commit(session)
    except Exception:
        session.rollback()
        log.exception("sealing the hash chain failed; entries stay queued")
