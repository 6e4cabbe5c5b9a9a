"""Cash-out (丰行侠: points exchange for equal money) through the API: one balanced entry in
two units at the programme's rate, limits per programme, payouts recorded once by an
administrator of the volunteer's area, and refusals that change nothing."""

import pytest

from tests.payments_support import available, give_points, open_cash_out
from tests.web_support import BUDGET_POINTS, ledger_snapshot

FUND_FEN = BUDGET_POINTS * 100  # build_world funds ¥10,000 at 1 point per yuan


def cash_out(api, amount_points, as_="rider", key=None, programme="fengxingxia"):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/programmes/{programme}/cash-outs", as_=as_, headers=headers,
                    json={"amount_points": amount_points})


def cash(world, name):
    return f"volunteer:{world.ids[name]}:cash"


def test_a_cash_out_moves_points_and_money_in_one_entry(app, api, world):
    give_points(app, world, "rider", 80)
    open_cash_out(api)
    response = cash_out(api, 50)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["amount_points"], body["amount_fen"], body["status"]) == (50, 5000, "pending")
    assert available(app, world.wallet("rider")) == 30
    assert available(app, world.budget) == BUDGET_POINTS - 80 + 50
    assert available(app, world.fund) == FUND_FEN - 5000
    assert available(app, cash(world, "rider")) == 5000
    entry = api.get("/ledger/entries?kind=cash_out", as_="root_admin").get_json()["items"][0]
    assert entry["id"] == body["entry_id"]
    assert {(p["account"], p["unit"], p["amount"]) for p in entry["postings"]} == {
        (world.wallet("rider"), "POINT", -50), (world.budget, "POINT", 50),
        (world.fund, "CNY", -5000), (cash(world, "rider"), "CNY", 5000)}
    assert api.get("/me/cash-outs", as_="rider").get_json()[0]["id"] == body["id"]


def test_the_rate_converts_points_to_fen_and_refuses_fractions(app, api, world):
    created = api.post("/programmes", as_="root_admin", json={
        "code": "beans", "name": "大丰金豆", "area": "dafeng", "points_per_yuan": 30})
    assert created.status_code == 201
    api.post("/programmes/beans/funding", as_="root_admin",
             json={"amount_fen": 100_000, "source": "测试"})
    from volunteers import programmes, users
    from web.extensions import db

    with app.app_context():
        admin = users.get_user(db.session, world.ids["root_admin"])
        programmes.request_award(db.session, admin, "beans", world.ids["rider"], 90, "测试",
                                 "test:beans")
        db.session.commit()
    # 30 points a yuan: 3 points are 10 fen, so only multiples of 3 convert.
    open_cash_out(api, programme="beans", minimum_points=3, monthly_maximum_points=90)
    before = ledger_snapshot(app)
    refused = cash_out(api, 10, programme="beans")
    assert (refused.status_code, refused.get_json()["code"]) == (422, "validation_error")
    assert refused.get_json()["errors"] == {"amount_points": ["a multiple of 3"]}
    assert "3 的倍数" in refused.get_json()["message"]
    assert ledger_snapshot(app) == before
    made = cash_out(api, 45, programme="beans").get_json()
    assert (made["amount_points"], made["amount_fen"]) == (45, 150)


def test_a_retry_with_the_same_key_cashes_out_once(app, api, world):
    give_points(app, world, "rider", 60)
    open_cash_out(api)
    first = cash_out(api, 20, key="k1")
    again = cash_out(api, 20, key="k1")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert available(app, world.wallet("rider")) == 40
    before = ledger_snapshot(app)
    other = cash_out(api, 30, key="k1")
    assert (other.status_code, other.get_json()["code"]) == (409, "idempotency_conflict")
    assert ledger_snapshot(app) == before


# --- limits ---------------------------------------------------------------------------------

def test_below_the_minimum_is_a_validation_error(app, api, world):
    give_points(app, world, "rider", 60)
    open_cash_out(api, minimum_points=20)
    before = ledger_snapshot(app)
    response = cash_out(api, 19)
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_error")
    assert response.get_json()["errors"] == {"amount_points": ["at least 20"]}
    assert ledger_snapshot(app) == before


