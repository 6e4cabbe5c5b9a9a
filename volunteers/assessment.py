"""How well reports are handled: per department and urgency class the on-time rate, the
closure rate and the average handling time; the monthly operation report; category x area
hotspots. Every figure is one grouped query over indexed columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from . import access, areas
from .models import Area, User
from .report_models import URGENCIES, Category, CategoryGroup, Department, Report

CHINA = ZoneInfo("Asia/Shanghai")
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
    return Report.area_path.startswith(area.path, autoescape=True)


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


def status_totals(session: Session, area: Area, since: datetime, until: datetime) -> dict:
    rows = session.execute(
        select(Report.status, func.count(Report.id), func.sum(Report.points_awarded),
               func.sum(case((Report.duplicate_of_id.is_not(None), 1), else_=0)))
        .where(Report.created_at >= since, Report.created_at < until, in_scope(area))
        .group_by(Report.status)).all()
    totals = {status: count for status, count, _points, _dupes in rows}
    totals["all"] = sum(totals.values())
    totals["duplicates"] = sum(int(dupes or 0) for *_rest, dupes in rows)
    totals["points"] = sum(int(points or 0) for _s, _c, points, _d in rows)
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


def group_counts(session: Session, area: Area, since: datetime,
                 until: datetime) -> list[tuple[str, int]]:
    rows = session.execute(
        select(CategoryGroup.name, func.count(Report.id))
        .join(Category, Report.category_id == Category.id)
        .join(CategoryGroup, Category.group_id == CategoryGroup.id)
        .where(Report.created_at >= since, Report.created_at < until, in_scope(area))
        .group_by(CategoryGroup.name).order_by(func.count(Report.id).desc())).all()
    return [(name, count) for name, count in rows]


def hotspots(session: Session, area: Area, since: datetime,
             until: datetime) -> list[tuple[str, str, int]]:
    """(category, area one level below the scope, count), most reports first. Reports are
    grouped by their own area in SQL, then folded onto the scope's children."""
    rows = session.execute(
        select(Category.name, Report.area_id, func.count(Report.id))
        .join(Category, Report.category_id == Category.id)
        .where(Report.created_at >= since, Report.created_at < until, in_scope(area))
        .group_by(Category.name, Report.area_id)).all()
    names = child_names(session, area)
    folded: dict[tuple[str, str], int] = {}
    for category, area_id, count in rows:
        key = (category, names.get(area_id, area.name))
        folded[key] = folded.get(key, 0) + count
    ordered = sorted(folded.items(), key=lambda item: (-item[1], item[0]))
    return [(category, place, count) for (category, place), count in ordered][:MAX_HOTSPOT_ROWS]


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
    totals = status_totals(session, area, since, until)
    return MonthlyReport(
        area=area, month=month, totals=totals, points_awarded=totals.pop("points"),
        daily=daily_counts(session, area, since, until),
        by_group=group_counts(session, area, since, until),
        departments=department_figures(session, area, since, until),
        hotspots=hotspots(session, area, since, until),
    )
