"""``verify``: re-derive everything the ledger caches, chains or signed, and name what
disagrees. It reads and never writes: entries still queued for sealing are counted and checked
on their own (balance, content hash), never sealed here.

Anchors are heads signed outside the database (``heads``): the root of the Merkle tree
recomputed from the entries must equal each anchor's root at its size. Whoever rewrites
history and recomputes every hash, link and node still cannot sign, so the anchor tells. To
name where the rewrite starts, every signed head it can trust (the anchors, and those the
ledger kept in ``ledger_signed_heads``) is compared: the first entry after the largest
agreeing head is the first one no signature vouches for.

An anchor that commits to the accounts (``accounts_digest``) must also still hash to the
accounts' fixed fields as they are now: given its manifest, verify names the account(s)
whose fields changed."""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import DateTime, case, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from . import heads, merkle, rules
from .clock import now
from .models import (
    Account,
    AccountTotal,
    ChainHead,
    ChainLink,
    Entry,
    Posting,
    UnsealedEntry,
)

VERIFY_BATCH_ENTRIES = 2000
# Hashing every entry's content is verify's heaviest part: from this many entries on, it
# runs in worker processes (at most this many) while the reading goes on.
PARALLEL_FROM_ENTRIES = 200_000
MAX_HASHING_PROCESSES = 8
MAX_BATCHES_IN_FLIGHT = 16


@dataclass
class Problem:
    what: str
    entry_id: int | None = None
    account: str | None = None

    def __str__(self) -> str:
        if self.entry_id is not None:
            return f"entry {self.entry_id}: {self.what}"
        if self.account is not None:
            return f"account {self.account}: {self.what}"
        return self.what


@dataclass
class Anchor:
    """A signed head to check the log against, and where it came from (for messages)."""

    head: dict
    label: str
    required: bool = True  # its failure fails verify (an anchor given, a published head)
    # The accounts manifest published beside it, already checked against its accounts_digest.
    accounts_manifest: list[str] | None = None


@dataclass
class ChainAnchor:
    """A chain link recorded elsewhere (the newest published ranking snapshot's)."""

    seq: int
    hash: str
    label: str


@dataclass
class Report:
    entries: int = 0
    sealed: int = 0
    queued: int = 0
    oldest_queued_at: datetime | None = None
    anchors: int = 0
    problems: list[Problem] = field(default_factory=list)

    def queued_line(self) -> str:
        if not self.queued:
            return "nothing queued for sealing"
        age = int((now() - self.oldest_queued_at).total_seconds()) if self.oldest_queued_at \
            else 0
        return f"{self.queued} queued for sealing, the oldest {max(age, 0)} s old"

    @property
    def ok(self) -> bool:
        return not self.problems

    def first(self) -> Problem | None:
        with_entry = [p for p in self.problems if p.entry_id is not None]
        if with_entry:
            return min(with_entry, key=lambda p: p.entry_id)
        return self.problems[0] if self.problems else None


def verify(session: Session, *, anchors: Sequence[Anchor] = (),
           trusted_key_ids: Iterable[str] = (),
           chain_anchors: Sequence[ChainAnchor] = ()) -> Report:
    """Everything, read only. ``anchors`` are checked when signed by a key of
    ``trusted_key_ids`` (the caller parsed them and checked whose they are); the heads kept in
    the database that such a key signed help name the first difference."""
    report = Report()
    trusted = set(trusted_key_ids)
    kept = [Anchor(head, f"signed head kept in the database (#{number})", required=False)
            for number, head in enumerate(heads.stored_heads(session), 1)
            if head["key_id"] in trusted]
    every = [anchor for anchor in [*anchors, *kept] if _signature_ok(anchor, report)]
    _verify_entries(session, report)
    roots, entry_at = _verify_chain(session, report, every, chain_anchors)
    _verify_anchors(report, every, roots, entry_at)
    _verify_accounts(session, report, [anchor for anchor in every if anchor.required])
    _verify_balances(session, report)
    _verify_totals(session, report)
    _verify_running_balances(session, report)
    return report


