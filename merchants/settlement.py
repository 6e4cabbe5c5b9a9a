"""Paying merchants money for the points they accepted.

A programme sets a rate in fen per point, for all its merchants or for one. A settlement run
for a month (China time) takes, per merchant, every redemption up to that month's end not yet
settled and posts one entry, balanced per unit:

    programme:P:fund  -amount_fen CNY   ->  merchant:M:cash   +amount_fen CNY
    merchant:M:accepted  -points POINT  ->  world:points      +points POINT

so the merchant's cash account says what the programme owes it, and its accepted account
what is still unsettled. Idempotent per merchant and month: the entry's key and the unique
(merchant, period) row make a second run (or a racing one) add nothing. An administrator marks
a settlement paid once the bank transfer is made: ``merchant:M:cash -> world:cny``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import ledger
from ledger import Posting
from ledger.clock import CHINA, now
from volunteers import access, audit, fund_sources, programmes
from volunteers.errors import Conflict, Invalid, NotFound
from volunteers.models import Programme, User

from . import offers
from .models import SETTLEMENT_STATUSES, Merchant, Redemption, Settlement, SettlementRate
from .statements import day_start

PERIOD_PATTERN = re.compile(r"^(20\d{2})-(0[1-9]|1[0-2])$")  # 2000-01 to 2099-12
MAX_FEN_PER_POINT = 10_000
MAX_REDEMPTIONS_PER_SETTLEMENT = 100_000
MAX_SETTLEMENTS_LISTED = 200
ADMIN = ("admin",)


def set_rate(session: Session, actor: User, programme_code: str, fen_per_point: int,
             merchant_id: int | None = None) -> SettlementRate:
    """The programme's rate for one merchant, or its default for all of them."""
    programme = programmes.get_programme(session, programme_code)
    access.require(actor, ADMIN, programme.area)
    if not isinstance(fen_per_point, int) or not 0 < fen_per_point <= MAX_FEN_PER_POINT:
        raise Invalid("bad rate", errors={"fen_per_point": [f"1 to {MAX_FEN_PER_POINT}"]})
    if merchant_id is not None:
        merchant = offers.get_merchant(session, merchant_id)
        if merchant.programme_id != programme.id:
            raise Invalid("the merchant is in another programme",
                          errors={"merchant_id": ["not in this programme"]})
    rate = session.scalar(select(SettlementRate).where(
        SettlementRate.programme_id == programme.id, _same_merchant(merchant_id)))
    before = None if rate is None else {"fen_per_point": rate.fen_per_point}
    if rate is None:
        rate = SettlementRate(programme_id=programme.id, merchant_id=merchant_id,
                              fen_per_point=fen_per_point, created_at=now())
        session.add(rate)
    rate.fen_per_point = fen_per_point
    session.flush()
    if before != {"fen_per_point": fen_per_point}:
        subject = f"programme:{programme.code}" + (
            f":merchant:{merchant_id}" if merchant_id is not None else "")
        audit.record(session, actor, "settlement_rate.set", subject, before,
                     {"fen_per_point": fen_per_point}, area=programme.area)
    return rate


def _same_merchant(merchant_id: int | None):
    if merchant_id is None:
        return SettlementRate.merchant_id.is_(None)
    return SettlementRate.merchant_id == merchant_id


def rate_for(session: Session, merchant: Merchant) -> int | None:
    """Fen per point for this merchant: its own rate, else its programme's, else none."""
    rates = dict(session.execute(
        select(SettlementRate.merchant_id, SettlementRate.fen_per_point).where(
            SettlementRate.programme_id == merchant.programme_id,
            (SettlementRate.merchant_id == merchant.id) | SettlementRate.merchant_id.is_(None)))
        .all())
    return rates.get(merchant.id, rates.get(None))


