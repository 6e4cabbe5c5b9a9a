"""Service hours: the organiser approves them in bulk (or with adjusted minutes and a
reason), the programme pays points at its hourly rate, and the approved minutes become the
official volunteer record (民政部令第67号). That record lives here, apart from the ledger:
spending points never touches it, and it changes only through an ``HoursAmendment``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ledger.clock import now
from ledger.rules import year_bounds
from volunteers import access, programmes
from volunteers.errors import Invalid, NotFound
from volunteers.models import User

from . import catalogue
from .common import ORGANISER_ROLES, clean_reason, get_or_404
from .errors import HoursAlreadyApproved, HoursNotReady
from .models import Activity, Attendance, HoursAmendment
from .planning import get_activity, require_organiser

MINUTES_PER_HOUR = 60
MAX_BULK = 500


def counted_minutes(attendance: Attendance) -> int | None:
    """Check-out minus check-in in whole minutes, capped by the activity; None before
    check-out."""
    if attendance.checked_out_at is None:
        return None
    seconds = (attendance.checked_out_at - attendance.checked_in_at).total_seconds()
    return max(0, min(attendance.activity.max_minutes, int(seconds // 60)))


def points_for(minutes: int, points_per_hour: int) -> int:
    return minutes * points_per_hour // MINUTES_PER_HOUR


@dataclass
class Adjustment:
    minutes: int
    reason: str


@dataclass
class Approval:
    activity: Activity
    approved: list[Attendance] = field(default_factory=list)


def approve(session: Session, actor: User, activity_id: int,
            attendance_ids: list[int] | None = None,
            adjustments: dict[int, Adjustment] | None = None) -> Approval:
    """Approve the listed attendances (all checked-out ones when None) and pay them. Any
    attendance already approved refuses the whole request, so nothing is half done."""
    activity = get_activity(session, activity_id)
    require_organiser(actor, activity)
    adjustments = adjustments or {}
    chosen = _chosen(session, activity, attendance_ids, adjustments)
    rule = catalogue.earning_rule(session, activity.programme)
    result = Approval(activity)
    for attendance in chosen:
        minutes = _approved_minutes(session, actor, attendance, adjustments.get(attendance.id))
        _mark_approved(session, actor, attendance, minutes)
        attendance.points = points_for(minutes, rule.points_per_hour)
        if attendance.points > 0:
            attendance.entry_id = programmes.reward(
                session, activity.programme, attendance.user, attendance.points,
                kind="service_hours", source=f"attendance:{attendance.id}",
                memo=f"{activity.title} {minutes / MINUTES_PER_HOUR:.1f}h", actor=actor)
        result.approved.append(attendance)
    session.flush()
    return result


def _chosen(session, activity, attendance_ids, adjustments) -> list[Attendance]:
    rows = session.scalars(select(Attendance).where(Attendance.activity_id == activity.id)
                           .order_by(Attendance.id)).all()
    by_id = {row.id: row for row in rows}
    if attendance_ids is None:
        wanted = [row.id for row in rows if row.status == "checked_out" or row.id in adjustments]
        if not wanted and any(row.status == "approved" for row in rows):
            raise HoursAlreadyApproved(f"activity {activity.id}'s hours are already approved")
        if not wanted:
            raise Invalid("nothing to approve", errors={"attendance_ids": ["none checked out"]})
    else:
        wanted = list(dict.fromkeys(attendance_ids))
    if len(wanted) > MAX_BULK:
        raise Invalid("too many at once", errors={"attendance_ids": [f"at most {MAX_BULK}"]})
    unknown = [i for i in list(wanted) + list(adjustments) if i not in by_id]
    if unknown:
        raise NotFound(f"no attendance {unknown[0]} at activity {activity.id}",
                       attendance_id=unknown[0])
    for attendance_id in wanted:
        if by_id[attendance_id].status == "approved":
            raise HoursAlreadyApproved(f"attendance {attendance_id} is already approved",
                                       attendance_id=attendance_id)
    return [by_id[i] for i in wanted]


def _approved_minutes(session, actor, attendance, adjustment: Adjustment | None) -> int:
    counted = counted_minutes(attendance)
    if adjustment is None:
        if counted is None:
            raise HoursNotReady(f"attendance {attendance.id} has not checked out",
                                attendance_id=attendance.id)
        return counted
    _check_minutes(attendance, adjustment.minutes)
    session.add(HoursAmendment(
        attendance_id=attendance.id, previous_minutes=counted or 0,
        new_minutes=adjustment.minutes, reason=clean_reason(adjustment.reason),
        amended_by_id=actor.id, created_at=now()))
    return adjustment.minutes


def _check_minutes(attendance: Attendance, minutes: int) -> None:
    cap = attendance.activity.max_minutes
    if not isinstance(minutes, int) or not 0 <= minutes <= cap:
        raise Invalid("bad minutes", errors={"minutes": [f"0 to {cap}"]})


def _mark_approved(session, actor, attendance: Attendance, minutes: int) -> None:
    # One conditional UPDATE: of two approvals racing, one changes the row and the other
    # hears that it is already approved.
    moment = now()
    changed = session.execute(
        update(Attendance).where(Attendance.id == attendance.id,
                                 Attendance.status != "approved")
        .values(status="approved", approved_minutes=minutes, approved_by_id=actor.id,
                approved_at=moment)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise HoursAlreadyApproved(f"attendance {attendance.id} is already approved",
                                   attendance_id=attendance.id)
    # What the UPDATE wrote, without reading the row back.
    for name, value in (("status", "approved"), ("approved_minutes", minutes),
                        ("approved_by_id", actor.id), ("approved_at", moment)):
        set_committed_value(attendance, name, value)


def amend(session: Session, actor: User, attendance_id: int, minutes: int,
          reason: str) -> HoursAmendment:
    """Correct an approved record. The points paid at approval stay as they are: the hours
    record and the points are kept apart."""
    attendance = get_or_404(session, Attendance, attendance_id, "attendance")
    require_organiser(actor, attendance.activity)
    if attendance.status != "approved":
        raise HoursNotReady("approve these hours first; adjust them while approving")
    _check_minutes(attendance, minutes)
    amendment = HoursAmendment(
        attendance_id=attendance.id, previous_minutes=attendance.approved_minutes,
        new_minutes=minutes, reason=clean_reason(reason), amended_by_id=actor.id,
        created_at=now())
    session.add(amendment)
    attendance.approved_minutes = minutes
    session.flush()
    return amendment


def attendance_list(session: Session, actor: User, activity_id: int) -> list[Attendance]:
    activity = get_activity(session, activity_id)
    require_organiser(actor, activity)
    return list(session.scalars(select(Attendance).where(Attendance.activity_id == activity.id)
                                .order_by(Attendance.id)))


@dataclass
class HoursRecord:
    user: User
    items: list[Attendance]
    total_minutes: int
    times: int


def hours_record(session: Session, user: User, year: int | None = None) -> HoursRecord:
    """The volunteer's official record: approved attendances, newest first."""
    query = (select(Attendance).join(Activity, Activity.id == Attendance.activity_id)
             .where(Attendance.user_id == user.id, Attendance.status == "approved")
             .order_by(Activity.starts_at.desc()))
    if year is not None:
        start, end = year_bounds(year)
        query = query.where(Activity.starts_at >= start, Activity.starts_at < end)
    items = list(session.scalars(query))
    total = sum(item.approved_minutes or 0 for item in items)
    return HoursRecord(user, items, total, sum(1 for i in items if i.approved_minutes))