def _verify_entries(session: Session, report: Report) -> None:
    """Every entry, queued or sealed, balances and hashes to its content. On a large journal
    the hashing runs in worker processes while this one reads the next batches."""
    pool = _hashing_pool(session)
    pending: deque = deque()

    def collect(result) -> None:
        count, problems = result
        report.entries += count
        report.problems.extend(Problem(what, entry_id) for what, entry_id in problems)

    try:
        for batch in _entry_batches(session):
            if pool is None:
                collect(_check_entries(batch))
                continue
            pending.append(pool.apply_async(_check_entries, (batch,)))
            while len(pending) > MAX_BATCHES_IN_FLIGHT:
                collect(pending.popleft().get())
        while pending:
            collect(pending.popleft().get())
    finally:
        if pool is not None:
            pool.terminate()


def _hashing_pool(session: Session):
    processes = min(os.cpu_count() or 1, MAX_HASHING_PROCESSES)
    if processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    total = session.scalar(select(func.count()).select_from(Entry))
    if total < PARALLEL_FROM_ENTRIES:
        return None
    # Forked before any batch is read: the workers only hash, never touch the database.
    return multiprocessing.get_context("fork").Pool(processes)


def _moment(session: Session, column):
    """A timestamp column as PostgreSQL's driver gives it (aware already), so a read of
    millions of rows skips ``UtcDateTime``'s conversion of each; SQLite's need it."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(column, DateTime(timezone=True)).label(column.key)
    return column


def _entry_batches(session: Session):
    after_id = 0
    raw = session.get_bind().dialect.name == "postgresql"
    columns = [getattr(Entry, name) for name in rules.CONTENT_FIELDS]
    if raw:
        columns = [type_coerce(column, DateTime(timezone=True))
                   if name in ("created_at", "expires_at") else column
                   for name, column in zip(rules.CONTENT_FIELDS, columns, strict=True)]
    while True:
        entries = session.connection().execute(
            select(Entry.id, Entry.hash, *columns)
            .where(Entry.id > after_id).order_by(Entry.id).limit(VERIFY_BATCH_ENTRIES)
        ).all()
        if not entries:
            return
        postings = defaultdict(list)
        for entry_id, code, unit, amount in session.connection().execute(
            select(Posting.entry_id, Account.code, Posting.unit, Posting.amount)
            .join(Account, Account.id == Posting.account_id)
            .where(Posting.entry_id.between(entries[0][0], entries[-1][0]))
        ):
            postings[entry_id].append((code, amount, unit))
        yield [(tuple(entry), postings.get(entry[0], [])) for entry in entries]
        after_id = entries[-1][0]


def _check_entries(batch) -> tuple[int, list[tuple[str, int]]]:
    """(how many, [(problem, entry id)]) for a batch of (entry row, postings); runs in a
    worker process on a large journal."""
    problems = []
    for entry, raw_postings in batch:
        entry_id, entry_hash, *values = entry
        fields = dict(zip(rules.CONTENT_FIELDS, values, strict=True))
        postings = [rules.Posting(code, amount, unit) for code, amount, unit in raw_postings]
        if fields["status"] == "voided":
            if postings:
                problems.append(("a voiding entry has postings", entry_id))
        else:
            try:
                rules.check_balanced(postings)
            except rules.InvalidEntry as error:
                problems.append((f"does not balance: {error.message}", entry_id))
        if rules.content_hash(fields, postings) != entry_hash:
            problems.append(("content does not match its hash", entry_id))
    return len(batch), problems


def _signature_ok(anchor: Anchor, report: Report) -> bool:
    if heads.signature_checks(anchor.head):
        return True
    report.problems.append(Problem(f"{anchor.label}: its signature does not check"))
    return False


def _verify_chain(session: Session, report: Report, anchors: Sequence[Anchor],
                  chain_anchors: Sequence[ChainAnchor]) -> tuple[dict, dict]:
    """The chain link by link, the Merkle tree recomputed leaf by leaf beside it; answers the
    recomputed root at each anchor's size and the entry just after each."""
    prev_hash, expected_seq = rules.GENESIS_HASH, 1
    sizes = {0} | {anchor.head["tree_size"] for anchor in anchors}
    links_wanted = {anchor.seq: anchor for anchor in chain_anchors}
    roots = {0: merkle.EMPTY_ROOT}
    entry_at: dict[int, int] = {}
    tree = merkle.Builder()
    hashes = (
        select(ChainLink.seq, ChainLink.entry_id, ChainLink.prev_hash, ChainLink.hash,
               Entry.hash.label("entry_hash"))
        .outerjoin(Entry, Entry.id == ChainLink.entry_id)
    )
    links = session.connection().execute(hashes.order_by(ChainLink.seq))
    for link in links.yield_per(VERIFY_BATCH_ENTRIES):
        if link.seq != expected_seq:
            report.problems.append(Problem(f"chain link {expected_seq} is missing", link.entry_id))
        if tree.size in sizes:
            entry_at[tree.size] = link.entry_id
        if link.entry_hash is None:
            report.problems.append(Problem("chained entry is missing", link.entry_id))
            tree.add(merkle.leaf_hash(b""))
        else:
            if (link.prev_hash != prev_hash
                    or rules.chain_link(prev_hash, link.entry_id, link.entry_hash) != link.hash):
                report.problems.append(Problem("hash chain broken", link.entry_id))
            tree.add(merkle.entry_leaf(link.entry_id, link.entry_hash))
        if tree.size in sizes:
            roots[tree.size] = tree.root()
        chain_anchor = links_wanted.get(link.seq)
        if chain_anchor is not None and chain_anchor.hash != link.hash:
            report.problems.append(Problem(
                f"chain link {link.seq} is {link.hash}, {chain_anchor.label} recorded "
                f"{chain_anchor.hash}", link.entry_id))
        prev_hash, expected_seq = link.hash, link.seq + 1
        report.sealed += 1
    for seq, chain_anchor in links_wanted.items():
        if seq > report.sealed:
            report.problems.append(Problem(
                f"{chain_anchor.label} recorded chain link {seq}; the chain has {report.sealed}"))
    try:
        stored_root = merkle.root(report.sealed, heads.fetcher(session))
    except LookupError as error:
        report.problems.append(Problem(f"the Merkle tree: {error}"))
    else:
        if stored_root != tree.root():
            report.problems.append(Problem(
                "the Merkle tree's stored nodes do not fold to the root of the sealed entries"))
    head = session.execute(select(ChainHead.seq, ChainHead.hash)).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        report.problems.append(Problem("the chain's head does not match its last link"))
    unsealed, oldest = session.execute(
        select(func.count(), func.min(Entry.created_at))
        .select_from(UnsealedEntry).outerjoin(Entry, Entry.id == UnsealedEntry.entry_id)
    ).one()
    report.queued, report.oldest_queued_at = unsealed, oldest
    for entry_id in session.scalars(
            select(UnsealedEntry.entry_id).join(ChainLink,
                                                ChainLink.entry_id == UnsealedEntry.entry_id)):
        report.problems.append(Problem("queued for sealing but already chained", entry_id))
    if report.sealed + unsealed != report.entries:
        report.problems.append(
            Problem(f"{report.entries} entries but {report.sealed} sealed and {unsealed} queued")
        )
    return roots, entry_at


