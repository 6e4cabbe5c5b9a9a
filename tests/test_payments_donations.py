"""Donating points (转赠) through the API: to a programme's pool or to a published cause,
with progress towards the cause's target, the donor's history, idempotent retries, and every
refusal leaving the ledger as it was."""

import pytest

from tests.payments_support import available, give_points, publish_cause
from tests.web_support import ledger_snapshot

POOL = "programme:fengxingxia:donations"


def donate(api, cause_id, amount_points, as_="rider", key=None, **extra):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/causes/{cause_id}/donations", as_=as_, headers=headers,
                    json={"amount_points": amount_points, **extra})


# --- causes ---------------------------------------------------------------------------------

def test_an_admin_publishes_a_cause_in_the_programmes_area(api, world):
    cause = publish_cause(api, target_points=500, kind="student_aid", area="nanfeng",
                          title="南丰社区助学：小雨的学习用品", wish_reference="wish:7")
    assert cause["programme"] == "fengxingxia"
    assert cause["area"] == "nanfeng"
    assert (cause["target_points"], cause["raised_points"], cause["remaining_points"],
            cause["progress_percent"], cause["status"]) == (500, 0, 500, 0, "open")
    assert cause["wish_reference"] == "wish:7"
    listed = api.get("/causes", as_="rider").get_json()
    assert [c["id"] for c in listed] == [cause["id"]]


@pytest.mark.parametrize("who, area, code", [
    ("rider", "sanyuan", "forbidden"),            # a volunteer does not publish
    ("dafeng_reviewer", "sanyuan", "forbidden"),  # nor a reviewer
    ("wuhua_admin", "sanyuan", "forbidden"),      # an admin of another district
    ("xindu_admin", "cuihu", "forbidden"),        # an area outside the admin's
])
def test_a_cause_is_published_only_by_staff_of_its_area(app, api, world, who, area, code):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/causes", as_=who, json={
        "area": area, "kind": "family_in_need", "title": "t", "story": "s",
        "target_points": 10})
    assert response.get_json()["code"] == code
    assert api.get("/causes", as_="root_admin").get_json() == []
    assert ledger_snapshot(app) == before


def test_a_cause_area_outside_the_programme_is_refused_even_for_the_root_admin(api, world):
    response = api.post("/programmes/fengxingxia/causes", as_="root_admin", json={
        "area": "cuihu", "kind": "family_in_need", "title": "t", "story": "s",
        "target_points": 10})
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"
    assert "area" in response.get_json()["errors"]


@pytest.mark.parametrize("field, value", [
    ("kind", "lottery"), ("title", ""), ("target_points", 0), ("target_points", -5),
    ("target_points", "100"), ("story", ""),
])
def test_a_bad_cause_is_a_validation_error(api, world, field, value):
    body = {"area": "sanyuan", "kind": "family_in_need", "title": "t", "story": "s",
            "target_points": 10, field: value}
    response = api.post("/programmes/fengxingxia/causes", as_="xindu_admin", json=body)
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"
    assert field in response.get_json()["errors"]


# --- donating -------------------------------------------------------------------------------

def test_a_donation_moves_points_to_the_pool_and_shows_progress(app, api, world):
    give_points(app, world, "rider", 50)
    cause = publish_cause(api, target_points=80)
    response = donate(api, cause["id"], 30, message="加油")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["amount_points"], body["cause_id"], body["programme"], body["message"]) == (
        30, cause["id"], "fengxingxia", "加油")
    assert available(app, world.wallet("rider")) == 20
    assert available(app, POOL) == 30
    shown = api.get(f"/causes/{cause['id']}", as_="rider").get_json()
    assert (shown["raised_points"], shown["remaining_points"], shown["progress_percent"]) == (
        30, 50, 37)
    entries = api.get(f"/ledger/entries?kind=donation&account={POOL}",
                      as_="root_admin").get_json()["items"]
    assert len(entries) == 1
    assert {(p["account"], p["amount"]) for p in entries[0]["postings"]} == {
        (world.wallet("rider"), -30), (POOL, 30)}
    assert entries[0]["reference"] == f"cause:{cause['id']}"


def test_the_donor_sees_their_history_newest_first(app, api, world):
    give_points(app, world, "rider", 60)
    cause = publish_cause(api, target_points=100)
    donate(api, cause["id"], 10)
    api.post("/programmes/fengxingxia/donations", as_="rider", json={"amount_points": 15})
    history = api.get("/me/donations", as_="rider").get_json()
    assert [(d["amount_points"], d["cause_id"]) for d in history] == [(15, None),
                                                                       (10, cause["id"])]
    assert history[1]["cause_title"] == cause["title"]
    assert api.get("/me/donations", as_="rider2").get_json() == []


def test_a_donation_to_the_programmes_pool(app, api, world):
    give_points(app, world, "rider2", 40)
    response = api.post("/programmes/fengxingxia/donations", as_="rider2",
                        json={"amount_points": 40})
    assert response.status_code == 201
    assert response.get_json()["cause_id"] is None
    assert available(app, world.wallet("rider2")) == 0
    assert available(app, POOL) == 40


def test_reaching_the_target_completes_the_cause(app, api, world):
    give_points(app, world, "rider", 100)
    cause = publish_cause(api, target_points=25)
    assert donate(api, cause["id"], 25).status_code == 201
    shown = api.get(f"/causes/{cause['id']}", as_="rider").get_json()
    assert (shown["status"], shown["progress_percent"]) == ("completed", 100)
    assert api.get("/causes", as_="rider").get_json() == []
    told = api.get("/me/notifications", as_="xindu_admin").get_json()["items"][0]
    assert told["text"] == f"爱心项目“{cause['title']}”已筹满目标 25 积分。"
    finished = api.get("/causes?include_finished=true", as_="rider").get_json()
    assert [c["id"] for c in finished] == [cause["id"]]
    before = ledger_snapshot(app)
    refused = donate(api, cause["id"], 1)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "conflict")
    assert ledger_snapshot(app) == before