def period_end(period: str) -> datetime:
    """The first moment after the month, China time, in UTC."""
    match = PERIOD_PATTERN.match(period or "")
    if match is None:
        raise Invalid("a period is a month, YYYY-MM", errors={"period": ["YYYY-MM"]})
    year, month = int(match.group(1)), int(match.group(2))
    following = date(year + month // 12, month % 12 + 1, 1)
    return day_start(following)


def previous_period(moment: datetime | None = None) -> str:
    local = (moment or now()).astimezone(CHINA)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@dataclass(frozen=True)
class Outcome:
    merchant_id: int
    merchant_name: str
    settlement: Settlement | None
    created: bool
    problem: str | None = None


def settle(session: Session, actor: User | None, period: str, *,
           programme_code: str | None = None) -> list[Outcome]:
    """Settle every merchant (of one programme, or all) with a rate for ``period``, a month
    that has ended. ``actor`` None is the system (the CLI)."""
    end = period_end(period)
    if end > now():
        raise Invalid(f"{period} has not ended yet", errors={"period": ["a month that has ended"]})
    query = select(Merchant).order_by(Merchant.id)
    if programme_code is not None:
        query = query.join(Programme, Programme.id == Merchant.programme_id).where(
            Programme.code == programmes.get_programme(session, programme_code).code)
    outcomes = []
    for merchant in session.scalars(query).unique():
        if actor is not None and not access.holds(actor, ADMIN, merchant.programme.area):
            continue
        outcomes.append(_settle_merchant(session, actor, merchant, period, end))
    return [outcome for outcome in outcomes if outcome is not None]


def _settle_merchant(session: Session, actor: User | None, merchant: Merchant, period: str,
                     end: datetime) -> Outcome | None:
    existing = session.scalar(select(Settlement).where(
        Settlement.merchant_id == merchant.id, Settlement.period == period))
    if existing is not None:
        return Outcome(merchant.id, merchant.name, existing, False)
    rate = rate_for(session, merchant)
    unsettled = session.execute(
        select(Redemption.id, Redemption.price_points).where(
            Redemption.merchant_id == merchant.id, Redemption.settlement_id.is_(None),
            Redemption.redeemed_at < end).order_by(Redemption.id)
        .limit(MAX_REDEMPTIONS_PER_SETTLEMENT)).all()
    if not unsettled:
        return None
    if rate is None:
        return Outcome(merchant.id, merchant.name, None, False, "no settlement rate")
    points = sum(price for _id, price in unsettled)
    amount_fen = points * rate
    programme = merchant.programme
    try:
        with session.begin_nested():
            paying = fund_sources.choose(session, programme, amount_fen, "settlement")
            result = ledger.post(
                session, idempotency_key=f"settlement:{merchant.id}:{period}", kind="settlement",
                postings=[Posting(paying, -amount_fen, "CNY"),
                          Posting(merchant.cash_account, amount_fen, "CNY"),
                          Posting(merchant.accepted_account, -points, "POINT"),
                          Posting("world:points", points, "POINT")],
                reference=f"merchant:{merchant.id}", memo=f"{merchant.name} {period}",
                actor=actor.username if actor else "system")
            settlement = Settlement(
                programme_id=programme.id, merchant_id=merchant.id, period=period,
                redemptions=len(unsettled), points=points, fen_per_point=rate,
                amount_fen=amount_fen, status="posted", entry_id=result.entry_id,
                created_at=now(), created_by=actor.username if actor else "system")
            session.add(settlement)
            session.flush()
            session.execute(
                update(Redemption).where(Redemption.id.in_([row[0] for row in unsettled]),
                                         Redemption.settlement_id.is_(None))
                .values(settlement_id=settlement.id)
                .execution_options(synchronize_session=False))
    except (ledger.InsufficientFunds, fund_sources.FundExhausted):
        return Outcome(merchant.id, merchant.name, None, False,
                       f"the programme's fund cannot cover {amount_fen} fen")
    return Outcome(merchant.id, merchant.name, settlement, True)


def mark_paid(session: Session, actor: User, settlement_id: int,
              payment_reference: str | None = None) -> Settlement:
    """The money reached the merchant: ``merchant:M:cash -> world:cny``, once."""
    settlement = session.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound(f"no settlement {settlement_id}", settlement_id=settlement_id)
    access.require(actor, ADMIN, settlement.programme.area)
    if settlement.status == "paid":
        raise Conflict(f"settlement {settlement_id} is already paid")
    result = ledger.post(
        session, idempotency_key=f"settlement:{settlement.id}:paid", kind="settlement",
        postings=[Posting(settlement.merchant.cash_account, -settlement.amount_fen, "CNY"),
                  Posting("world:cny", settlement.amount_fen, "CNY")],
        reference=f"settlement:{settlement.id}", memo=(payment_reference or "")[:200] or None,
        actor=actor.username)
    changed = session.execute(
        update(Settlement).where(Settlement.id == settlement.id, Settlement.status == "posted")
        .values(status="paid", paid_at=now(), paid_by_id=actor.id, paid_entry_id=result.entry_id,
                payment_reference=payment_reference)
        .execution_options(synchronize_session=False)).rowcount
    session.expire(settlement)
    if not changed:
        raise Conflict(f"settlement {settlement_id} is already paid")
    return settlement


@dataclass(frozen=True)
class RateSheet:
    """A programme's default rate (None when unset) and its merchants' own rates."""

    programme: Programme
    fen_per_point: int | None
    merchant_rates: list[tuple[Merchant, int]]


def rate_sheet(session: Session, actor: User, programme_code: str) -> RateSheet:
    """The programme's settlement rates, for administrators of its area."""
    programme = programmes.get_programme(session, programme_code)
    access.require(actor, ADMIN, programme.area)
    rows = session.execute(
        select(SettlementRate.merchant_id, SettlementRate.fen_per_point)
        .where(SettlementRate.programme_id == programme.id)
        .order_by(SettlementRate.merchant_id)).all()
    default = next((rate for merchant_id, rate in rows if merchant_id is None), None)
    own = [(offers.get_merchant(session, merchant_id), rate)
           for merchant_id, rate in rows if merchant_id is not None]
    return RateSheet(programme, default, own)


def settle_programme(session: Session, actor: User, programme_code: str,
                     period: str) -> list[Outcome]:
    """``settle`` for one programme, refused outright (not silently empty) to anyone but an
    administrator of the programme's area."""
    programme = programmes.get_programme(session, programme_code)
    access.require(actor, ADMIN, programme.area)
    return settle(session, actor, period, programme_code=programme.code)


def get_settlement(session: Session, actor: User, settlement_id: int) -> Settlement:
    settlement = session.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound(f"no settlement {settlement_id}", settlement_id=settlement_id)
    access.require(actor, ADMIN, settlement.programme.area)
    return settlement


def find_settlements(session: Session, actor: User, *, programme_code: str | None = None,
                     period: str | None = None, status: str | None = None,
                     limit: int = MAX_SETTLEMENTS_LISTED) -> list[Settlement]:
    """Settlements of the programmes whose area the actor administers, newest first; naming
    a programme outside those is refused."""
    if period is not None:
        period_end(period)
    if status is not None and status not in SETTLEMENT_STATUSES:
        raise Invalid("bad status", errors={"status": [", ".join(SETTLEMENT_STATUSES)]})
    if programme_code is not None:
        programme = programmes.get_programme(session, programme_code)
        access.require(actor, ADMIN, programme.area)
        programme_ids = [programme.id]
    else:
        access.require(actor, ADMIN)
        programme_ids = [p.id for p in session.scalars(select(Programme))
                         if access.holds(actor, ADMIN, p.area)]
    query = (select(Settlement).where(Settlement.programme_id.in_(programme_ids))
             .order_by(Settlement.id.desc()).limit(min(limit, MAX_SETTLEMENTS_LISTED)))
    if period is not None:
        query = query.where(Settlement.period == period)
    if status is not None:
        query = query.where(Settlement.status == status)
    return list(session.scalars(query))


def settlements(session: Session, actor: User, *, limit: int = 200) -> list[Settlement]:
    rows = session.scalars(select(Settlement).order_by(Settlement.id.desc()).limit(limit)).all()
    return [s for s in rows if access.holds(actor, ADMIN, s.programme.area)
            or offers.is_staff(session, actor, s.merchant_id)]


def unsettled_points(session: Session, merchant_id: int) -> int:
    return session.scalar(select(func.coalesce(func.sum(Redemption.price_points), 0)).where(
        Redemption.merchant_id == merchant_id, Redemption.settlement_id.is_(None))) or 0
