"""How well reports are handled: per department and urgency class the on-time rate, the
closure rate and the average handling time; the monthly operation report; category x area
hotspots. Three grouped scans of the month: by status, category and area (totals, groups and
hotspots fold from it), by day, and by department and urgency."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ledger.clock import CHINA
from volunteers import access, areas
from volunteers.models import Area, User

from .models import URGENCIES, Category, CategoryGroup, Department, Report, in_area

SECONDS_PER_DAY = 86_400
STAFF_ROLES = ("reviewer", "admin")
MAX_HOTSPOT_ROWS = 50


@dataclass(frozen=True)
class DepartmentFigures:
    department: str
    urgency: str
    dispatched: int
    resolved: int
    on_time: int
    closed: int
    average_handling_days: float | None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.resolved if self.resolved else None

    @property
    def closure_rate(self) -> float | None:
        return self.resolved / self.dispatched if self.dispatched else None


@dataclass
class MonthlyReport:
    area: Area
    month: date
    totals: dict[str, int] = field(default_factory=dict)
    points_awarded: int = 0
    daily: list[tuple[date, int]] = field(default_factory=list)
    by_group: list[tuple[str, int]] = field(default_factory=list)
    departments: list[DepartmentFigures] = field(default_factory=list)
    hotspots: list[tuple[str, str, int]] = field(default_factory=list)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month in China time, as UTC moments."""
    start = datetime(month.year, month.month, 1, tzinfo=CHINA)
    following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=CHINA)
    return start.astimezone(UTC), following.astimezone(UTC)


def scope(session: Session, actor: User, area_code: str | None) -> Area:
    """The area asked for, which the actor must be staff of; else the actor's widest one."""
    if area_code:
        area = areas.get_area(session, area_code)
        access.require(actor, STAFF_ROLES, area)
        return area
    access.require(actor, STAFF_ROLES)
    return min(access.staff_areas(actor, STAFF_ROLES), key=lambda area: len(area.path))


def in_scope(area: Area):
    return in_area(area.path)


def department_figures(session: Session, area: Area, since: datetime,
                       until: datetime) -> list[DepartmentFigures]:
    resolved = Report.resolved_at.is_not(None)
    rows = session.execute(
        select(Department.name, Category.urgency, func.count(Report.id),
               func.sum(case((resolved, 1), else_=0)),
               func.sum(case((Report.resolved_on_time.is_(True), 1), else_=0)),
               func.sum(case((Report.status == "closed", 1), else_=0)),
               func.avg(Report.handling_seconds))
        .join(Department, Report.department_id == Department.id)
        .join(Category, Report.category_id == Category.id)
        .where(Report.dispatched_at >= since, Report.dispatched_at < until, in_scope(area))
        .group_by(Department.name, Category.urgency)).all()
    figures = [DepartmentFigures(name, urgency, count, int(done or 0), int(on_time or 0),
                                 int(closed or 0),
                                 None if seconds is None else float(seconds) / SECONDS_PER_DAY)
               for name, urgency, count, done, on_time, closed, seconds in rows]
    return sorted(figures, key=lambda f: (f.department, URGENCIES.index(f.urgency)))


@dataclass(frozen=True)
class Cell:
    """Reports of one status, category and area in the month: the one grouped scan that the
    totals, the category groups and the hotspots are all folded from."""

    status: str
    category_id: int
    area_id: int
    count: int
    points: int
    duplicates: int


def month_cells(session: Session, area: Area, since: datetime, until: datetime) -> list[Cell]:
    rows = session.execute(
        select(Report.status, Report.category_id, Report.area_id, func.count(Report.id),
               func.sum(Report.points_awarded),
               func.sum(case((Report.duplicate_of_id.is_not(None), 1), else_=0)))
        .where(Report.created_at >= since, Report.created_at < until, in_scope(area))
        .group_by(Report.status, Report.category_id, Report.area_id)).all()
    return [Cell(status, category_id, area_id, count, int(points or 0), int(dupes or 0))
            for status, category_id, area_id, count, points, dupes in rows]


def status_totals(cells: list[Cell]) -> dict:
    totals: dict[str, int] = {}
    for cell in cells:
        totals[cell.status] = totals.get(cell.status, 0) + cell.count
    totals["all"] = sum(cell.count for cell in cells)
    totals["duplicates"] = sum(cell.duplicates for cell in cells)
    totals["points"] = sum(cell.points for cell in cells)
    return totals


def local_day(session: Session):
    """The China-time calendar day of a report, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", Report.created_at))
    return func.date(Report.created_at, "+8 hours")


def daily_counts(session: Session, area: Area, since: datetime,
                 until: datetime) -> list[tuple[date, int]]:
    day = local_day(session).label("day")
    rows = session.execute(
        select(day, func.count(Report.id))
        .where(Report.created_at >= since, Report.created_at < until, in_scope(area))
        .group_by(day)).all()
    counted = {str(day_value)[:10]: count for day_value, count in rows}
    first = since.astimezone(CHINA).date()
    days = (until.astimezone(CHINA).date() - first).days
    return [(first + timedelta(days=n), counted.get(str(first + timedelta(days=n)), 0))
            for n in range(days)]


def group_counts(names: dict[int, tuple[str, str]], cells: list[Cell]) -> list[tuple[str, int]]:
    counted: dict[str, int] = {}
    for cell in cells:
        group = names[cell.category_id][1]
        counted[group] = counted.get(group, 0) + cell.count
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))


def hotspots(session: Session, area: Area, names: dict[int, tuple[str, str]],
             cells: list[Cell]) -> list[tuple[str, str, int]]:
    """(category, area one level below the scope, count), most reports first."""
    categories, places = names, child_names(session, area)
    folded: dict[tuple[str, str], int] = {}
    for cell in cells:
        key = (categories[cell.category_id][0], places.get(cell.area_id, area.name))
        folded[key] = folded.get(key, 0) + cell.count
    ordered = sorted(folded.items(), key=lambda item: (-item[1], item[0]))
    return [(category, place, count) for (category, place), count in ordered][:MAX_HOTSPOT_ROWS]


def category_names(session: Session) -> dict[int, tuple[str, str]]:
    rows = session.execute(select(Category.id, Category.name, CategoryGroup.name)
                           .join(CategoryGroup, Category.group_id == CategoryGroup.id)).all()
    return {category_id: (name, group) for category_id, name, group in rows}


def child_names(session: Session, area: Area) -> dict[int, str]:
    """Each area of the subtree mapped to the name of the scope's child it lies in."""
    tree = areas.subtree(session, area)
    children = {a.code: a.name for a in tree if a.parent_id == area.id}
    names = {}
    for member in tree:
        codes = areas.ancestry(member)
        depth = len(areas.ancestry(area))
        child = codes[depth] if len(codes) > depth else None
        names[member.id] = children.get(child, area.name)
    return names


def monthly_report(session: Session, actor: User, area_code: str | None,
                   month: date) -> MonthlyReport:
    area = scope(session, actor, area_code)
    since, until = month_bounds(month)
    cells = month_cells(session, area, since, until)
    totals, names = status_totals(cells), category_names(session)
    return MonthlyReport(
        area=area, month=month, totals=totals, points_awarded=totals.pop("points"),
        daily=daily_counts(session, area, since, until),
        by_group=group_counts(names, cells),
        departments=department_figures(session, area, since, until),
        hotspots=hotspots(session, area, names, cells),
    )
