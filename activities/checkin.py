"""Check-in and check-out by a code that the organiser's phone shows and that changes every
minute: an HMAC over the activity, the minute window and the direction under a server key.
The current and the previous window are accepted, so a photographed code stops working
within two minutes; an older one is told apart as expired."""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import now
from ledger.rules import as_utc
from volunteers import access
from volunteers.models import User

from .errors import (
    CheckinCodeExpired,
    CheckinCodeInvalid,
    LocationRequired,
    NotCheckedIn,
    NotInProgress,
    NotSignedUp,
    TooFarFromVenue,
)
from .models import Activity, Attendance
from .planning import get_activity
from .signups import find_signup

WINDOW_SECONDS = 60
CODE_DIGITS = 8
ACCEPTED_WINDOWS = 2
# How far back a code is still recognised, so the volunteer hears "expired", not "wrong":
# an hour. Each window costs one HMAC, and a wrong code is checked against all of them.
RECOGNISED_WINDOWS = 60
CHECKIN_OPENS_BEFORE = timedelta(hours=1)
CHECKOUT_CLOSES_AFTER = timedelta(hours=3)
DIRECTIONS = ("in", "out")
EARTH_RADIUS_M = 6_371_000


def window_of(moment: datetime) -> int:
    return int(as_utc(moment).timestamp()) // WINDOW_SECONDS


def code_for(key: bytes, activity_id: int, direction: str, window: int) -> str:
    assert direction in DIRECTIONS, direction
    message = f"jindou-checkin:{activity_id}:{window}:{direction}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** CODE_DIGITS:0{CODE_DIGITS}d}"


def current_code(key: bytes, activity_id: int, direction: str, at: datetime | None = None) -> str:
    return code_for(key, activity_id, direction, window_of(at or now()))


def seconds_left(at: datetime | None = None) -> int:
    return WINDOW_SECONDS - int(as_utc(at or now()).timestamp()) % WINDOW_SECONDS


def verify_code(key: bytes, activity_id: int, direction: str, code: str,
                at: datetime | None = None) -> None:
    code = (code or "").strip().replace(" ", "")
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise CheckinCodeInvalid("a check-in code has 8 digits")
    window = window_of(at or now())
    for age in range(RECOGNISED_WINDOWS):
        if hmac.compare_digest(code, code_for(key, activity_id, direction, window - age)):
            if age < ACCEPTED_WINDOWS:
                return
            raise CheckinCodeExpired("this code has expired")
    raise CheckinCodeInvalid(f"not a check-{direction} code of activity {activity_id}")


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine great-circle distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = math.radians(lat2 - lat1), math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def check_in(session: Session, actor: User, activity_id: int, code: str, *, key: bytes,
             lat: float | None = None, lng: float | None = None,
             at: datetime | None = None) -> Attendance:
    """A second scan answers with the first check-in and changes nothing."""
    at = as_utc(at or now())
    activity = get_activity(session, activity_id)
    access.require(actor, ("volunteer",))
    verify_code(key, activity.id, "in", code, at)
    signup = find_signup(session, activity.id, actor.id)
    if signup is None or signup.status != "signed_up":
        raise NotSignedUp("sign up to this activity before checking in")
    existing = find_attendance(session, activity.id, actor.id)
    if existing is not None:
        return existing
    if not activity.starts_at - CHECKIN_OPENS_BEFORE <= at <= activity.ends_at:
        raise NotInProgress("check-in opens an hour before the start and closes at the end")
    distance = _distance_checked(activity, lat, lng)
    attendance = Attendance(activity_id=activity.id, user_id=actor.id, status="checked_in",
                            checked_in_at=at, checkin_distance_m=distance)
    session.add(attendance)
    session.flush()
    return attendance


def check_out(session: Session, actor: User, activity_id: int, code: str, *, key: bytes,
              lat: float | None = None, lng: float | None = None,
              at: datetime | None = None) -> Attendance:
    at = as_utc(at or now())
    activity = get_activity(session, activity_id)
    access.require(actor, ("volunteer",))
    verify_code(key, activity.id, "out", code, at)
    attendance = find_attendance(session, activity.id, actor.id)
    if attendance is None:
        raise NotCheckedIn("check in before checking out")
    if attendance.status != "checked_in":
        return attendance
    if at > activity.ends_at + CHECKOUT_CLOSES_AFTER:
        raise NotInProgress("check-out closed three hours after the end: ask the organiser")
    _distance_checked(activity, lat, lng)
    attendance.checked_out_at, attendance.status = at, "checked_out"
    session.flush()
    return attendance


def _distance_checked(activity: Activity, lat: float | None, lng: float | None) -> int | None:
    if activity.checkin_radius_m is None or activity.lat is None:
        return None if lat is None or activity.lat is None else round(
            distance_m(activity.lat, activity.lng, lat, lng))
    if lat is None or lng is None:
        raise LocationRequired("this activity checks your location")
    distance = round(distance_m(activity.lat, activity.lng, lat, lng))
    if distance > activity.checkin_radius_m:
        raise TooFarFromVenue(f"you are {distance} m from the venue; "
                              f"the limit is {activity.checkin_radius_m} m",
                              distance_m=distance, radius_m=activity.checkin_radius_m)
    return distance


def find_attendance(session: Session, activity_id: int, user_id: int) -> Attendance | None:
    return session.scalar(select(Attendance).where(Attendance.activity_id == activity_id,
                                                   Attendance.user_id == user_id))
