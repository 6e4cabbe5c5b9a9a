"""The activities and wishes API through the test client on both databases: the happy path,
and every refusal answering the CONTRACT error body while changing nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from activities import checkin
from tests.activities_support import POINTS_PER_HOUR, build_scene, jpeg_with_gps
from tests.web_support import ledger_snapshot


@pytest.fixture
def scene(app, world):
    return build_scene(app, world)


def key(app) -> bytes:
    return app.config["JINDOU_CHECKIN_KEY"].encode()


def activity_payload(**changes):
    starts_at = datetime.now(UTC) - timedelta(minutes=20)
    payload = {"title": "蜀龙大道文明交通劝导", "category": "traffic", "area": "sanyuan",
               "programme": "fengxingxia", "venue": "蜀龙大道与大丰大道路口",
               "starts_at": starts_at.isoformat(),
               "ends_at": (starts_at + timedelta(hours=3)).isoformat(), "capacity": 2,
               "max_minutes": 120}
    return payload | changes


def create(api, **changes):
    response = api.post("/activities", as_="sanyuan_organiser", json=activity_payload(**changes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assert_refused(response, status, code):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == code and body["message"]


def test_create_list_sign_up_and_a_full_activity_refuses(app, api, scene):
    activity = create(api)
    assert (activity["capacity"], activity["seats_left"], activity["category_name"]) == (
        2, 2, "文明交通")
    listed = api.get("/activities?upcoming=true", as_="rider").get_json()
    assert [a["id"] for a in listed] == [activity["id"]]
    assert api.get("/activities", as_="kunming_volunteer").get_json() == []
    for name in ("rider", "volunteer_a"):
        assert api.post(f"/activities/{activity['id']}/signups", as_=name).status_code == 201
    before = ledger_snapshot(app)
    assert_refused(api.post(f"/activities/{activity['id']}/signups", as_="rider2"),
                   409, "activity_full")
    assert_refused(api.post(f"/activities/{activity['id']}/signups", as_="rider"),
                   409, "already_signed_up")
    assert ledger_snapshot(app) == before
    seats = api.get(f"/activities/{activity['id']}", as_="rider").get_json()["seats_left"]
    assert seats == 0
    cancelled = api.post(f"/activities/{activity['id']}/signups/cancel", as_="rider")
    assert cancelled.get_json()["status"] == "cancelled"
    assert api.get(f"/activities/{activity['id']}", as_="rider").get_json()["seats_left"] == 1


def test_bad_activity_input_and_acting_outside_ones_area_are_refused(app, api, scene):
    before = ledger_snapshot(app)
    refused = api.post("/activities", as_="sanyuan_organiser",
                       json=activity_payload(capacity="2", starts_at="tomorrow"))
    assert_refused(refused, 422, "validation_error")
    assert set(refused.get_json()["errors"]) == {"capacity", "starts_at"}
    assert_refused(api.post("/activities", as_="sanyuan_organiser",
                            json=activity_payload(area="nanfeng")), 403, "forbidden")
    assert_refused(api.post("/activities", as_="rider", json=activity_payload()),
                   403, "forbidden")
    assert_refused(api.post("/activities", json=activity_payload()), 401, "unauthorized")
    activity = create(api)
    assert_refused(api.post(f"/activities/{activity['id']}/signups", as_="kunming_volunteer"),
                   403, "forbidden")
    assert_refused(api.post(f"/activities/{activity['id']}/hours/approve",
                            as_="cuihu_organiser", json={}), 403, "forbidden")
    assert ledger_snapshot(app) == before
    assert api.get("/activities", as_="sanyuan_organiser").get_json()[0]["id"] == activity["id"]


def test_check_in_with_the_organisers_code_and_refuse_foreign_or_expired_codes(app, api, scene):
    activity = create(api)
    other = create(api, title="另一个活动")
    for target in (activity, other):
        api.post(f"/activities/{target['id']}/signups", as_="rider")
    shown = api.get(f"/activities/{activity['id']}/checkin-code",
                    as_="sanyuan_organiser").get_json()
    assert shown["url"].endswith(f"/activities/{activity['id']}/scan?d=in&code={shown['code']}")
    assert_refused(api.get(f"/activities/{activity['id']}/checkin-code", as_="rider"),
                   403, "forbidden")
    before = ledger_snapshot(app)
    foreign = checkin.current_code(key(app), other["id"], "in")
    assert_refused(api.post(f"/activities/{activity['id']}/checkins", as_="rider",
                            json={"code": foreign}), 400, "checkin_code_invalid")
    stale = checkin.current_code(key(app), activity["id"], "in",
                                 datetime.now(UTC) - timedelta(minutes=5))
    assert_refused(api.post(f"/activities/{activity['id']}/checkins", as_="rider",
                            json={"code": stale}), 400, "checkin_code_expired")
    assert_refused(api.post(f"/activities/{activity['id']}/checkins", as_="rider",
                            json={"code": "12ab"}), 422, "validation_error")
    assert_refused(api.post(f"/activities/{activity['id']}/checkins", as_="rider2",
                            json={"code": shown["code"]}), 409, "not_signed_up")
    assert_refused(api.post(f"/activities/{activity['id']}/checkouts", as_="rider",
                            json={"code": checkin.current_code(key(app), activity["id"],
                                                               "out")}),
                   409, "not_checked_in")
    assert api.get(f"/activities/{activity['id']}/attendances",
                   as_="sanyuan_organiser").get_json() == []
    assert ledger_snapshot(app) == before
    done = api.post(f"/activities/{activity['id']}/checkins", as_="rider",
                    json={"code": shown["code"]})
    assert done.status_code == 201 and done.get_json()["status"] == "checked_in"


def _attend(app, api, activity_id, name, minutes):
    """Check in through the API, then move the check-in time back so the stay lasts
    ``minutes`` (the clock cannot be waited for)."""
    from activities.models import Attendance
    from web.extensions import db

    api.post(f"/activities/{activity_id}/signups", as_=name)
    response = api.post(f"/activities/{activity_id}/checkins", as_=name,
                        json={"code": checkin.current_code(key(app), activity_id, "in")})
    attendance_id = response.get_json()["id"]
    with app.app_context():
        row = db.session.get(Attendance, attendance_id)
        row.checked_in_at = datetime.now(UTC) - timedelta(minutes=minutes)
        db.session.commit()
        db.session.remove()
    out = api.post(f"/activities/{activity_id}/checkouts", as_=name,
                   json={"code": checkin.current_code(key(app), activity_id, "out")})
    assert out.status_code == 201, out.get_json()
    return attendance_id


def test_approve_pays_once_replays_its_key_and_refuses_a_second_approval(app, api, scene):
    activity = create(api, capacity=5)
    first = _attend(app, api, activity["id"], "rider", 150)
    second = _attend(app, api, activity["id"], "volunteer_a", 61)
    body = {"adjustments": [{"attendance_id": second, "minutes": 90,
                             "reason": "提前到场布置，组织者核实"}]}
    path = f"/activities/{activity['id']}/hours/approve"
    approved = api.post(path, as_="sanyuan_organiser", json=body,
                        headers={"Idempotency-Key": "approve-1"})
    assert approved.status_code == 200, approved.get_json()
    result = approved.get_json()
    minutes = {a["id"]: a["approved_minutes"] for a in result["approved"]}
    assert minutes == {first: 120, second: 90}
    assert result["total_points"] == (120 + 90) * POINTS_PER_HOUR // 60
    after = ledger_snapshot(app)
    replay = api.post(path, as_="sanyuan_organiser", json=body,
                      headers={"Idempotency-Key": "approve-1"})
    assert (replay.status_code, replay.get_json()) == (200, result)
    assert_refused(api.post(path, as_="sanyuan_organiser", json={},
                            headers={"Idempotency-Key": "approve-1"}),
                   409, "idempotency_conflict")
    assert_refused(api.post(path, as_="sanyuan_organiser", json={}), 409,
                   "hours_already_approved")
    assert_refused(api.post(path, as_="sanyuan_organiser", json={"attendance_ids": [first]}),
                   409, "hours_already_approved")
    assert_refused(api.post(path, as_="sanyuan_organiser",
                            json={"adjustments": [{"attendance_id": first, "minutes": -5,
                                                   "reason": "x"}]}),
                   422, "validation_error")
    assert ledger_snapshot(app) == after
    wallet = api.get("/me", as_="rider").get_json()["wallet"]["posted_points"]
    assert wallet == 120 * POINTS_PER_HOUR // 60
    record = api.get("/me/hours", as_="volunteer_a").get_json()
    assert (record["total_minutes"], record["times"]) == (90, 1)
    assert record["items"][0]["amendments"][0]["reason"] == "提前到场布置，组织者核实"
    amended = api.post(f"/attendances/{second}/amendments", as_="sanyuan_organiser",
                       json={"minutes": 80, "reason": "核对签到表"})
    assert amended.status_code == 201
    assert api.get("/me/hours", as_="volunteer_a").get_json()["total_minutes"] == 80
    assert ledger_snapshot(app) == after


def test_party_duty_report_lists_who_is_short(app, api, scene):
    activity = create(api)
    attendance = _attend(app, api, activity["id"], "rider", 100)
    api.post(f"/activities/{activity['id']}/hours/approve", as_="sanyuan_organiser", json={})
    marked = api.request("PUT", f"/volunteers/{scene.ids['rider']}/party-status",
                         as_="sanyuan_organiser", json={"party_status": "resident"})
    assert marked.get_json() == {"user_id": scene.ids["rider"], "party_status": "resident"}
    year = datetime.now(UTC).year
    rows = api.get(f"/party-duty?area=sanyuan&year={year}", as_="sanyuan_organiser").get_json()
    assert [(r["username"], r["times"], r["minutes"], r["short"]) for r in rows] == [
        ("rider", 1, 100, True)]
    assert attendance
    assert_refused(api.get(f"/party-duty?area=nanfeng&year={year}", as_="sanyuan_organiser"),
                   403, "forbidden")


def wish_payload(**changes):
    return {"title": "为独居老人买米送上门", "resident_name": "李桂英",
            "story": "李奶奶腿脚不便，想请人帮忙买一袋米。", "needs": "一袋 10 斤大米",
            "area": "sanyuan", "programme": "fengxingxia", "reward_points": 25} | changes


def test_wish_life_and_its_refusals(app, api, scene):
    published = api.post("/wishes", as_="sanyuan_organiser", json=wish_payload())
    assert published.status_code == 201
    wish = published.get_json()
    assert (wish["resident_name"], wish["status"]) == ("李*英", "open")
    assert_refused(api.post("/wishes", as_="sanyuan_organiser",
                            json=wish_payload(area="nanfeng")), 403, "forbidden")
    assert_refused(api.post("/wishes", as_="sanyuan_organiser",
                            json=wish_payload(reward_points=0)), 422, "validation_error")
    path = f"/wishes/{wish['id']}"
    assert api.post(path + "/claim", as_="rider", json={}).get_json()["status"] == "claimed"
    before = ledger_snapshot(app)
    assert_refused(api.post(path + "/claim", as_="volunteer_a", json={}), 409,
                   "wish_already_claimed")
    assert_refused(api.post(path + "/claim", as_="kunming_volunteer", json={}), 403,
                   "forbidden")
    assert_refused(api.post(path + "/confirm", as_="sanyuan_organiser"), 409,
                   "wish_wrong_state")
    fake = api.post(path + "/fulfil", as_="rider", content_type="multipart/form-data",
                    data={"note": "送到了",
                          "photo": (io.BytesIO(b"just some text\n" * 20), "photo.jpg")})
    assert_refused(fake, 422, "validation_error")
    assert "photo" in fake.get_json()["errors"]
    assert_refused(api.post(path + "/fulfil", as_="volunteer_a",
                            content_type="multipart/form-data",
                            data={"photo": (io.BytesIO(jpeg_with_gps()), "a.jpg")}),
                   403, "forbidden")
    assert api.get(path, as_="rider").get_json()["status"] == "claimed"
    assert ledger_snapshot(app) == before
    fulfilled = api.post(path + "/fulfil", as_="rider", content_type="multipart/form-data",
                         data={"note": "送到了", "photo": (io.BytesIO(jpeg_with_gps()), "a.jpg")})
    assert fulfilled.status_code == 200, fulfilled.get_json()
    photo_id = fulfilled.get_json()["photo_ids"][0]
    photo = api.get(f"/wish-photos/{photo_id}", as_="sanyuan_organiser")
    assert photo.status_code == 200 and photo.data[:2] == b"\xff\xd8"
    assert b"TestCam" not in photo.data
    assert_refused(api.get(f"/wish-photos/{photo_id}", as_="volunteer_a"), 403, "forbidden")
    confirmed = api.post(path + "/confirm", as_="sanyuan_organiser",
                         headers={"Idempotency-Key": "confirm-1"})
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    paid = ledger_snapshot(app)
    again = api.post(path + "/confirm", as_="sanyuan_organiser",
                     headers={"Idempotency-Key": "confirm-1"})
    assert again.get_json() == confirmed.get_json()
    assert_refused(api.post(path + "/confirm", as_="sanyuan_organiser"), 409,
                   "wish_wrong_state")
    assert ledger_snapshot(app) == paid
    assert api.get("/me", as_="rider").get_json()["wallet"]["posted_points"] == 25


def test_abandoned_wishes_are_listed_as_open_again(app, api, scene):
    wish = api.post("/wishes", as_="sanyuan_organiser", json=wish_payload()).get_json()
    api.post(f"/wishes/{wish['id']}/claim", as_="rider", json={})
    assert api.get("/wishes", as_="volunteer_a").get_json() == []
    mine = api.get("/wishes?status=all&mine=true", as_="rider").get_json()
    assert [w["id"] for w in mine] == [wish["id"]]
    api.post(f"/wishes/{wish['id']}/abandon", as_="rider", json={"reason": "临时加班"})
    listed = api.get("/wishes", as_="volunteer_a").get_json()
    assert [(w["id"], w["abandon_count"]) for w in listed] == [(wish["id"], 1)]


def test_daily_checkin_pays_once_a_day(app, api, scene):
    first = api.post("/me/daily-checkin", as_="rider")
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["points"], first.get_json()["created"]) == (2, True)
    after = ledger_snapshot(app)
    second = api.post("/me/daily-checkin", as_="rider")
    assert second.status_code == 200 and second.get_json()["created"] is False
    assert second.get_json()["entry_id"] == first.get_json()["entry_id"]
    assert ledger_snapshot(app) == after
    assert_refused(api.post("/me/daily-checkin", as_="sanyuan_organiser"), 403, "forbidden")
    kunming = api.post("/me/daily-checkin", as_="kunming_volunteer").get_json()
    assert kunming["points"] == 1  # 五华金豆 has no rule of its own: the default


def test_guessing_check_in_codes_is_rate_limited_per_volunteer(make_app):
    from tests.web_support import ApiClient, build_world

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                   JINDOU_CHECKIN_RATE_LIMIT="3 per minute")
    build_scene(app, build_world(app))
    api = ApiClient(app)
    activity = create(api)
    for name in ("rider", "volunteer_a"):
        api.post(f"/activities/{activity['id']}/signups", as_=name)
    path = f"/activities/{activity['id']}/checkins"
    guesses = [api.post(path, as_="rider", json={"code": f"{n:08d}"}).status_code
               for n in range(4)]
    assert guesses == [400, 400, 400, 429]
    limited = api.post(path, as_="rider", json={"code": "00000000"}).get_json()
    assert limited["code"] == "rate_limited"
    right = checkin.current_code(key(app), activity["id"], "in")
    assert api.post(path, as_="volunteer_a", json={"code": right}).status_code == 201


def test_an_organiser_cancels_an_activity_and_signed_up_volunteers_are_told(app, api, scene):
    activity = create(api)
    api.post(f"/activities/{activity['id']}/signups", as_="rider")
    path = f"/activities/{activity['id']}/cancel"
    assert_refused(api.post(path, as_="rider", json={"reason": "x"}), 403, "forbidden")
    assert_refused(api.post(path, as_="sanyuan_organiser", json={}), 422, "validation_error")
    cancelled = api.post(path, as_="sanyuan_organiser", json={"reason": "暴雨预警"})
    assert cancelled.get_json()["status"] == "cancelled"
    assert_refused(api.post(path, as_="sanyuan_organiser", json={"reason": "again"}), 409,
                   "activity_closed")
    assert_refused(api.post(f"/activities/{activity['id']}/signups", as_="volunteer_a"), 409,
                   "activity_closed")
    notes = api.get("/me/notifications", as_="rider").get_json()
    items = notes["items"] if isinstance(notes, dict) else notes
    assert any("暴雨预警" in str(item) for item in items)


def test_an_open_wish_can_be_withdrawn_but_not_a_claimed_one(app, api, scene):
    first = api.post("/wishes", as_="sanyuan_organiser", json=wish_payload()).get_json()
    second = api.post("/wishes", as_="sanyuan_organiser", json=wish_payload()).get_json()
    api.post(f"/wishes/{second['id']}/claim", as_="rider", json={})
    withdrawn = api.post(f"/wishes/{first['id']}/withdraw", as_="sanyuan_organiser",
                         json={"reason": "居民已自行解决"})
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert_refused(api.post(f"/wishes/{second['id']}/withdraw", as_="sanyuan_organiser",
                            json={"reason": "x"}), 409, "wish_wrong_state")
    assert [w["id"] for w in api.get("/wishes?status=all", as_="volunteer_a").get_json()] == [
        second["id"]]
