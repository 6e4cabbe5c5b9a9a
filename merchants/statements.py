"""A merchant's statement: vouchers redeemed and points accepted per day or month, in China
time (Asia/Shanghai), from the redemption rows."""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import CHINA, now
from ledger.spreadsheet import safe_row
from volunteers.errors import Invalid
from volunteers.models import User

from . import offers
from .models import Redemption

DEFAULT_DAYS = 30
MAX_DAYS = 731
MAX_REDEMPTIONS_READ = 200_000


@dataclass
class StatementRow:
    period: str
    vouchers: int = 0
    points: int = 0


@dataclass
class Statement:
    merchant_id: int
    by: str
    since: date
    until: date
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def total_vouchers(self) -> int:
        return sum(row.vouchers for row in self.rows)

    @property
    def total_points(self) -> int:
        return sum(row.points for row in self.rows)


def china_today() -> date:
    return now().astimezone(CHINA).date()


def day_start(day: date) -> datetime:
    """Midnight in China, as a UTC moment."""
    return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC)


def merchant_statement(session: Session, actor: User, merchant_id: int, *, by: str = "day",
                       since: date | None = None, until: date | None = None) -> Statement:
    merchant = offers.get_merchant(session, merchant_id)
    offers.require_staff_or_admin(session, actor, merchant)
    if by not in ("day", "month"):
        raise Invalid("by day or by month", errors={"by": ["day or month"]})
    until = until or china_today()
    since = since or (until - timedelta(days=DEFAULT_DAYS - 1))
    if since > until or (until - since).days >= MAX_DAYS:
        raise Invalid("bad date range",
                      errors={"since": [f"before until, at most {MAX_DAYS} days"]})
    rows = session.execute(
        select(Redemption.redeemed_at, Redemption.price_points)
        .where(Redemption.merchant_id == merchant_id,
               Redemption.redeemed_at >= day_start(since),
               Redemption.redeemed_at < day_start(until + timedelta(days=1)))
        .order_by(Redemption.redeemed_at).limit(MAX_REDEMPTIONS_READ)
    ).all()
    periods: OrderedDict[str, StatementRow] = OrderedDict()
    for label in _labels(since, until, by):
        periods[label] = StatementRow(label)
    for redeemed_at, price_points in rows:
        local = redeemed_at.astimezone(CHINA)
        label = local.strftime("%Y-%m-%d" if by == "day" else "%Y-%m")
        row = periods[label]
        row.vouchers += 1
        row.points += price_points
    return Statement(merchant_id, by, since, until, list(periods.values()))


def _labels(since: date, until: date, by: str):
    day = since
    seen = set()
    while day <= until:
        label = day.isoformat() if by == "day" else day.strftime("%Y-%m")
        if label not in seen:
            seen.add(label)
            yield label
        day += timedelta(days=1)


def as_csv(statement: Statement) -> str:
    """The statement as CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["period", "vouchers_redeemed", "points_accepted"])
    for row in statement.rows:
        writer.writerow(safe_row([row.period, row.vouchers, row.points]))
    writer.writerow(["total", statement.total_vouchers, statement.total_points])
    return "\ufeff" + buffer.getvalue()