def readable_record(session: Session, actor: User, user_id: int) -> User:
    """Whose record ``actor`` may read: their own, or anyone's in an organiser's areas."""
    user = get_or_404(session, User, user_id, "user")
    if user.id != actor.id:
        access.require(actor, ORGANISER_ROLES, user.area)
    return user


def record_moment(attendance: Attendance) -> datetime:
    return attendance.activity.starts_at


CERTIFICATE_SIGNATURE_HEX = 16


def certificate_signature(key: bytes, user_id: int, year: int | None, total_minutes: int,
                          times: int) -> str:
    """Signs what a printed certificate states, so its QR link shows whether the record
    still says the same (an amendment since printing makes the old paper stale)."""
    import hashlib
    import hmac

    message = f"jindou-hours-certificate:{user_id}:{year or 'all'}:{total_minutes}:{times}"
    digest = hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
    return digest[:CERTIFICATE_SIGNATURE_HEX]


def certificate_holds(session: Session, key: bytes, user_id: int, year: int | None,
                      signature: str) -> HoursRecord | None:
    """The current record when ``signature`` matches it, else None."""
    import hmac

    user = session.get(User, user_id)
    if user is None:
        return None
    record = hours_record(session, user, year)
    expected = certificate_signature(key, user_id, year, record.total_minutes, record.times)
    return record if hmac.compare_digest(expected, signature or "") else None
