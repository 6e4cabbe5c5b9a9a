"""Several funds per programme (丰行侠: 社治激励资金 + 扫黄打非奖励资金 + 见义勇为 and
平安城市 funds).

Each source is an account of its own, ``programme:P:fund:CODE`` (CNY, no overdraft); the
programme's original ``programme:P:fund`` stays as the general source (code ``general``,
unearmarked, drawn on last). Funding names its source.

The rule for every CNY that leaves a programme (``choose``): the sources whose earmarks name
the purpose (``cash_out``, ``settlement``, ``ranking_bonus``) first, then the unearmarked
ones, each group in the administrator's order (``priority``, then code), then the general
fund; a source past its last day or earmarked for other purposes is never drawn on. One
source pays each sum whole (the entry's posting names it); when none can, the answer is
``fund_exhausted`` naming the first source the rule would draw on. A programme without
sources pays from its general fund as before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from ledger import Account, PostingRow
from ledger.clock import CHINA, now

from . import access
from .errors import DomainError, Invalid
from .models import FundSource, Programme, User
from .programmes import get_programme

GENERAL = "general"
PURPOSES = ("cash_out", "settlement", "ranking_bonus")
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_TEXT = 120
MAX_SOURCES = 50
MAX_MONTHS = 24


class FundExhausted(DomainError):
    """No fund source of the programme may pay this sum."""

    code = "fund_exhausted"
    status = 409


@dataclass(frozen=True)
class SourceView:
    code: str
    name: str
    sponsor: str
    account: str
    earmarks: dict | None
    ends_on: date | None
    priority: int
    balance_fen: int


def sources_of(session: Session, programme: Programme) -> list[FundSource]:
    return list(session.scalars(select(FundSource).where(
        FundSource.programme_id == programme.id).order_by(FundSource.priority, FundSource.code)))


def create_source(session: Session, actor: User, programme_code: str, *, code: str, name: str,
                  sponsor: str, earmarks: dict | None = None, ends_on: date | None = None,
                  priority: int | None = None) -> FundSource:
    programme = get_programme(session, programme_code)
    access.require(actor, ("admin",), programme.area)
    name, sponsor = (name or "").strip(), (sponsor or "").strip()
    problems = {}
    if not CODE_PATTERN.match(code or "") or code == GENERAL:
        problems["code"] = ["lowercase letters, digits, - and _ (not 'general')"]
    if not 0 < len(name) <= MAX_TEXT:
        problems["name"] = [f"1 to {MAX_TEXT} characters"]
    if not 0 < len(sponsor) <= MAX_TEXT:
        problems["sponsor"] = [f"1 to {MAX_TEXT} characters"]
    kinds = list((earmarks or {}).get("kinds") or [])
    if set(kinds) - set(PURPOSES) or set(earmarks or {}) - {"kinds"}:
        problems["earmarks"] = [f"{{kinds: [...]}} of {', '.join(PURPOSES)}"]
    existing = sources_of(session, programme)
    if any(source.code == code for source in existing):
        problems["code"] = ["taken in this programme"]
    if len(existing) >= MAX_SOURCES:
        problems["code"] = [f"at most {MAX_SOURCES} sources"]
    if priority is not None and (isinstance(priority, bool) or not 0 <= priority <= 1000):
        problems["priority"] = ["0 to 1000"]
    if problems:
        raise Invalid("the fund source is not valid", errors=problems)
    source = FundSource(
        programme_id=programme.id, code=code, name=name, sponsor=sponsor,
        earmarks={"kinds": kinds} if kinds else None, ends_on=ends_on,
        priority=priority if priority is not None else len(existing) + 1, created_at=now(),
        created_by_id=actor.id)
    session.add(source)
    session.flush()
    ledger.open_account(session, source.account, "CNY", "asset", no_overdraft=True,
                        owner_type="programme", owner_id=programme.id)
    return source


def get_source(session: Session, programme: Programme, code: str) -> FundSource | None:
    return session.scalar(select(FundSource).where(FundSource.programme_id == programme.id,
                                                   FundSource.code == code))


def account_for_funding(session: Session, programme: Programme, code: str | None) -> str:
    """The account a funding of ``code`` goes to (the general fund when None)."""
    if not code or code == GENERAL:
        return programme.account("fund")
    source = get_source(session, programme, code)
    if source is None:
        raise Invalid(f"programme {programme.code} has no fund source {code}",
                      errors={"fund_source": ["a source of this programme"]})
    return source.account


def _today() -> date:
    return now().astimezone(CHINA).date()


def _order(session: Session, programme: Programme, purpose: str) -> list[str]:
    """The accounts the rule draws on for ``purpose``, in order."""
    today = _today()
    marked, open_ = [], []
    for source in sources_of(session, programme):
        if source.ends_on is not None and source.ends_on < today:
            continue
        kinds = (source.earmarks or {}).get("kinds") or []
        if kinds:
            if purpose in kinds:
                marked.append(source.account)
        else:
            open_.append(source.account)
    return marked + open_ + [programme.account("fund")]


def choose(session: Session, programme: Programme, amount_fen: int, purpose: str) -> str:
    """The source account that pays ``amount_fen`` for ``purpose`` by the stated rule."""
    order = _order(session, programme, purpose)
    if len(order) == 1:
        return order[0]  # no sources: the general fund, refused by the ledger if short
    balances = ledger.balances(session, order)
    for code in order:
        if balances[code].available >= amount_fen:
            return code
    first = order[0]
    raise FundExhausted(
        f"no fund source of {programme.code} can pay {amount_fen} fen for {purpose} "
        f"(first by the rule: {first}, holding {balances[first].available})",
        fund_source=first, purpose=purpose, needed_fen=amount_fen,
        available_fen=max(b.available for b in balances.values()))


def best_available(session: Session, programme: Programme, purpose: str) -> int:
    """The largest sum one source may pay for ``purpose`` now."""
    balances = ledger.balances(session, _order(session, programme, purpose))
    return max(balance.available for balance in balances.values())


def overview(session: Session, actor: User, programme_code: str) -> list[SourceView]:
    """Every source with its balance, the general fund last (admins of the area)."""
    programme = get_programme(session, programme_code)
    access.require(actor, ("admin",), programme.area)
    sources = sources_of(session, programme)
    balances = ledger.balances(session, [s.account for s in sources]
                               + [programme.account("fund")])
    views = [SourceView(s.code, s.name, s.sponsor, s.account, s.earmarks, s.ends_on,
                        s.priority, balances[s.account].posted) for s in sources]
    views.append(SourceView(GENERAL, programme.name, "", programme.account("fund"), None, None,
                            10_000, balances[programme.account("fund")].posted))
    return views


def monthly(session: Session, accounts: list[str]) -> dict[str, list[dict]]:
    """Per account, money in and out by month (China time), newest first, and by entry kind
    what it paid for."""
    rows = session.execute(
        select(Account.code, PostingRow.created_at, PostingRow.amount, ledger.Entry.kind)
        .join(Account, Account.id == PostingRow.account_id)
        .join(ledger.Entry, ledger.Entry.id == PostingRow.entry_id)
        .where(Account.code.in_(accounts)))
    found: dict[str, dict[str, dict]] = defaultdict(dict)
    for code, moment, amount, kind in rows:
        month = ledger.rules.as_utc(moment).astimezone(CHINA).strftime("%Y-%m")
        line = found[code].setdefault(month, {"month": month, "in_fen": 0, "out_fen": 0,
                                              "paid_for": defaultdict(int)})
        if amount > 0:
            line["in_fen"] += amount
        else:
            line["out_fen"] -= amount
            line["paid_for"][kind] -= amount
    return {code: [dict(line, paid_for=dict(line["paid_for"]))
                   for _, line in sorted(found[code].items(), reverse=True)][:MAX_MONTHS]
            for code in accounts}


def spent_by_source(session: Session, programme: Programme) -> dict[str, int]:
    """What each source paid out in all (for the dashboard)."""
    codes = [s.account for s in sources_of(session, programme)] + [programme.account("fund")]
    return dict(session.execute(
        select(Account.code, func.coalesce(-func.sum(PostingRow.amount), 0))
        .join(Account, Account.id == PostingRow.account_id)
        .where(Account.code.in_(codes), PostingRow.amount < 0).group_by(Account.code)).all())
