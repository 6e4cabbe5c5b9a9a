"""Real threads on PostgreSQL racing for the last seat of an activity, one wish, one
approval and one day's check-in: exactly one wins each, and the ledger stays whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ledger
from activities import checkin, daily, hours, signups, wishes
from activities.errors import ActivityFull, HoursAlreadyApproved, WishAlreadyClaimed
from activities.models import Activity, Attendance, DailyCheckin, Signup, WishClaim
from activities.wishes import WishDraft
from tests.activities_support import CHECKIN_KEY, build_scene, code, make_activity
from tests.concurrency import run_threads
from tests.web_support import PASSWORD
from volunteers import users

RACERS = 12


pytestmark = [pytest.mark.commits, pytest.mark.postgres_only(
    "concurrency is tested on PostgreSQL; SQLite serialises every writer")]


@pytest.fixture
def pg(engine, app, world):
    scene = build_scene(app, world)
    with Session(engine) as session:
        for number in range(RACERS):
            name = f"racer{number:02d}"
            scene.ids[name] = users.create_user(session, name, PASSWORD, role="volunteer",
                                                area_code="sanyuan").id
        session.commit()
    return engine, scene


def racer(session, scene, index):
    return users.get_user(session, scene.ids[f"racer{index:02d}"])


def verified(engine) -> ledger.Report:
    with Session(engine) as session:
        ledger.seal_all(session)
        return ledger.verify(session)


def test_the_last_seat_goes_to_exactly_one_of_many(pg):
    engine, scene = pg
    with Session(engine) as session:
        activity = make_activity(session, scene.ids["sanyuan_organiser"], capacity=3)
        for index in range(2):
            signups.sign_up(session, racer(session, scene, index), activity.id)
        session.commit()
        activity_id = activity.id
    answers = run_threads(engine, RACERS - 2, lambda session, index: signups.sign_up(
        session, racer(session, scene, index + 2), activity_id).id, commit=True)
    winners = [a for a in answers if isinstance(a, int)]
    assert len(winners) == 1
    assert all(isinstance(a, ActivityFull) for a in answers if not isinstance(a, int))
    with Session(engine) as session:
        seated = session.scalar(select(func.count()).select_from(Signup).where(
            Signup.activity_id == activity_id, Signup.status == "signed_up"))
        assert seated == 3
        assert session.get(Activity, activity_id).signed_up_count == 3


def test_one_wish_is_claimed_by_exactly_one_of_many(pg):
    engine, scene = pg
    with Session(engine) as session:
        organiser = users.get_user(session, scene.ids["sanyuan_organiser"])
        wish = wishes.publish_wish(session, organiser, WishDraft(
            title="陪老人去医院复查", resident_name="赵德明", story="赵爷爷独居。",
            needs="周三上午陪同", area="sanyuan", programme="fengxingxia", reward_points=30))
        session.commit()
        wish_id = wish.id
    answers = run_threads(engine, RACERS, lambda session, index: wishes.claim(
        session, racer(session, scene, index), wish_id).claimed_by_id, commit=True)
    winners = [a for a in answers if isinstance(a, int)]
    assert len(winners) == 1
    assert all(isinstance(a, WishAlreadyClaimed) for a in answers if not isinstance(a, int))
    with Session(engine) as session:
        claims = session.scalars(select(WishClaim).where(WishClaim.wish_id == wish_id)).all()
        assert [(c.user_id, c.status) for c in claims] == [(winners[0], "active")]
        assert wishes.get_wish(session, wish_id).claimed_by_id == winners[0]


def test_two_organisers_approving_at_once_pay_once(pg):
    engine, scene = pg
    with Session(engine) as session:
        activity = make_activity(session, scene.ids["sanyuan_organiser"],
                                 starts_in=timedelta(hours=-2))
        volunteer = racer(session, scene, 0)
        signups.sign_up(session, volunteer, activity.id)
        start = activity.starts_at
        checkin.check_in(session, volunteer, activity.id, code(activity.id, at=start),
                         key=CHECKIN_KEY, at=start)
        out = start + timedelta(minutes=100)
        checkin.check_out(session, volunteer, activity.id, code(activity.id, "out", at=out),
                          key=CHECKIN_KEY, at=out)
        session.commit()
        activity_id, wallet = activity.id, volunteer.wallet_code
    answers = run_threads(engine, 4, lambda session, index: len(hours.approve(
        session, users.get_user(session, scene.ids["sanyuan_organiser"]), activity_id).approved),
        commit=True)
    assert answers.count(1) == 1
    assert all(isinstance(a, HoursAlreadyApproved) for a in answers if a != 1)
    with Session(engine) as session:
        assert ledger.balance(session, wallet).posted == 100 * 12 // 60
        row = session.scalar(select(Attendance).where(Attendance.activity_id == activity_id))
        assert row.status == "approved"
    assert verified(engine).ok


def test_a_double_tapped_daily_checkin_pays_once(pg):
    engine, scene = pg
    moment = datetime.now(UTC)
    answers = run_threads(engine, 6, lambda session, index: daily.check_in_today(
        session, racer(session, scene, 0), at=moment).created, commit=True)
    assert answers.count(True) == 1 and answers.count(False) == 5
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(DailyCheckin)) == 1
        assert ledger.balance(session, racer(session, scene, 0).wallet_code).posted == 2
    assert verified(engine).ok
