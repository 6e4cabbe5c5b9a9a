"""The app's side of the verifiable ledger (``ledger.heads``): its signing key, where the
worker publishes heads, and the anchors ``jindou ledger verify`` checks without being told."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from honours.models import RankingSnapshot
from ledger import audit, heads
from volunteers.errors import Invalid

from .extensions import db


def signer() -> heads.Signer:
    return heads.Signer(current_app.config["JINDOU_LEDGER_SIGNING_KEY"])


def heads_dir() -> Path:
    return Path(current_app.config["JINDOU_LEDGER_HEADS_DIR"])


def published_anchors(key_ids: list[str]) -> tuple[list[audit.Anchor], list[str]]:
    """The heads in the publishing directory a trusted key signed, and a note for each file
    that is not one (a foreign key's head, a stray file)."""
    directory = heads_dir()
    anchors, notes = [], []
    if not directory.is_dir():
        return anchors, notes
    for path in sorted(directory.glob("*.json")):
        if path.name.endswith(heads.MANIFEST_SUFFIX):
            continue
        try:
            head = heads.parse(path.read_bytes())
        except (heads.BadHead, OSError) as error:
            notes.append(f"{path.name}: skipped, {error}")
            continue
        if head["key_id"] not in key_ids:
            notes.append(f"{path.name}: skipped, signed by key {head['key_id']}")
            continue
        anchor, note = anchor_of(path, head, f"the published head {path.name}")
        anchors.append(anchor)
        notes.extend([note] if note else [])
    return anchors, notes


def anchor_of(path: Path, head: dict, label: str) -> tuple[audit.Anchor, str | None]:
    """An anchor of the head read from ``path``, with the accounts manifest beside it when
    there is one that the head signed (a note says why one is ignored)."""
    manifest_path = heads.manifest_path(path)
    if head.get("accounts_digest") is None or not manifest_path.is_file():
        return audit.Anchor(head, label), None
    try:
        lines = heads.parse_manifest(manifest_path.read_bytes(), head)
    except (heads.BadHead, OSError) as error:
        return (audit.Anchor(head, label),
                f"{manifest_path.name}: ignored, {error}; accounts are checked by digest only")
    return audit.Anchor(head, label, accounts_manifest=lines), None


def snapshot_anchor(session: Session) -> list[audit.ChainAnchor]:
    """The chain link the newest published ranking snapshot recorded."""
    snapshot = session.execute(
        select(RankingSnapshot.id, RankingSnapshot.chain_seq, RankingSnapshot.chain_hash)
        .where(RankingSnapshot.chain_seq > 0)
        .order_by(RankingSnapshot.published_at.desc(), RankingSnapshot.id.desc()).limit(1)
    ).first()
    if snapshot is None:
        return []
    return [audit.ChainAnchor(snapshot.chain_seq, snapshot.chain_hash,
                              f"ranking snapshot {snapshot.id}")]


def proven_statement(statement: dict, entry_ids, tree_size: int | None = None) -> dict:
    """A statement as the API dumps it, with its entries' proofs (under the tree now, or of
    ``tree_size`` entries) and signed as a whole."""
    key = signer()
    current = heads.tree_size(db.session)
    if tree_size is not None and tree_size > current:
        raise Invalid(f"the tree has {current} entries, not {tree_size}",
                      errors={"tree_size": [f"at most {current}"]})
    statement = dict(statement, proof=heads.statement_proof(db.session, key, entry_ids,
                                                            tree_size))
    return key.sign_statement(statement)
