"""Signing up and cancelling. The seat count is taken by one conditional UPDATE, so the last
seat goes to exactly one volunteer however many ask at once (PostgreSQL re-checks the
condition on the locked row; SQLite writers are serialised by BEGIN IMMEDIATE)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger.clock import now
from volunteers.models import User

from .common import require_volunteer_in
from .errors import ActivityClosed, ActivityFull, AlreadySignedUp, NotSignedUp
from .models import Activity, Attendance, Signup
from .planning import get_activity


def sign_up(session: Session, actor: User, activity_id: int) -> Signup:
    activity = get_activity(session, activity_id)
    require_volunteer_in(actor, activity.programme)
    if activity.status != "open" or activity.ends_at <= now():
        raise ActivityClosed(f"activity {activity_id} is closed for sign-up")
    signup = find_signup(session, activity_id, actor.id)
    if signup is not None and signup.status == "signed_up":
        raise AlreadySignedUp(f"already signed up to activity {activity_id}")
    _take_seat(session, activity)
    if signup is None:
        signup = Signup(activity_id=activity.id, user_id=actor.id, status="signed_up",
                        created_at=now())
        session.add(signup)
    else:
        signup.status, signup.created_at, signup.cancelled_at = "signed_up", now(), None
    session.flush()
    return signup


def cancel_signup(session: Session, actor: User, activity_id: int) -> Signup:
    activity = get_activity(session, activity_id)
    signup = find_signup(session, activity_id, actor.id)
    if signup is None or signup.status != "signed_up":
        raise NotSignedUp(f"not signed up to activity {activity_id}")
    if session.scalar(select(Attendance.id).where(Attendance.activity_id == activity_id,
                                                  Attendance.user_id == actor.id)):
        raise ActivityClosed("you have already checked in to this activity")
    changed = session.execute(
        update(Signup).where(Signup.id == signup.id, Signup.status == "signed_up")
        .values(status="cancelled", cancelled_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise NotSignedUp(f"not signed up to activity {activity_id}")
    session.execute(
        update(Activity).where(Activity.id == activity.id, Activity.signed_up_count > 0)
        .values(signed_up_count=Activity.signed_up_count - 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(activity)
    session.expire(signup)
    session.flush()
    return signup


def _take_seat(session: Session, activity: Activity) -> None:
    taken = session.execute(
        update(Activity)
        .where(Activity.id == activity.id, Activity.signed_up_count < Activity.capacity)
        .values(signed_up_count=Activity.signed_up_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(activity, ["signed_up_count"])
    if taken != 1:
        raise ActivityFull(f"activity {activity.id} is full", capacity=activity.capacity)


def find_signup(session: Session, activity_id: int, user_id: int) -> Signup | None:
    return session.scalar(select(Signup).where(Signup.activity_id == activity_id,
                                               Signup.user_id == user_id))


def signups_of(session: Session, activity_id: int) -> list[Signup]:
    return list(session.scalars(select(Signup).where(Signup.activity_id == activity_id,
                                                     Signup.status == "signed_up")
                                .order_by(Signup.id)))


def my_signups(session: Session, user_id: int) -> dict[int, Signup]:
    rows = session.scalars(select(Signup).where(Signup.user_id == user_id,
                                                Signup.status == "signed_up"))
    return {row.activity_id: row for row in rows}