def test_over_the_monthly_maximum_is_limit_reached(app, api, world):
    give_points(app, world, "rider", 300)
    open_cash_out(api, monthly_maximum_points=100)
    assert cash_out(api, 70).status_code == 201
    before = ledger_snapshot(app)
    response = cash_out(api, 31)
    assert (response.status_code, response.get_json()["code"]) == (409, "limit_reached")
    assert "还可以兑现 30 积分" in response.get_json()["message"]
    assert ledger_snapshot(app) == before
    assert cash_out(api, 30).status_code == 201
    # The limit is per volunteer: another rider has their own month.
    give_points(app, world, "rider2", 100)
    assert cash_out(api, 100, as_="rider2").status_code == 201


def test_a_programme_without_cash_out_refuses(app, api, world):
    give_points(app, world, "rider", 60)
    before = ledger_snapshot(app)
    response = cash_out(api, 20)
    assert (response.status_code, response.get_json()["code"]) == (409, "conflict")
    open_cash_out(api, enabled=False)
    assert cash_out(api, 20).get_json()["code"] == "conflict"
    assert ledger_snapshot(app) == before
    policy = api.get("/programmes/fengxingxia/cash-out-policy", as_="rider").get_json()
    assert policy["enabled"] is False


def test_more_than_the_wallet_holds_is_insufficient_points(app, api, world):
    give_points(app, world, "rider", 15)
    open_cash_out(api)
    before = ledger_snapshot(app)
    response = cash_out(api, 16)
    assert (response.status_code, response.get_json()["code"]) == (409, "insufficient_points")
    assert ledger_snapshot(app) == before
    assert api.get("/me/cash-outs", as_="rider").get_json() == []


@pytest.mark.parametrize("amount", [0, -10, "20", 20.0, None])
def test_a_bad_amount_is_a_validation_error(app, api, world, amount):
    give_points(app, world, "rider", 30)
    open_cash_out(api)
    before = ledger_snapshot(app)
    response = cash_out(api, amount)
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_error")
    assert ledger_snapshot(app) == before


@pytest.mark.parametrize("who", ["rider", "dafeng_reviewer", "wuhua_admin"])
def test_only_admins_of_the_programme_set_limits(api, world, who):
    response = api.request("PUT", "/programmes/fengxingxia/cash-out-policy", as_=who, json={
        "enabled": True, "minimum_points": 10, "monthly_maximum_points": 100})
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")


def test_limits_must_make_sense(api, world):
    response = api.request("PUT", "/programmes/fengxingxia/cash-out-policy", as_="xindu_admin",
                           json={"enabled": True, "minimum_points": 50,
                                 "monthly_maximum_points": 40})
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_error")
    assert "monthly_maximum_points" in response.get_json()["errors"]


def test_a_volunteer_outside_the_programme_area_is_forbidden(app, api, world):
    open_cash_out(api)
    before = ledger_snapshot(app)
    response = cash_out(api, 20, as_="kunming_volunteer")
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")
    assert ledger_snapshot(app) == before


# --- paying ---------------------------------------------------------------------------------

def pending_request(app, api, world, amount_points=40, as_="rider"):
    give_points(app, world, as_, amount_points, tag=f"pay{amount_points}")
    open_cash_out(api)
    response = cash_out(api, amount_points, as_=as_)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_admin_marks_a_cash_out_paid_once(app, api, world):
    request = pending_request(app, api, world)
    queue = api.get("/cash-outs", as_="xindu_admin").get_json()
    assert [r["id"] for r in queue] == [request["id"]]
    response = api.post(f"/cash-outs/{request['id']}/paid", as_="xindu_admin",
                        json={"payout_reference": "微信转账 4200001234"})
    assert response.status_code == 200, response.get_json()
    paid = response.get_json()
    assert (paid["status"], paid["paid_by"], paid["payout_reference"]) == (
        "paid", "xindu_admin", "微信转账 4200001234")
    assert paid["paid_at"] is not None
    assert available(app, cash(world, "rider")) == 0
    assert available(app, "programme:fengxingxia:payouts") == 4000
    entry = api.get("/ledger/entries?kind=cash_out_paid", as_="root_admin").get_json()["items"]
    assert [e["id"] for e in entry] == [paid["paid_entry_id"]]
    assert api.get("/cash-outs", as_="xindu_admin").get_json() == []
    told = api.get("/me/notifications", as_="rider").get_json()["items"][0]
    assert told["text"] == "您的 40 积分兑现已支付：¥40.00，转账单号 微信转账 4200001234。"
    assert told["link"] == "/cash-out"
    assert [r["id"] for r in api.get("/cash-outs?status=paid",
                                     as_="xindu_admin").get_json()] == [request["id"]]
    before = ledger_snapshot(app)
    twice = api.post(f"/cash-outs/{request['id']}/paid", as_="root_admin",
                     json={"payout_reference": "again"})
    assert (twice.status_code, twice.get_json()["code"]) == (409, "conflict")
    assert ledger_snapshot(app) == before