def test_a_retry_with_the_same_key_donates_once(app, api, world):
    give_points(app, world, "rider", 50)
    cause = publish_cause(api)
    first = donate(api, cause["id"], 20, key="tap-1")
    again = donate(api, cause["id"], 20, key="tap-1")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert available(app, world.wallet("rider")) == 30
    assert api.get(f"/causes/{cause['id']}", as_="rider").get_json()["raised_points"] == 20


def test_the_same_key_with_another_amount_is_an_idempotency_conflict(app, api, world):
    give_points(app, world, "rider", 50)
    cause = publish_cause(api)
    assert donate(api, cause["id"], 20, key="tap-2").status_code == 201
    before = ledger_snapshot(app)
    response = donate(api, cause["id"], 21, key="tap-2")
    assert (response.status_code, response.get_json()["code"]) == (409, "idempotency_conflict")
    pool = api.post("/programmes/fengxingxia/donations", as_="rider",
                    headers={"Idempotency-Key": "tap-2"}, json={"amount_points": 20})
    assert pool.get_json()["code"] == "idempotency_conflict"
    assert ledger_snapshot(app) == before


# --- refusals change nothing ----------------------------------------------------------------

def test_more_than_the_balance_is_insufficient_points(app, api, world):
    give_points(app, world, "rider", 15)
    cause = publish_cause(api)
    before = ledger_snapshot(app)
    response = donate(api, cause["id"], 16)
    assert (response.status_code, response.get_json()["code"]) == (409, "insufficient_points")
    assert ledger_snapshot(app) == before
    assert api.get(f"/causes/{cause['id']}", as_="rider").get_json()["raised_points"] == 0
    assert api.get("/me/donations", as_="rider").get_json() == []


@pytest.mark.parametrize("amount", [0, -5, "10", 2.5, None, True, 10**7])
def test_a_bad_amount_is_a_validation_error(app, api, world, amount):
    give_points(app, world, "rider", 20)
    cause = publish_cause(api)
    before = ledger_snapshot(app)
    response = donate(api, cause["id"], amount)
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_error")
    assert "amount_points" in response.get_json()["errors"]
    pool = api.post("/programmes/fengxingxia/donations", as_="rider",
                    json={"amount_points": amount})
    assert pool.get_json()["code"] == "validation_error"
    assert ledger_snapshot(app) == before


def test_more_than_the_cause_still_needs_is_refused(app, api, world):
    give_points(app, world, "rider", 100)
    cause = publish_cause(api, target_points=30)
    donate(api, cause["id"], 20)
    before = ledger_snapshot(app)
    response = donate(api, cause["id"], 11)
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_error")
    assert response.get_json()["errors"] == {"amount_points": ["at most 10"]}
    assert ledger_snapshot(app) == before


def test_a_closed_cause_takes_no_donations(app, api, world):
    give_points(app, world, "rider", 30)
    cause = publish_cause(api)
    closed = api.post(f"/causes/{cause['id']}/close", as_="xindu_admin")
    assert closed.get_json()["status"] == "closed"
    before = ledger_snapshot(app)
    response = donate(api, cause["id"], 5)
    assert (response.status_code, response.get_json()["code"]) == (409, "conflict")
    assert ledger_snapshot(app) == before
    again = api.post(f"/causes/{cause['id']}/close", as_="xindu_admin")
    assert again.get_json()["code"] == "conflict"


@pytest.mark.parametrize("who", ["rider", "dafeng_reviewer", "wuhua_admin"])
def test_only_staff_of_the_area_close_a_cause(api, world, who):
    cause = publish_cause(api)
    response = api.post(f"/causes/{cause['id']}/close", as_=who)
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")
    assert api.get(f"/causes/{cause['id']}", as_="rider").get_json()["status"] == "open"


def test_a_volunteer_of_another_area_cannot_see_or_donate(app, api, world):
    cause = publish_cause(api)
    before = ledger_snapshot(app)
    response = donate(api, cause["id"], 5, as_="kunming_volunteer")
    assert (response.status_code, response.get_json()["code"]) == (404, "not_found")
    pool = api.post("/programmes/fengxingxia/donations", as_="kunming_volunteer",
                    json={"amount_points": 5})
    assert (pool.status_code, pool.get_json()["code"]) == (403, "forbidden")
    assert api.get("/causes", as_="kunming_volunteer").get_json() == []
    assert ledger_snapshot(app) == before


@pytest.mark.parametrize("who", ["xindu_admin", "dafeng_reviewer"])
def test_staff_do_not_donate(app, api, world, who):
    cause = publish_cause(api)
    response = donate(api, cause["id"], 5, as_=who)
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")


def test_an_unknown_cause_or_programme_is_not_found(app, api, world):
    give_points(app, world, "rider", 10)
    before = ledger_snapshot(app)
    assert donate(api, 999, 5).get_json()["code"] == "not_found"
    assert api.post("/programmes/nope/donations", as_="rider",
                    json={"amount_points": 5}).get_json()["code"] == "not_found"
    assert ledger_snapshot(app) == before


def test_donating_needs_a_token(api, world):
    response = api.post("/programmes/fengxingxia/donations", json={"amount_points": 5})
    assert (response.status_code, response.get_json()["code"]) == (401, "unauthorized")
