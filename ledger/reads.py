"""Reading the ledger: balances now and at a moment, statements, the journal, yearly totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from . import errors, rules
from .models import Account, AccountTotal, Entry, Posting

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Balance:
    code: str
    unit: str
    posted: int
    pending_in: int
    pending_out: int

    @property
    def pending(self) -> int:
        return self.pending_in - self.pending_out

    @property
    def available(self) -> int:
        return self.posted - self.pending_out


@dataclass(frozen=True)
class StatementLine:
    posting_id: int
    entry_id: int
    kind: str
    status: str
    reference: str | None
    memo: str | None
    created_at: datetime
    amount: int
    posted_after: int | None


# Built once: a Core statement run on the session's connection skips the ORM's per-call
# work (building, cache-key and ORM result set-up), about three quarters of a balance read's
# time in Python (docs/benchmarks.md, 2026-12-07). The columns are the ledger's own, written
# only by its Core statements and stored functions, so the ORM's autoflush has nothing to
# add; ``_flushed`` still flushes first, as an ORM query would.
_BALANCE = select(Account.code, Account.unit, Account.posted, Account.pending_in,
                  Account.pending_out).where(Account.code == bindparam("code"))
_BALANCES = select(Account.code, Account.unit, Account.posted, Account.pending_in,
                   Account.pending_out).where(Account.code.in_(bindparam("codes", expanding=True)))


# Past every posting id (a BIGINT): the first page is "before" it.
_NO_POSTING_YET = 2**63 - 1
_STATEMENT_PAGE = (
    select(Posting.id, Posting.entry_id, Entry.kind, Entry.status, Entry.reference,
           Entry.memo, Entry.created_at, Posting.amount, Posting.posted_after)
    .join(Entry, Entry.id == Posting.entry_id)
    .where(Posting.account_id == select(Account.id).where(Account.code == bindparam("code"))
           .scalar_subquery(),
           Posting.id < bindparam("before"))
    .order_by(Posting.id.desc())
    .limit(bindparam("page_size"))
)


def _flushed(session: Session):
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def balance(session: Session, code: str) -> Balance:
    """One indexed row read: the balances are cached on the account."""
    row = _flushed(session).execute(_BALANCE, {"code": code}).first()
    if row is None:
        raise errors.UnknownAccount(f"no account {code}", account=code)
    return Balance(*row)


def balances(session: Session, codes) -> dict[str, Balance]:
    rows = _flushed(session).execute(_BALANCES, {"codes": list(codes)})
    return {row.code: Balance(*row) for row in rows}


def balance_at(session: Session, code: str, moment: datetime) -> int:
    """The posted balance as it stood at ``moment``: the running balance of the account's
    last posting made by then (an index seek, not a sum over the journal)."""
    moment = rules.as_utc(moment)
    last_posted_after = (
        select(Posting.posted_after)
        .where(Posting.account_id == Account.id, Posting.created_at <= moment,
               Posting.posted_after.is_not(None))
        .order_by(Posting.created_at.desc(), Posting.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    # One round trip: the account and its last running balance by then.
    row = session.execute(select(Account.id, last_posted_after).where(Account.code == code)).first()
    if row is None:
        raise errors.UnknownAccount(f"no account {code}", account=code)
    return row[1] or 0


def statement(
    session: Session, code: str, *, before_posting_id: int | None = None, page_size: int = 50
) -> list[StatementLine]:
    """The account's postings, newest first; page on with the last line's ``posting_id``."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    # Keyset pagination on the (account_id, id) index: a page costs the same at any depth.
    # One round trip finds the account and its page; an empty page asks whether it exists.
    rows = _flushed(session).execute(_STATEMENT_PAGE, {
        "code": code, "before": _NO_POSTING_YET if before_posting_id is None
        else before_posting_id, "page_size": page_size})
    lines = [StatementLine(*row) for row in rows]
    if not lines:
        _account_id(session, code)  # raises UnknownAccount when there is no such account
    return lines


def entries(
    session: Session,
    *,
    account: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    page_size: int = 50,
) -> list[Entry]:
    """The journal, newest first, with postings; filters narrow it."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    query = select(Entry).order_by(Entry.id.desc()).limit(page_size)
    if account is not None:
        account_id = _account_id(session, account)
        query = query.where(
            Entry.id.in_(select(Posting.entry_id).where(Posting.account_id == account_id))
        )
    if kind is not None:
        query = query.where(Entry.kind == kind)
    if since is not None:
        query = query.where(Entry.created_at >= rules.as_utc(since))
    if before_id is not None:
        query = query.where(Entry.id < before_id)
    return list(session.scalars(query))


def get_entry(session: Session, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise errors.UnknownEntry(f"no entry {entry_id}", entry_id=entry_id)
    return entry


def yearly_totals(
    session: Session, codes, year: int, kinds
) -> dict[str, int]:
    """What each account received in ``year`` through entries of ``kinds``, net of reversals."""
    rows = session.execute(
        select(Account.code, func.sum(AccountTotal.credited))
        .join(AccountTotal, AccountTotal.account_id == Account.id)
        .where(Account.code.in_(list(codes)), AccountTotal.year == year,
               AccountTotal.kind.in_(list(kinds)))
        .group_by(Account.code)
    )
    return {code: int(total) for code, total in rows}


def _account_id(session: Session, code: str) -> int:
    account_id = session.scalar(select(Account.id).where(Account.code == code))
    if account_id is None:
        raise errors.UnknownAccount(f"no account {code}", account=code)
    return account_id
