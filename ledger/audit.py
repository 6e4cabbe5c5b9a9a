"""``verify``: re-derive everything the ledger caches or chains, and name what disagrees."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from . import rules
from .models import Account, AccountTotal, ChainHead, ChainLink, Entry, Posting, UnsealedEntry

VERIFY_BATCH_ENTRIES = 2000


@dataclass
class Problem:
    what: str
    entry_id: int | None = None
    account: str | None = None

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id is not None else f"account {self.account}"
        return f"{where}: {self.what}"


@dataclass
class Report:
    entries: int = 0
    sealed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first(self) -> Problem | None:
        with_entry = [p for p in self.problems if p.entry_id is not None]
        if with_entry:
            return min(with_entry, key=lambda p: p.entry_id)
        return self.problems[0] if self.problems else None


def verify(session: Session) -> Report:
    report = Report()
    _verify_entries(session, report)
    _verify_chain(session, report)
    _verify_balances(session, report)
    _verify_totals(session, report)
    _verify_running_balances(session, report)
    return report


def _verify_entries(session: Session, report: Report) -> None:
    after_id = 0
    while True:
        entries = session.execute(
            select(Entry.id, Entry.hash, *[getattr(Entry, name) for name in rules.CONTENT_FIELDS])
            .where(Entry.id > after_id).order_by(Entry.id).limit(VERIFY_BATCH_ENTRIES)
        ).all()
        if not entries:
            return
        postings = defaultdict(list)
        for entry_id, code, unit, amount in session.execute(
            select(Posting.entry_id, Account.code, Posting.unit, Posting.amount)
            .join(Account, Account.id == Posting.account_id)
            .where(Posting.entry_id.between(entries[0].id, entries[-1].id))
        ):
            postings[entry_id].append(rules.Posting(code, amount, unit))
        for entry in entries:
            _verify_entry(entry, postings.get(entry.id, []), report)
        report.entries += len(entries)
        after_id = entries[-1].id


def _verify_entry(entry, postings: list, report: Report) -> None:
    if entry.status == "voided":
        if postings:
            report.problems.append(Problem("a voiding entry has postings", entry.id))
    else:
        try:
            rules.check_balanced(postings)
        except rules.InvalidEntry as error:
            report.problems.append(Problem(f"does not balance: {error.message}", entry.id))
    fields = {name: getattr(entry, name) for name in rules.CONTENT_FIELDS}
    if rules.content_hash(fields, postings) != entry.hash:
        report.problems.append(Problem("content does not match its hash", entry.id))


def _verify_chain(session: Session, report: Report) -> None:
    prev_hash, expected_seq = rules.GENESIS_HASH, 1
    hashes = select(ChainLink.seq, ChainLink.entry_id, ChainLink.prev_hash, ChainLink.hash,
                    Entry.hash.label("entry_hash")).outerjoin(Entry, Entry.id == ChainLink.entry_id)
    for link in session.execute(hashes.order_by(ChainLink.seq)).yield_per(VERIFY_BATCH_ENTRIES):
        if link.seq != expected_seq:
            report.problems.append(Problem(f"chain link {expected_seq} is missing", link.entry_id))
        if link.entry_hash is None:
            report.problems.append(Problem("chained entry is missing", link.entry_id))
        elif (link.prev_hash != prev_hash
              or rules.chain_link(prev_hash, link.entry_id, link.entry_hash) != link.hash):
            report.problems.append(Problem("hash chain broken", link.entry_id))
        prev_hash, expected_seq = link.hash, link.seq + 1
        report.sealed += 1
    head = session.execute(select(ChainHead.seq, ChainHead.hash)).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        report.problems.append(Problem("the chain's head does not match its last link"))
    unsealed = session.scalar(select(func.count()).select_from(UnsealedEntry))
    if report.sealed + unsealed != report.entries:
        report.problems.append(
            Problem(f"{report.entries} entries but {report.sealed} sealed and {unsealed} queued")
        )


def _verify_balances(session: Session, report: Report) -> None:
    settlement = aliased(Entry)
    unsettled = ~select(settlement.id).where(settlement.pending_id == Entry.id).exists()
    posted = dict(session.execute(
        select(Posting.account_id, func.sum(Posting.amount))
        .join(Entry, Entry.id == Posting.entry_id)
        .where(Entry.status == "posted").group_by(Posting.account_id)
    ).all())
    pending = {
        account_id: (inflow, outflow)
        for account_id, inflow, outflow in session.execute(
            select(
                Posting.account_id,
                func.sum(case((Posting.amount > 0, Posting.amount), else_=0)),
                func.sum(case((Posting.amount < 0, -Posting.amount), else_=0)),
            )
            .join(Entry, Entry.id == Posting.entry_id)
            .where(Entry.status == "pending", unsettled)
            .group_by(Posting.account_id)
        )
    }
    for account in session.execute(select(Account)).scalars():
        cached = (account.posted, account.pending_in, account.pending_out)
        derived = (posted.get(account.id, 0), *pending.get(account.id, (0, 0)))
        if cached != derived:
            report.problems.append(Problem(
                f"cached balances (posted, pending in, pending out) {cached} differ from "
                f"its postings {derived}", account=account.code))
        if account.no_overdraft and account.available < 0:
            report.problems.append(Problem(f"no-overdraft account is at {account.available}",
                                           account=account.code))


def _verify_totals(session: Session, report: Report) -> None:
    expected: dict[tuple, list] = defaultdict(lambda: [0, 0, None])
    reversed_ids = set(session.scalars(
        select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))))
    reversed_entry = aliased(Entry)
    rows = session.execute(
        select(Posting.account_id, Posting.amount, Entry.id, Entry.kind, Entry.created_at,
               reversed_entry.kind, reversed_entry.created_at)
        .join(Entry, Entry.id == Posting.entry_id)
        .outerjoin(reversed_entry, reversed_entry.id == Entry.reverses_id)
        .where(Entry.status == "posted", Posting.unit.in_(rules.TOTALLED_UNITS))
    ).yield_per(VERIFY_BATCH_ENTRIES)
    for account_id, amount, entry_id, kind, created_at, original_kind, original_at in rows:
        if original_kind is not None:
            key = (account_id, rules.year_of(original_at), original_kind)
            expected[key][0] += min(amount, 0)
            expected[key][1] += min(-amount, 0)
            continue
        key = (account_id, rules.year_of(created_at), kind)
        expected[key][0] += max(amount, 0)
        expected[key][1] += max(-amount, 0)
        if amount > 0 and entry_id not in reversed_ids:
            expected[key][2] = rules.latest(expected[key][2], created_at)
    stored = {
        (row.account_id, row.year, row.kind): [row.credited, row.debited,
                                               rules.as_utc(row.last_credit_at)]
        for row in session.execute(select(AccountTotal)).scalars()
    }
    codes = dict(session.execute(select(Account.id, Account.code)).all())
    for key in sorted(set(expected) | set(stored)):
        if expected.get(key, [0, 0, None]) != stored.get(key, [0, 0, None]):
            report.problems.append(Problem(
                f"yearly totals for {key[1]} {key[2]} are {_shown(stored.get(key))}, "
                f"postings say {_shown(expected.get(key))}", account=codes.get(key[0])))


def _shown(total: list | None) -> str:
    if total is None:
        return "None"
    credited, debited, last_credit_at = total
    return f"[{credited}, {debited}] last credited {rules.timestamp_text(last_credit_at)}"


def _verify_running_balances(session: Session, report: Report) -> None:
    """Statements and ``balance_at`` read each posting's running balance and moment instead of
    the journal, so both must still follow from the postings before them."""
    rows = session.execute(
        select(Posting.account_id, Posting.entry_id, Posting.amount, Posting.posted_after,
               Posting.created_at, Entry.status, Entry.created_at.label("entry_created_at"))
        .join(Entry, Entry.id == Posting.entry_id)
        .order_by(Posting.account_id, Posting.id)
    ).yield_per(VERIFY_BATCH_ENTRIES)
    codes = dict(session.execute(select(Account.id, Account.code)).all())
    account_id, running = None, 0
    for row in rows:
        if row.account_id != account_id:
            account_id, running = row.account_id, 0
        expected = None
        if row.status == "posted":
            running += row.amount
            expected = running
        if row.posted_after != expected:
            report.problems.append(Problem(
                f"running balance of {codes.get(row.account_id)} is {row.posted_after}, "
                f"its postings say {expected}", row.entry_id))
        if rules.timestamp_text(row.created_at) != rules.timestamp_text(row.entry_created_at):
            report.problems.append(Problem("a posting's moment differs from its entry's",
                                           row.entry_id))
