"""The activity services on SQLite and PostgreSQL: seats, rotating check-in codes, distance,
hours and their approval, the official record and its amendments, party duty, 每日一豆."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import ledger
from activities import checkin, daily, duty, hours, signups
from activities.errors import (
    ActivityFull,
    AlreadySignedUp,
    CheckinCodeExpired,
    CheckinCodeInvalid,
    HoursAlreadyApproved,
    HoursNotReady,
    LocationRequired,
    TooFarFromVenue,
)
from activities.models import HoursAmendment
from tests.activities_support import CHECKIN_KEY, POINTS_PER_HOUR, build_scene, code, make_activity
from volunteers import users
from volunteers.errors import NotInYourArea


@pytest.fixture
def scene(app, world):
    return build_scene(app, world)


@pytest.fixture
def session(app, scene):
    from web.extensions import db

    with app.app_context():
        yield db.session
        db.session.remove()


def person(session, scene, name):
    return users.get_user(session, scene.ids[name])


def test_the_last_seat_is_taken_once_and_a_full_activity_refuses(session, scene):
    activity = make_activity(session, scene.ids["sanyuan_organiser"], capacity=2)
    signups.sign_up(session, person(session, scene, "rider"), activity.id)
    signups.sign_up(session, person(session, scene, "volunteer_a"), activity.id)
    session.commit()
    with pytest.raises(ActivityFull):
        signups.sign_up(session, person(session, scene, "rider2"), activity.id)
    session.rollback()
    session.refresh(activity)
    assert (activity.signed_up_count, activity.seats_left) == (2, 0)
    with pytest.raises(AlreadySignedUp):
        signups.sign_up(session, person(session, scene, "rider"), activity.id)
    session.rollback()
    signups.cancel_signup(session, person(session, scene, "rider"), activity.id)
    signups.sign_up(session, person(session, scene, "rider2"), activity.id)
    session.commit()
    session.refresh(activity)
    assert activity.signed_up_count == 2


def test_a_volunteer_from_another_district_cannot_sign_up(session, scene):
    activity = make_activity(session, scene.ids["sanyuan_organiser"])
    with pytest.raises(NotInYourArea):
        signups.sign_up(session, person(session, scene, "kunming_volunteer"), activity.id)


def test_an_organiser_cannot_create_outside_their_area(session, scene):
    with pytest.raises(NotInYourArea):
        make_activity(session, scene.ids["sanyuan_organiser"], area="nanfeng")


def test_codes_rotate_each_minute_and_only_two_windows_are_accepted(session, scene):
    activity = make_activity(session, scene.ids["sanyuan_organiser"])
    other = make_activity(session, scene.ids["sanyuan_organiser"], title="other")
    moment = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)
    current = code(activity.id, at=moment)
    assert len(current) == 8 and current.isdigit()
    assert current != code(activity.id, at=moment + timedelta(minutes=1))
    checkin.verify_code(CHECKIN_KEY, activity.id, "in", current, moment)
    checkin.verify_code(CHECKIN_KEY, activity.id, "in", current, moment + timedelta(minutes=1))
    with pytest.raises(CheckinCodeExpired):
        checkin.verify_code(CHECKIN_KEY, activity.id, "in", current, moment + timedelta(minutes=2))
    with pytest.raises(CheckinCodeInvalid):
        checkin.verify_code(CHECKIN_KEY, other.id, "in", current, moment)
    with pytest.raises(CheckinCodeInvalid):
        checkin.verify_code(CHECKIN_KEY, activity.id, "out", current, moment)
    with pytest.raises(CheckinCodeInvalid):
        checkin.verify_code(b"another key", activity.id, "in", current, moment)


def test_haversine_distance_matches_a_known_pair():
    # 天府广场 to 春熙路 in 成都: about 1.4 km.
    assert checkin.distance_m(30.6574, 104.0658, 30.6571, 104.0807) == pytest.approx(1424, abs=15)


def test_the_distance_check_refuses_far_and_unlocated_scans(session, scene):
    activity = make_activity(session, scene.ids["sanyuan_organiser"], radius=200)
    rider = person(session, scene, "rider")
    signups.sign_up(session, rider, activity.id)
    session.commit()
    with pytest.raises(LocationRequired):
        checkin.check_in(session, rider, activity.id, code(activity.id), key=CHECKIN_KEY)
    with pytest.raises(TooFarFromVenue):
        checkin.check_in(session, rider, activity.id, code(activity.id), key=CHECKIN_KEY,
                         lat=30.8332, lng=104.1587)
    attendance = checkin.check_in(session, rider, activity.id, code(activity.id),
                                  key=CHECKIN_KEY, lat=30.8240, lng=104.1590)
    assert attendance.checkin_distance_m < 200


def _attend(session, scene, activity, name, minutes):
    volunteer = person(session, scene, name)
    signups.sign_up(session, volunteer, activity.id)
    start = activity.starts_at
    attendance = checkin.check_in(session, volunteer, activity.id, code(activity.id, at=start),
                                  key=CHECKIN_KEY, at=start)
    if minutes is not None:
        out = start + timedelta(minutes=minutes)
        checkin.check_out(session, volunteer, activity.id, code(activity.id, "out", at=out),
                          key=CHECKIN_KEY, at=out)
    return attendance


def test_hours_are_capped_approved_once_and_paid_at_the_programmes_rate(session, scene):
    organiser = person(session, scene, "sanyuan_organiser")
    activity = make_activity(session, organiser.id, max_minutes=120,
                             starts_in=timedelta(hours=-4), length=timedelta(hours=5))
    long_stay = _attend(session, scene, activity, "rider", 170)
    short_stay = _attend(session, scene, activity, "volunteer_a", 95)
    still_in = _attend(session, scene, activity, "rider2", None)
    session.commit()
    assert hours.counted_minutes(long_stay) == 120
    assert hours.counted_minutes(short_stay) == 95
    result = hours.approve(session, organiser, activity.id)
    session.commit()
    assert sorted(a.id for a in result.approved) == sorted([long_stay.id, short_stay.id])
    assert long_stay.points == 120 * POINTS_PER_HOUR // 60
    assert short_stay.points == 95 * POINTS_PER_HOUR // 60
    assert ledger.balance(session, person(session, scene, "rider").wallet_code).posted == 24
    entry = ledger.get_entry(session, long_stay.entry_id)
    assert (entry.kind, entry.reference) == ("service_hours", f"attendance:{long_stay.id}")
    with pytest.raises(HoursAlreadyApproved):
        hours.approve(session, organiser, activity.id, [long_stay.id])
    session.rollback()
    with pytest.raises(HoursNotReady):
        hours.approve(session, organiser, activity.id, [still_in.id])
    session.rollback()
    adjusted = hours.approve(session, organiser, activity.id, [still_in.id],
                             {still_in.id: hours.Adjustment(60, "忘记签退，组织者核实")})
    session.commit()
    assert adjusted.approved[0].approved_minutes == 60
    amendment = session.query(HoursAmendment).filter_by(attendance_id=still_in.id).one()
    assert (amendment.previous_minutes, amendment.new_minutes) == (0, 60)
    assert amendment.reason == "忘记签退，组织者核实"


def test_an_amendment_changes_the_record_with_a_trace_and_spending_never_does(session, scene):
    organiser = person(session, scene, "sanyuan_organiser")
    activity = make_activity(session, organiser.id, starts_in=timedelta(hours=-4),
                             length=timedelta(hours=5))
    attendance = _attend(session, scene, activity, "rider", 90)
    hours.approve(session, organiser, activity.id)
    session.commit()
    rider = person(session, scene, "rider")
    ledger.open_account(session, "merchant:test:accepted", "POINT", "liability")
    ledger.post(session, idempotency_key="spend", kind="voucher_redeem",
                postings=[ledger.Posting(rider.wallet_code, -18, "POINT"),
                          ledger.Posting("merchant:test:accepted", 18, "POINT")])
    session.commit()
    assert hours.hours_record(session, rider).total_minutes == 90
    hours.amend(session, organiser, attendance.id, 75, "签到时间核对有误")
    session.commit()
    record = hours.hours_record(session, rider)
    assert (record.total_minutes, record.times) == (75, 1)
    assert [(a.previous_minutes, a.new_minutes) for a in record.items[0].amendments] == [(90, 75)]
    assert attendance.points == 18


def test_party_members_short_of_their_duty_are_reported(session, scene):
    organiser = person(session, scene, "sanyuan_organiser")
    for name, status in (("rider", "in_service"), ("volunteer_a", "resident")):
        duty.set_party_status(session, organiser, scene.ids[name], status)
    for number in range(2):
        activity = make_activity(session, organiser.id, title=f"巡逻 {number}",
                                 starts_in=timedelta(hours=-4), length=timedelta(hours=5))
        _attend(session, scene, activity, "rider", 150)
        _attend(session, scene, activity, "volunteer_a", 130)
        hours.approve(session, organiser, activity.id)
    session.commit()
    year = datetime.now(UTC).year if datetime.now(UTC).month > 1 else None
    rows = {row.user.username: row for row in
            duty.duty_report(session, organiser, "sanyuan", year or datetime.now(UTC).year)}
    assert (rows["rider"].times, rows["rider"].minutes, rows["rider"].short) == (2, 300, True)
    assert rows["rider"].missing_times == 2 and rows["rider"].missing_minutes == 420
    assert (rows["volunteer_a"].times, rows["volunteer_a"].short) == (2, False)
    short = duty.duty_report(session, organiser, "sanyuan", year or datetime.now(UTC).year,
                             only_short=True)
    assert [row.user.username for row in short] == ["rider"]


def test_daily_checkin_pays_once_per_china_day(session, scene):
    rider = person(session, scene, "rider")
    # 23:30 in Beijing on one day, then 00:10 on the next: two different China days.
    late = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    first = daily.check_in_today(session, rider, at=late)
    again = daily.check_in_today(session, rider, at=late + timedelta(minutes=20))
    next_day = daily.check_in_today(session, rider, at=late + timedelta(minutes=40))
    session.commit()
    assert (first.created, again.created, next_day.created) == (True, False, True)
    assert first.checkin.id == again.checkin.id
    assert str(first.checkin.day) == "2026-11-30" and str(next_day.checkin.day) == "2026-12-01"
    assert ledger.balance(session, rider.wallet_code).posted == 4
    entry = ledger.get_entry(session, first.checkin.entry_id)
    assert (entry.kind, entry.reference) == ("daily_checkin", f"daily:{rider.id}:2026-11-30")
