"""Rewriting ledger history the way an insider with the database owner's privileges (but not
the signing key) would, and covering the tracks: every hash, link, Merkle node, the chain's
head, cached balances, running balances and yearly totals recomputed with the ledger's own
rules, so that everything the database holds agrees with itself again. Only a head signed
outside the database can still tell (issue 14)."""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from ledger import audit, merkle, rules
from ledger.models import (
    Account,
    AccountTotal,
    ChainHead,
    ChainLink,
    Entry,
    Posting,
    TreeNode,
    UnsealedEntry,
)


@contextmanager
def guards_off(connection):
    """The owner's way past the guards: ALTER TABLE ... DISABLE TRIGGER USER on PostgreSQL
    (inside the test's transaction, so rolled back with it); dropping them on SQLite."""
    if connection.dialect.name == "postgresql":
        tables = [row[0] for row in connection.execute(text(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal"))]
        for table in tables:
            connection.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER USER'))
        yield
        for table in tables:
            connection.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER USER'))
    else:
        for (name,) in connection.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
            connection.execute(text(f'DROP TRIGGER "{name}"'))
        yield


def recompute_everything(session: Session) -> None:
    """After history was edited: make every derived thing agree with it again."""
    _rehash_entries(session)
    _rebuild_chain_and_tree(session)
    _rederive_caches(session)
    session.flush()


def _rehash_entries(session: Session) -> None:
    postings = defaultdict(list)
    for entry_id, code, unit, amount in session.execute(
            select(Posting.entry_id, Account.code, Posting.unit, Posting.amount)
            .join(Account, Account.id == Posting.account_id)):
        postings[entry_id].append(rules.Posting(code, amount, unit))
    for entry in session.execute(select(Entry)).scalars():
        fields = {name: getattr(entry, name) for name in rules.CONTENT_FIELDS}
        entry.hash = rules.content_hash(fields, postings.get(entry.id, []))
    session.flush()


def _rebuild_chain_and_tree(session: Session) -> None:
    chained = session.execute(
        select(ChainLink.entry_id, Entry.hash).join(Entry, Entry.id == ChainLink.entry_id)
        .order_by(ChainLink.seq)).all()
    session.execute(delete(ChainLink))
    session.execute(delete(TreeNode))
    prev, links, leaves = rules.GENESIS_HASH, [], []
    for seq, (entry_id, entry_hash) in enumerate(chained, 1):
        link = rules.chain_link(prev, entry_id, entry_hash)
        links.append(dict(seq=seq, entry_id=entry_id, prev_hash=prev, hash=link,
                          sealed_at=rules_now()))
        leaves.append(merkle.entry_leaf(entry_id, entry_hash))
        prev = link
    if links:
        session.execute(insert(ChainLink), links)
        session.execute(insert(TreeNode), [dict(level=level, idx=idx, hash=h) for level, idx, h
                                           in merkle.append(0, [], leaves)])
    session.execute(update(ChainHead).where(ChainHead.id == 1).values(seq=len(links), hash=prev))
    session.execute(delete(UnsealedEntry).where(
        UnsealedEntry.entry_id.in_([entry_id for entry_id, _ in chained])))


def rules_now():
    from ledger.clock import now
    return now()


def _rederive_caches(session: Session) -> None:
    balances = audit.derived_balances(session)
    for account in session.execute(select(Account)).scalars():
        account.posted, account.pending_in, account.pending_out = balances.get(
            account.id, (0, 0, 0))
    running: dict[int, int] = defaultdict(int)
    for posting, status in session.execute(
            select(Posting, Entry.status).join(Entry, Entry.id == Posting.entry_id)
            .order_by(Posting.account_id, Posting.id)):
        if status == "posted":
            running[posting.account_id] += posting.amount
            posting.posted_after = running[posting.account_id]
        else:
            posting.posted_after = None
    session.execute(delete(AccountTotal))
    totals = audit.derived_totals(session)
    if totals:
        session.execute(insert(AccountTotal), [
            dict(account_id=account_id, year=year, kind=kind, credited=credited,
                 debited=debited, last_credit_at=last)
            for (account_id, year, kind), (credited, debited, last) in totals.items()])
