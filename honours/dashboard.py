"""The administrators' dashboard: per programme, area and year, a list of sections, each a
table by month or by category (and the chart drawn from it). The points, fund and activity
sections read the ledger (entry kinds, accounts and postings); the report sections read the
reports, the hours section the approved attendances.

Sections are plain functions ``(session, programme, area, year) -> Table`` in ``SECTIONS``;
incident reports (by category and status, and by month, with the on-time rate) register with
``register_section(function)`` from ``reports``, service hours from ``activities`` (this
package imports neither).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

import ledger
from ledger import Account, Entry, PostingRow
from volunteers import access, areas, fund_sources
from volunteers.errors import Invalid
from volunteers.models import STAFF_ROLES, Area, Programme, User
from volunteers.programmes import get_programme

from . import ranking

MONTHS = 12
# Wallet debits by what the points went to (kinds of the spending flows, DESIGN section 3).
SPENT_KINDS = ("voucher_redeem", "hold_post")
DONATED_KINDS = ("donation",)
EXPIRED_KINDS = ("expiry",)
CASHED_OUT_KINDS = ("cash_out",)
DASHBOARD_ROLES = ("admin",)


@dataclass
class Table:
    """A section: ``columns`` are (key, English title) pairs, the web layer translates the
    titles; ``rows`` hold one list per month (or per category), the first cell its label;
    ``chart`` names the columns to draw; a cell may be None (nothing to measure)."""

    key: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[list] = field(default_factory=list)
    chart: list[str] = field(default_factory=list)
    unit: str = "points"  # points, fen, people, reports or hours


def month_of(session: Session, column):
    """'YYYY-MM' of a moment in China time, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


def month_labels(year: int) -> list[str]:
    return [f"{year}-{month:02d}" for month in range(1, MONTHS + 1)]


def _in_area(query, area: Area):
    return (query.join(User, User.id == Account.owner_id).join(Area, Area.id == User.area_id)
            .where(Account.owner_type == "volunteer", Account.unit == "POINT",
                   Area.path.startswith(area.path, autoescape=True)))


def year_range(year: int):
    return ranking.year_bounds(year)


def points_flows(session: Session, programme: Programme, area: Area, year: int) -> Table:
    """Points issued to, and spent, donated, expired, cashed out or reversed from the wallets
    of the area's volunteers, per month."""
    kinds = ranking.current_config(session, programme)["counting_kinds"]
    start, end = year_range(year)
    month = month_of(session, Entry.created_at)
    credit = PostingRow.amount > 0  # one expression object: PostgreSQL matches it in GROUP BY
    query = _in_area(
        select(month, Entry.kind, credit, func.sum(PostingRow.amount))
        .select_from(PostingRow).join(Entry, Entry.id == PostingRow.entry_id)
        .join(Account, Account.id == PostingRow.account_id)
        .where(Entry.created_at >= start, Entry.created_at < end, Entry.status == "posted"),
        area).group_by(month, Entry.kind, credit)
    columns = [("month", "Month"), ("issued", "Issued"), ("spent", "Spent"),
               ("donated", "Donated"), ("expired", "Expired"), ("cashed_out", "Cashed out"),
               ("reversed", "Reversed")]
    by_month = {label: dict.fromkeys([c for c, _ in columns[1:]], 0)
                for label in month_labels(year)}
    for label, kind, credit, total in session.execute(query):
        cells = by_month.get(label)
        if cells is None:
            continue
        total = int(total)
        if credit and kind in kinds:
            cells["issued"] += total
        elif not credit and kind in SPENT_KINDS:
            cells["spent"] -= total
        elif not credit and kind in DONATED_KINDS:
            cells["donated"] -= total
        elif not credit and kind in EXPIRED_KINDS:
            cells["expired"] -= total
        elif not credit and kind in CASHED_OUT_KINDS:
            cells["cashed_out"] -= total
        elif kind == "reversal":
            cells["reversed"] -= total
    rows = [[label] + [cells[c] for c, _ in columns[1:]] for label, cells in by_month.items()]
    return Table("points", "Points by month", columns, rows,
                 chart=["issued", "spent", "donated", "expired", "cashed_out"])


