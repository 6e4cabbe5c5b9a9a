"""The tamper-evident hash chain, sealed after commit.

Writers do not touch a global row: each entry stores the hash of its own content and joins a
queue (``ledger_unsealed``). ``seal`` then links queued entries into the chain in one order,
each link covering the previous link and the entry's hash (on PostgreSQL in one round trip,
``ledger_seal``). One sealer runs at a time (it locks the head row; on PostgreSQL others skip
rather than wait), so sealing never serialises the writers themselves. The same seal appends
the entries as leaves of the RFC 6962 Merkle tree (``merkle``), storing the inner nodes it
completes: leaf ``seq - 1`` is the entry of link ``seq`` (derived, not stored), so the chain and
the tree have one size. ``bench/ledger_bench.py``
measures what an in-transaction chain would cost.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.orm import Session, scoped_session

from . import ddl, heads, merkle, rules
from .clock import now
from .models import ChainHead, ChainLink, Entry, TreeNode, UnsealedEntry
from .service import _insert_ignoring_duplicates

MAX_SEAL_BATCH = 5000


def seal(session: Session, *, max_entries: int = MAX_SEAL_BATCH) -> int:
    """Link up to ``max_entries`` queued entries into the chain; returns how many (0 also
    when another sealer holds the head: what it leaves queued, the next seal links).

    Call it after the entries' transaction committed (the web layer does after each
    request, the CLI before it verifies). It flushes; the caller commits. On PostgreSQL it
    is one call of ``ledger_seal`` (``sql/ledger_seal.v1.sql``), which makes the same links as
    ``seal_in_python``.
    """
    if ddl.has_stored_functions(session.get_bind()):
        return _seal_in_postgres(session, max_entries, own_transaction=False)
    return seal_in_python(session, max_entries=max_entries)


def _seal_in_postgres(session: Session, max_entries: int, *, own_transaction: bool) -> int:
    session.flush()
    return session.execute(text("SELECT ledger_seal(:max_entries, :own_transaction)"),
                           {"max_entries": max_entries, "own_transaction": own_transaction}
                           ).scalar_one()


def seal_in_python(session: Session, *, max_entries: int = MAX_SEAL_BATCH) -> int:
    """``seal`` in Python and portable SQL: the reference ``ledger_seal`` is tested against."""
    head = _lock_head(session)
    if head is None:
        return 0
    queued = session.execute(
        select(UnsealedEntry.entry_id, Entry.hash)
        .join(Entry, Entry.id == UnsealedEntry.entry_id)
        .order_by(UnsealedEntry.entry_id)
        .limit(max_entries)
    ).all()
    if not queued:
        return 0
    seq, prev_hash = head
    sealed_at = now()
    links = []
    for entry_id, entry_hash in queued:
        seq += 1
        link_hash = rules.chain_link(prev_hash, entry_id, entry_hash)
        links.append(dict(seq=seq, entry_id=entry_id, prev_hash=prev_hash, hash=link_hash,
                          sealed_at=sealed_at))
        prev_hash = link_hash
    session.execute(insert(ChainLink), links)
    append_to_tree(session, head[0], [merkle.entry_leaf(entry_id, entry_hash)
                                      for entry_id, entry_hash in queued])
    session.execute(
        delete(UnsealedEntry).where(UnsealedEntry.entry_id.in_([row[0] for row in queued]))
    )
    session.execute(update(ChainHead).where(ChainHead.id == 1).values(seq=seq, hash=prev_hash))
    return len(queued)


def append_to_tree(session: Session, size: int, leaves: list[bytes]) -> None:
    """Store the Merkle tree's inner nodes that appending ``leaves`` to its ``size``
    completes (``ledger_seal`` does the same in SQL); leaves are derived from the chain, never
    stored (``heads.fetcher``)."""
    try:
        found = heads.fetcher(session)(set(merkle.edge_nodes(size)))
    except LookupError as error:
        raise RuntimeError(f"the Merkle tree of {size} leaves: {error}") from None
    edge = [found[key] for key in merkle.edge_nodes(size)]
    nodes = [dict(level=level, idx=idx, hash=h)
             for level, idx, h in merkle.append(size, edge, leaves) if level > 0]
    if nodes:
        session.execute(insert(TreeNode), nodes)


def seal_after_commit(session: Session, *, max_entries: int = MAX_SEAL_BATCH) -> int:
    """``seal`` in a transaction of its own, for a caller that has just committed its entries
    (a web request, last); commits. On PostgreSQL the one ``ledger_seal`` call is a statement
    in autocommit, atomic by itself: one round trip instead of BEGIN, call and COMMIT, and a
    commit that does not wait for the disk (why that is safe: ``sql/ledger_seal.v1.sql``)."""
    plain = session() if isinstance(session, scoped_session) else session
    assert not plain.in_transaction(), "commit the entries before sealing them"
    if not ddl.has_stored_functions(session.get_bind()):
        sealed = seal_in_python(session, max_entries=max_entries)
    elif joins_callers_transaction(session):
        sealed = _seal_in_postgres(session, max_entries, own_transaction=False)
    else:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        sealed = _seal_in_postgres(session, max_entries, own_transaction=True)
    session.commit()
    return sealed


def joins_callers_transaction(session: Session) -> bool:
    """True when the session is bound to a connection whose transaction its caller holds (a
    test's, rolled back at its end): it can neither leave that transaction for autocommit nor
    choose its isolation, and works inside it instead."""
    bind = session.get_bind()
    return isinstance(bind, Connection) and bind.in_transaction()


def seal_all(session: Session) -> int:
    """Seal until the queue is empty, committing each batch."""
    total = 0
    while sealed := seal(session):
        session.commit()
        total += sealed
    session.commit()
    return total


def _lock_head(session: Session) -> tuple[int, str] | None:
    session.execute(
        _insert_ignoring_duplicates(
            session, ChainHead, dict(id=1, seq=0, hash=rules.GENESIS_HASH)
        )
    )
    query = select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = session.execute(query).first()
    return None if row is None else (row.seq, row.hash)