@pytest.mark.parametrize("who, status, code", [
    ("rider", 403, "forbidden"), ("dafeng_reviewer", 403, "forbidden"),
    ("wuhua_admin", 403, "forbidden"),
])
def test_only_an_admin_of_the_area_marks_paid(app, api, world, who, status, code):
    request = pending_request(app, api, world)
    before = ledger_snapshot(app)
    response = api.post(f"/cash-outs/{request['id']}/paid", as_=who,
                        json={"payout_reference": "x"})
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert ledger_snapshot(app) == before
    assert api.get("/cash-outs", as_="wuhua_admin").get_json() == []


def test_marking_paid_needs_a_reference_and_a_real_request(app, api, world):
    request = pending_request(app, api, world)
    before = ledger_snapshot(app)
    blank = api.post(f"/cash-outs/{request['id']}/paid", as_="xindu_admin",
                     json={"payout_reference": ""})
    assert blank.get_json()["code"] == "validation_error"
    missing = api.post("/cash-outs/9999/paid", as_="xindu_admin",
                       json={"payout_reference": "x"})
    assert (missing.status_code, missing.get_json()["code"]) == (404, "not_found")
    assert ledger_snapshot(app) == before


def test_a_volunteer_reads_only_their_own_cash_outs(app, api, world):
    request = pending_request(app, api, world)
    assert api.get(f"/cash-outs/{request['id']}", as_="rider").status_code == 200
    other = api.get(f"/cash-outs/{request['id']}", as_="rider2")
    assert (other.status_code, other.get_json()["code"]) == (403, "forbidden")
    assert api.get("/me/cash-outs", as_="rider2").get_json() == []


def test_a_fund_that_cannot_pay_refuses_with_insufficient_funds(app, api, world):
    created = api.post("/programmes", as_="root_admin", json={
        "code": "small", "name": "小额", "area": "dafeng", "points_per_yuan": 1})
    assert created.status_code == 201
    api.post("/programmes/small/funding", as_="root_admin",
             json={"amount_fen": 2_000, "source": "测试"})  # ¥20: 20 points, ¥20 in the fund
    from volunteers import programmes, users
    from web.extensions import db

    with app.app_context():
        admin = users.get_user(db.session, world.ids["root_admin"])
        programmes.request_award(db.session, admin, "small", world.ids["rider"], 20, "测试",
                                 "test:small")
        # Money leaves the fund another way (a recorded correction), points stay issued.
        import ledger
        from ledger import Posting

        ledger.post(db.session, idempotency_key="test:small:drain", kind="settlement",
                    postings=[Posting("programme:small:fund", -1_500, "CNY"),
                              Posting("world:cny", 1_500, "CNY")])
        db.session.commit()
    open_cash_out(api, programme="small", minimum_points=1, monthly_maximum_points=100)
    before = ledger_snapshot(app)
    response = cash_out(api, 10, programme="small")
    assert (response.status_code, response.get_json()["code"]) == (409, "insufficient_funds")
    assert ledger_snapshot(app) == before
    assert cash_out(api, 5, programme="small").status_code == 201


def test_a_retried_payout_with_its_key_answers_as_before(app, api, world):
    request = pending_request(app, api, world)
    path = f"/cash-outs/{request['id']}/paid"
    body = {"payout_reference": "微信转账 4200009999"}
    first = api.post(path, as_="xindu_admin", headers={"Idempotency-Key": "pay-1"}, json=body)
    assert first.status_code == 200
    after = ledger_snapshot(app)
    again = api.post(path, as_="xindu_admin", headers={"Idempotency-Key": "pay-1"}, json=body)
    assert (again.status_code, again.get_json()) == (200, first.get_json())
    other = api.post(path, as_="xindu_admin", headers={"Idempotency-Key": "pay-1"},
                     json={"payout_reference": "另一笔"})
    assert (other.status_code, other.get_json()["code"]) == (409, "idempotency_conflict")
    fresh = api.post(path, as_="xindu_admin", headers={"Idempotency-Key": "pay-2"}, json=body)
    assert (fresh.status_code, fresh.get_json()["code"]) == (409, "conflict")
    assert ledger_snapshot(app) == after
