"""Small builders for ledger test data."""

from __future__ import annotations

import itertools

import ledger
from ledger import Posting

_keys = itertools.count(1)


def key(prefix: str = "test") -> str:
    return f"{prefix}-{next(_keys)}"


def world(session) -> None:
    ledger.open_account(session, "world:points", "POINT", "equity")
    ledger.open_account(session, "world:cny", "CNY", "equity")


def wallet(session, volunteer_id: int = 1, points: int = 0) -> str:
    """A no-overdraft wallet, funded from ``world:points`` when ``points`` > 0."""
    world(session)
    code = f"volunteer:{volunteer_id}:wallet"
    ledger.open_account(session, code, "POINT", "liability", no_overdraft=True)
    if points:
        ledger.post(session, idempotency_key=key("fund"), kind="manual_award",
                    postings=[Posting("world:points", -points, "POINT"),
                              Posting(code, points, "POINT")])
    return code


def move(session, source: str, target: str, amount: int, *, kind="transfer", idem=None):
    return ledger.post(session, idempotency_key=idem or key(kind), kind=kind,
                       postings=[Posting(source, -amount, "POINT"),
                                 Posting(target, amount, "POINT")])


def merchant(session, merchant_id: int = 1) -> str:
    """A merchant's account for accepted points (no overdraft flag, as in the chart)."""
    code = f"merchant:{merchant_id}:accepted"
    ledger.open_account(session, code, "POINT", "liability")
    return code


def voucher_hold(session, source: str, target: str, amount: int, expires_at, *, idem=None):
    """A hold of ``amount`` points from ``source`` to ``target`` until ``expires_at``."""
    return ledger.hold(session, idempotency_key=idem or key("hold"), kind="voucher_hold",
                       postings=[Posting(source, -amount, "POINT"),
                                 Posting(target, amount, "POINT")],
                       expires_at=expires_at)


def transfer(key: str, source: str, target: str, amount: int, kind: str = "transfer") -> dict:
    """``post``'s keyword arguments for moving ``amount`` points (for batches and posters)."""
    return dict(idempotency_key=key, kind=kind,
                postings=[Posting(source, -amount, "POINT"), Posting(target, amount, "POINT")])
