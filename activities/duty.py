"""Party members' yearly duty (双报到): 在职党员 serve at least 4 times and 12 hours a year in
their community, 居住地党员 at least 2 times and 4 hours. Counted from the approved
service-hours record, per calendar year in China time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.clock import now
from ledger.rules import year_bounds
from volunteers import access, areas
from volunteers.errors import Invalid
from volunteers.models import Area, User

from .common import ORGANISER_ROLES, get_or_404
from .models import PARTY_STATUSES, Activity, Attendance, VolunteerProfile

# status: (times, minutes) a year
DUTY = {"in_service": (4, 12 * 60), "resident": (2, 4 * 60)}
MAX_REPORT_ROWS = 5_000


def party_status(session: Session, user_id: int) -> str:
    profile = session.get(VolunteerProfile, user_id)
    return profile.party_status if profile else "none"


def set_party_status(session: Session, actor: User, user_id: int, status: str) -> VolunteerProfile:
    if status not in PARTY_STATUSES:
        raise Invalid("unknown party status", errors={"party_status": [str(PARTY_STATUSES)]})
    user = get_or_404(session, User, user_id, "user")
    access.require(actor, ORGANISER_ROLES, user.area)
    profile = session.get(VolunteerProfile, user.id)
    if profile is None:
        profile = VolunteerProfile(user_id=user.id)
        session.add(profile)
    profile.party_status, profile.updated_at = status, now()
    session.flush()
    return profile


@dataclass
class DutyRow:
    user: User
    party_status: str
    times: int
    minutes: int
    required_times: int
    required_minutes: int

    @property
    def short(self) -> bool:
        return self.times < self.required_times or self.minutes < self.required_minutes

    @property
    def missing_times(self) -> int:
        return max(0, self.required_times - self.times)

    @property
    def missing_minutes(self) -> int:
        return max(0, self.required_minutes - self.minutes)


def duty_report(session: Session, actor: User, area_code: str, year: int,
                only_short: bool = False) -> list[DutyRow]:
    area = areas.get_area(session, area_code)
    access.require(actor, ORGANISER_ROLES, area)
    start, end = year_bounds(year)
    served = (
        select(Attendance.user_id,
               func.count(Attendance.id).label("times"),
               func.coalesce(func.sum(Attendance.approved_minutes), 0).label("minutes"))
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Attendance.status == "approved", Attendance.approved_minutes > 0,
               Activity.starts_at >= start, Activity.starts_at < end)
        .group_by(Attendance.user_id).subquery()
    )
    rows = session.execute(
        select(User, VolunteerProfile.party_status, served.c.times, served.c.minutes)
        .join(VolunteerProfile, VolunteerProfile.user_id == User.id)
        .join(Area, Area.id == User.area_id)
        .outerjoin(served, served.c.user_id == User.id)
        .where(VolunteerProfile.party_status.in_(tuple(DUTY)),
               Area.path.startswith(area.path, autoescape=True))
        .order_by(Area.path, User.id).limit(MAX_REPORT_ROWS)
    ).all()
    report = []
    for user, status, times, minutes in rows:
        required_times, required_minutes = DUTY[status]
        row = DutyRow(user, status, times or 0, int(minutes or 0), required_times,
                      required_minutes)
        if row.short or not only_short:
            report.append(row)
    return report
