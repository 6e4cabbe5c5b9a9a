"""每日一豆: one reward per volunteer per calendar day in China time, from the programme
that covers the volunteer's area. A second check-in the same day answers with the first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.clock import now
from ledger.rules import as_utc
from volunteers import access, programmes
from volunteers.models import User

from . import catalogue
from .common import china_day, programme_for_area
from .errors import NoProgramme
from .models import DailyCheckin


@dataclass
class DailyResult:
    checkin: DailyCheckin
    created: bool


def source_for(user_id: int, day: date) -> str:
    return f"daily:{user_id}:{day.isoformat()}"


def check_in_today(session: Session, actor: User, at: datetime | None = None) -> DailyResult:
    access.require(actor, ("volunteer",))
    at = as_utc(at or now())
    day = china_day(at)
    existing = todays(session, actor.id, day)
    if existing is not None:
        return DailyResult(existing, False)
    programme = programme_for_area(session, actor.area)
    if programme is None:
        raise NoProgramme(f"no programme covers {actor.area.name}")
    points = catalogue.earning_rule(session, programme).daily_checkin_points
    try:
        with session.begin_nested():
            checkin = DailyCheckin(user_id=actor.id, day=day, programme_id=programme.id,
                                   points=points, created_at=at)
            session.add(checkin)
            session.flush()
    except IntegrityError:
        # A twin request of the same volunteer got there first.
        return DailyResult(todays(session, actor.id, day), False)
    if points > 0:
        checkin.entry_id = programmes.reward(
            session, programme, actor, points, kind="daily_checkin",
            source=source_for(actor.id, day), memo=f"每日一豆 {day.isoformat()}", actor=actor)
        session.flush()
    return DailyResult(checkin, True)


def todays(session: Session, user_id: int, day: date) -> DailyCheckin | None:
    return session.scalar(select(DailyCheckin).where(DailyCheckin.user_id == user_id,
                                                     DailyCheckin.day == day))


def streak(session: Session, user_id: int, today: date) -> int:
    """Consecutive days checked in, up to today (or yesterday if not yet today)."""
    days = set(session.scalars(select(DailyCheckin.day).where(DailyCheckin.user_id == user_id)
                               .order_by(DailyCheckin.day.desc()).limit(366)))
    from datetime import timedelta

    cursor = today if today in days else today - timedelta(days=1)
    count = 0
    while cursor in days:
        count += 1
        cursor -= timedelta(days=1)
    return count
