"""Activities: organisers create them on their areas; volunteers browse those their
programme covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.clock import CHINA, now
from ledger.rules import as_utc
from volunteers import access, areas
from volunteers.errors import Invalid
from volunteers.models import Area, Programme, User

from . import catalogue
from .common import ORGANISER_ROLES, get_or_404, visible_area_clause
from .models import Activity

MAX_CAPACITY = 10_000
MAX_ACTIVITY_MINUTES = 24 * 60
MAX_RADIUS_M = 50_000
MAX_LIST = 200


@dataclass
class ActivityDraft:
    title: str
    category: str
    area: str
    programme: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    max_minutes: int | None = None
    description: str = ""
    lat: float | None = None
    lng: float | None = None
    checkin_radius_m: int | None = None
    team_id: int | None = None


def create_activity(session: Session, actor: User, draft: ActivityDraft) -> Activity:
    area = areas.get_area(session, draft.area)
    access.require(actor, ORGANISER_ROLES, area)
    programme = session.scalar(select(Programme).where(Programme.code == draft.programme))
    if programme is None or not programme.area.contains(area):
        raise Invalid("the programme does not cover this area",
                      errors={"programme": ["a programme covering the activity's area"]})
    starts_at, ends_at = as_utc(draft.starts_at), as_utc(draft.ends_at)
    _check_times(starts_at, ends_at)
    if not 1 <= draft.capacity <= MAX_CAPACITY:
        raise Invalid("bad capacity", errors={"capacity": [f"1 to {MAX_CAPACITY}"]})
    duration = int((ends_at - starts_at).total_seconds() // 60)
    max_minutes = draft.max_minutes or duration
    if not 1 <= max_minutes <= MAX_ACTIVITY_MINUTES:
        raise Invalid("bad hours cap", errors={"max_minutes": [f"1 to {MAX_ACTIVITY_MINUTES}"]})
    _check_place(draft)
    activity = Activity(
        title=draft.title.strip(), description=(draft.description or "").strip(),
        category=catalogue.get_category(session, draft.category), area=area,
        programme=programme, organiser_id=actor.id, team_id=_team_id(session, draft.team_id),
        venue=draft.venue.strip(), lat=draft.lat, lng=draft.lng,
        checkin_radius_m=draft.checkin_radius_m, starts_at=starts_at, ends_at=ends_at,
        capacity=draft.capacity, signed_up_count=0, max_minutes=max_minutes, status="open",
        created_at=now(),
    )
    session.add(activity)
    session.flush()
    return activity


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise Invalid("the end comes before the start", errors={"ends_at": ["after starts_at"]})
    if ends_at - starts_at > timedelta(minutes=MAX_ACTIVITY_MINUTES):
        raise Invalid("an activity lasts at most a day", errors={"ends_at": ["within 24 hours"]})


def _check_place(draft: ActivityDraft) -> None:
    if (draft.lat is None) != (draft.lng is None):
        raise Invalid("give both lat and lng", errors={"lat": ["with lng"], "lng": ["with lat"]})
    if draft.lat is not None and not (-90 <= draft.lat <= 90 and -180 <= draft.lng <= 180):
        raise Invalid("bad coordinates", errors={"lat": ["-90 to 90"], "lng": ["-180 to 180"]})
    if draft.checkin_radius_m is not None:
        if draft.lat is None:
            raise Invalid("a check-in radius needs the venue's lat and lng",
                          errors={"checkin_radius_m": ["needs lat and lng"]})
        if not 10 <= draft.checkin_radius_m <= MAX_RADIUS_M:
            raise Invalid("bad radius", errors={"checkin_radius_m": [f"10 to {MAX_RADIUS_M}"]})


def _team_id(session: Session, team_id: int | None) -> int | None:
    if team_id is None:
        return None
    from volunteers.teams import Team

    return get_or_404(session, Team, team_id, "team").id


def get_activity(session: Session, activity_id: int) -> Activity:
    return get_or_404(session, Activity, activity_id, "activity")


def require_organiser(actor: User | None, activity: Activity) -> None:
    access.require(actor, ORGANISER_ROLES, activity.area)


def visible_activities(session: Session, actor: User, *, upcoming_only: bool = False,
                       limit: int = MAX_LIST) -> list[Activity]:
    """Staff see their areas' activities; a volunteer those of the programmes covering them."""
    programme_area = aliased(Area)
    query = (select(Activity).join(Area, Area.id == Activity.area_id)
             .join(Programme, Programme.id == Activity.programme_id)
             .join(programme_area, programme_area.id == Programme.area_id)
             .where(visible_area_clause(actor, Area.path, programme_area.path,
                                        ORGANISER_ROLES + ("reviewer",))))
    if upcoming_only:
        query = query.where(Activity.ends_at > now(), Activity.status == "open")
        query = query.order_by(Activity.starts_at, Activity.id)
    else:
        query = query.order_by(Activity.starts_at.desc(), Activity.id.desc())
    return list(session.scalars(query.limit(min(limit, MAX_LIST))))


def _can_see(actor: User, activity: Activity) -> bool:
    if access.overlaps(actor, ORGANISER_ROLES + ("reviewer",), activity.area):
        return True
    return access.holds(actor, ("volunteer",)) and activity.programme.area.contains(actor.area)


def require_visible(actor: User, activity: Activity) -> None:
    if not _can_see(actor, activity):
        from volunteers.errors import NotInYourArea

        raise NotInYourArea("this activity is outside your area", area=activity.area.code)


def cancel_activity(session: Session, actor: User, activity_id: int, reason: str) -> Activity:
    """The organiser calls an activity off; everyone signed up is told why. Approved hours of
    an activity cannot be undone this way (amend them instead)."""
    from sqlalchemy import update

    from volunteers.notifications import N_, notify

    from .common import clean_reason
    from .errors import ActivityClosed
    from .models import Attendance, Signup

    activity = get_activity(session, activity_id)
    require_organiser(actor, activity)
    reason = clean_reason(reason)
    if session.scalar(select(Attendance.id).where(Attendance.activity_id == activity.id,
                                                  Attendance.status == "approved").limit(1)):
        raise ActivityClosed("hours of this activity are approved: it took place")
    changed = session.execute(
        update(Activity).where(Activity.id == activity.id, Activity.status == "open")
        .values(status="cancelled").execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise ActivityClosed(f"activity {activity.id} is already cancelled")
    session.refresh(activity)
    when = activity.starts_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    for user_id in session.scalars(select(Signup.user_id).where(
            Signup.activity_id == activity.id, Signup.status == "signed_up")):
        notify(session, user_id,
               N_("The activity \"%(title)s\" on %(when)s is cancelled: %(reason)s"),
               {"title": activity.title, "when": when, "reason": reason},
               link=f"/activities/{activity.id}", reference=f"activity:{activity.id}")
    session.flush()
    return activity