def fund_flows(session: Session, programme: Programme, area: Area, year: int) -> Table:
    """Money into and out of the programme's fund, per month, in fen."""
    start, end = year_range(year)
    month = month_of(session, Entry.created_at)
    incoming = PostingRow.amount > 0
    query = (select(month, incoming, func.sum(PostingRow.amount))
             .select_from(PostingRow).join(Entry, Entry.id == PostingRow.entry_id)
             .join(Account, Account.id == PostingRow.account_id)
             .where(Account.code == programme.account("fund"), Entry.created_at >= start,
                    Entry.created_at < end, Entry.status == "posted")
             .group_by(month, incoming))
    by_month = {label: [0, 0] for label in month_labels(year)}
    for label, incoming, total in session.execute(query):
        if label in by_month:
            by_month[label][0 if incoming else 1] += abs(int(total))
    rows = [[label, money_in, money_out, money_in - money_out]
            for label, (money_in, money_out) in by_month.items()]
    return Table("fund", "The fund's money in and out",
                 [("month", "Month"), ("in_fen", "Money in"), ("out_fen", "Money out"),
                  ("net_fen", "Net")], rows, chart=["in_fen", "out_fen"], unit="fen")


def fund_sources_in_year(session: Session, programme: Programme, area: Area,
                         year: int) -> Table:
    """Each fund source of the programme (the general fund last): money in and out in the
    year and its balance now, in fen."""
    start, end = year_range(year)
    named = [(s.account, f"{s.name} ({s.code})") for s in fund_sources.sources_of(
        session, programme)] + [(programme.account("fund"), f"{programme.name} (general)")]
    incoming = PostingRow.amount > 0
    sums = {(code, flag): abs(int(total)) for code, flag, total in session.execute(
        select(Account.code, incoming, func.sum(PostingRow.amount))
        .select_from(PostingRow).join(Entry, Entry.id == PostingRow.entry_id)
        .join(Account, Account.id == PostingRow.account_id)
        .where(Account.code.in_([code for code, _ in named]), Entry.created_at >= start,
               Entry.created_at < end, Entry.status == "posted")
        .group_by(Account.code, incoming))}
    balances = ledger.balances(session, [code for code, _ in named])
    rows = [[label, sums.get((code, True), 0), sums.get((code, False), 0),
             balances[code].posted] for code, label in named]
    return Table("fund_sources", "Fund sources",
                 [("source", "Fund source"), ("in_fen", "Money in"), ("out_fen", "Money out"),
                  ("balance_fen", "Balance")], rows, chart=["in_fen", "out_fen"], unit="fen")


def active_volunteers(session: Session, programme: Programme, area: Area, year: int) -> Table:
    """Volunteers of the area who earned points in the month."""
    kinds = ranking.current_config(session, programme)["counting_kinds"]
    start, end = year_range(year)
    month = month_of(session, Entry.created_at)
    query = _in_area(
        select(month, func.count(distinct(Account.id)))
        .select_from(PostingRow).join(Entry, Entry.id == PostingRow.entry_id)
        .join(Account, Account.id == PostingRow.account_id)
        .where(Entry.created_at >= start, Entry.created_at < end, Entry.status == "posted",
               Entry.kind.in_(kinds), PostingRow.amount > 0), area).group_by(month)
    counts = dict(session.execute(query).all())
    rows = [[label, int(counts.get(label, 0))] for label in month_labels(year)]
    return Table("active", "Active volunteers", [("month", "Month"), ("active", "Active")],
                 rows, chart=["active"], unit="people")


SECTIONS: list[Callable[[Session, Programme, Area, int], Table]] = [
    points_flows, fund_flows, fund_sources_in_year, active_volunteers,
]
# Where a registered section stands, whichever package happens to be imported first.
SECTION_PLACES = {name: place for place, name in enumerate((
    "points_flows", "fund_flows", "fund_sources_in_year", "active_volunteers",
    "reports_by_category", "reports_by_month", "hours_by_month"))}


def register_section(section: Callable[[Session, Programme, Area, int], Table]) -> None:
    """Add a section (reports by category and status, service hours ...) once, in the order
    of ``SECTION_PLACES`` (an unlisted one goes last)."""
    if section not in SECTIONS:
        SECTIONS.append(section)
        SECTIONS.sort(key=lambda known: SECTION_PLACES.get(known.__name__, len(SECTION_PLACES)))


def build(session: Session, actor: User, code: str, year: int,
          area_code: str | None = None) -> tuple[Programme, Area, list[Table]]:
    programme = get_programme(session, code)
    area = areas.get_area(session, area_code) if area_code else programme.area
    if not programme.area.contains(area) and not area.contains(programme.area):
        raise Invalid(f"area {area.code} is outside the programme",
                      errors={"area": [f"within {programme.area.code}"]})
    access.require(actor, DASHBOARD_ROLES, area)
    ranking.check_year(programme, year)
    return programme, area, [section(session, programme, area, year) for section in SECTIONS]


def visible_programmes(session: Session, actor: User) -> list[Programme]:
    return [p for p in session.scalars(select(Programme).order_by(Programme.code))
            if access.overlaps(actor, STAFF_ROLES, p.area) and access.holds(actor, ("admin",))]