def _verify_anchors(report: Report, anchors: Sequence[Anchor], roots: dict,
                    entry_at: dict) -> None:
    def agrees(anchor: Anchor) -> bool:
        size = anchor.head["tree_size"]
        return size in roots and roots[size].hex() == anchor.head["root_hash"].lower()

    agreeing = {0} | {anchor.head["tree_size"] for anchor in anchors if agrees(anchor)}
    for anchor in sorted(anchors, key=lambda anchor: anchor.head["tree_size"]):
        if not anchor.required:
            continue
        report.anchors += 1
        size = anchor.head["tree_size"]
        if agrees(anchor):
            continue
        below = max(s for s in agreeing if s < size)
        report.problems.append(_first_difference(report, anchor, below, anchors, entry_at,
                                                 agrees))


def _first_difference(report: Report, anchor: Anchor, below: int, anchors: Sequence[Anchor],
                      entry_at: dict, agrees) -> Problem:
    """Name the first entry that no signed head vouches for: the one after the ``below``
    entries that still agree with one. When a signed head ends right there, it names the
    entry that stood at that place when it was signed."""
    size = anchor.head["tree_size"]
    what = f"the log is not consistent with {anchor.label} of {size} entries"
    if size > report.sealed:
        what += f" (it has {report.sealed} sealed)"
    what += f": the first {below} agree with a signed head"
    now_there = entry_at.get(below)
    signed_there = next((other.head["entry_id"] for other in anchors
                         if other.head["tree_size"] == below + 1 and not agrees(other)
                         and other.head["entry_id"] is not None), None)
    if signed_there is not None:
        if signed_there == now_there:
            return Problem(f"{what}, this entry is not as it was signed", signed_there)
        return Problem(f"{what}, this entry came next when signed and is gone or moved "
                       f"(entry {now_there} stands there now)", signed_there)
    if now_there is None:
        return Problem(f"{what}, and the rest is gone")
    return Problem(f"{what}, this entry is the first that none vouches for", now_there)


