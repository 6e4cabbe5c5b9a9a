"""Service hours in the honours: the dashboard's hours section, the hours leaderboard and the
star projects. Registered into ``volunteers`` when this package is imported (``volunteers``
never imports ``activities``). Hours count approved attendances, dated by the activity's
start, as the official record does (``hours.hours_record``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from honours import dashboard, leaderboards, stars
from honours.dashboard import Table
from ledger.rules import year_bounds
from volunteers.models import Area, Programme, User

from .models import Activity, Attendance

MINUTES_PER_HOUR = 60
DEFAULT_PROJECT_CRITERIA = {"count": 5, "min_minutes": 60}


def _approved():
    return (select().select_from(Attendance)
            .join(Activity, Activity.id == Attendance.activity_id)
            .where(Attendance.status == "approved", Attendance.approved_minutes > 0))


def hours_by_month(session: Session, programme: Programme, area: Area, year: int) -> Table:
    """Approved service hours of the programme's activities held in the area, per month: the
    hours, the volunteers served and the activities held."""
    start, end = year_bounds(year)
    month = dashboard.month_of(session, Activity.starts_at)
    query = (_approved()
             .add_columns(month, func.sum(Attendance.approved_minutes),
                          func.count(distinct(Attendance.user_id)),
                          func.count(distinct(Activity.id)))
             .join(Area, Area.id == Activity.area_id)
             .where(Activity.programme_id == programme.id, Activity.starts_at >= start,
                    Activity.starts_at < end, Area.path.startswith(area.path, autoescape=True))
             .group_by(month))
    figures = {label: (int(minutes or 0), int(people), int(held))
               for label, minutes, people, held in session.execute(query)}
    rows = []
    for label in dashboard.month_labels(year):
        minutes, people, held = figures.get(label, (0, 0, 0))
        rows.append([label, round(minutes / MINUTES_PER_HOUR, 1), people, held])
    return Table("hours", "Service hours by month",
                 [("month", "Month"), ("hours", "Hours served"),
                  ("volunteers", "Volunteers served"), ("activities", "Activities held")],
                 rows, chart=["hours", "volunteers"], unit="hours")


def approved_minutes(session: Session, programme: Programme, area: Area, period: str,
                     kinds=None, moment: datetime | None = None) -> dict[int, int]:
    """Volunteer id -> approved minutes of the programme's activities that started in the
    period, for active volunteers of ``area`` (the leaderboard's ``hours`` metric)."""
    start, end = leaderboards.period_bounds(period, moment)
    total = func.sum(Attendance.approved_minutes)
    query = (_approved()
             .add_columns(Attendance.user_id, total)
             .join(User, User.id == Attendance.user_id).join(Area, Area.id == User.area_id)
             .where(Activity.programme_id == programme.id, Activity.starts_at >= start,
                    Activity.starts_at < end, User.active.is_(True),
                    Area.path.startswith(area.path, autoescape=True))
             .group_by(Attendance.user_id).having(total > 0))
    return {user_id: int(minutes) for user_id, minutes in session.execute(query)}


def project_candidates(session: Session, programme: Programme, year: int,
                       criteria: dict) -> list[tuple[int, str, int]]:
    """Star projects: the programme's activities by the volunteer minutes approved for them
    in the year."""
    start, end = year_bounds(year)
    total = func.sum(Attendance.approved_minutes)
    query = (_approved()
             .add_columns(Activity.id, Activity.title, total)
             .where(Activity.programme_id == programme.id, Activity.starts_at >= start,
                    Activity.starts_at < end)
             .group_by(Activity.id, Activity.title))
    least = criteria.get("min_minutes", DEFAULT_PROJECT_CRITERIA["min_minutes"])
    return [(activity_id, title, int(minutes))
            for activity_id, title, minutes in session.execute(query)
            if int(minutes or 0) >= least]


def register() -> None:
    dashboard.register_section(hours_by_month)
    leaderboards.METRICS["hours"] = approved_minutes
    stars.register_source("project", project_candidates, "minutes_served",
                          DEFAULT_PROJECT_CRITERIA)


register()