def _verify_accounts(session: Session, report: Report, anchors: Sequence[Anchor]) -> None:
    """The accounts' fixed fields (code, unit, kind, no_overdraft) must hash to what each
    anchor signed for the accounts it covered. Heads signed before they committed to the
    accounts are skipped."""
    for anchor in anchors:
        digest = anchor.head.get("accounts_digest")
        if digest is None:
            continue
        through = anchor.head["accounts_through"]
        _, lines = heads.account_lines(session, through)
        if heads.accounts_digest(lines) == digest.lower():
            continue
        if anchor.accounts_manifest is None:
            report.problems.append(Problem(
                f"an account's fixed fields (code, unit, kind, no_overdraft) changed since "
                f"{anchor.label} was signed: the accounts up to id {through} no longer hash to "
                f"its accounts_digest (keep its accounts manifest beside it to name them)"))
            continue
        now_by_code = {line.split("|", 1)[0]: line for line in lines}
        then_by_code = {line.split("|", 1)[0]: line for line in anchor.accounts_manifest}
        for code in sorted(now_by_code.keys() | then_by_code.keys()):
            now_line, then_line = now_by_code.get(code), then_by_code.get(code)
            if now_line == then_line:
                continue
            report.problems.append(Problem(
                f"its fixed fields (code|unit|kind|no_overdraft) are {_fields(now_line)}, "
                f"{anchor.label} signed {_fields(then_line)}", account=code))


def _fields(line: str | None) -> str:
    return "absent" if line is None else line.split("|", 1)[1]


def derived_balances(session: Session) -> dict[int, tuple[int, int, int]]:
    """Each account's (posted, pending in, pending out) as its postings say."""
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
    return {account_id: (posted.get(account_id, 0), *pending.get(account_id, (0, 0)))
            for account_id in set(posted) | set(pending)}


def _verify_balances(session: Session, report: Report) -> None:
    derived_all = derived_balances(session)
    for account in session.execute(select(Account)).scalars():
        cached = (account.posted, account.pending_in, account.pending_out)
        derived = derived_all.get(account.id, (0, 0, 0))
        if cached != derived:
            report.problems.append(Problem(
                f"cached balances (posted, pending in, pending out) {cached} differ from "
                f"its postings {derived}", account=account.code))
        if account.no_overdraft and account.available < 0:
            report.problems.append(Problem(f"no-overdraft account is at {account.available}",
                                           account=account.code))


def derived_totals(session: Session) -> dict[tuple, list]:
    """Per (account id, year, kind): [credited, debited, last credit standing], as the
    postings say (what ``ledger_account_totals`` must hold)."""
    expected: dict[tuple, list] = defaultdict(lambda: [0, 0, None])
    reversed_ids = set(session.scalars(
        select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))))
    reversed_entry = aliased(Entry)
    rows = session.connection().execute(
        select(Posting.account_id, Posting.amount, Entry.id, Entry.kind,
               _moment(session, Entry.created_at), reversed_entry.kind,
               _moment(session, reversed_entry.created_at))
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
    return dict(expected)


def _verify_totals(session: Session, report: Report) -> None:
    expected = derived_totals(session)
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
    rows = session.connection().execute(
        select(Posting.account_id, Posting.entry_id, Posting.amount, Posting.posted_after,
               _moment(session, Posting.created_at), Entry.status,
               _moment(session, Entry.created_at).label("entry_created_at"))
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
        if row.created_at != row.entry_created_at:  # aware moments: equal when one instant
            report.problems.append(Problem("a posting's moment differs from its entry's",
                                           row.entry_id))
