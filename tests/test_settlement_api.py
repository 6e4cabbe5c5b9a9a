"""Settlements and settlement rates through the JSON API on both databases: a run pays
accepted points once however often it is repeated, a settlement is marked paid once, and only
administrators of the programme's area see or do any of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.clock import CHINA
from tests.merchants_support import OFFER_PRICE_POINTS, build_shops_in_app
from tests.test_merchants_settlement import LAST_MONTH, balances, into_last_month, redeem_two
from tests.web_support import BUDGET_POINTS, ledger_snapshot

FEN_PER_POINT = 100
AMOUNT_FEN = 2 * OFFER_PRICE_POINTS * FEN_PER_POINT
RUN = "/programmes/fengxingxia/settlements"
RATE = "/programmes/fengxingxia/settlement-rate"


@pytest.fixture
def shops(app, world):
    return build_shops_in_app(app, world)


@pytest.fixture
def redeemed_last_month(app, api, shops):
    redeem_two(api, shops)
    into_last_month(app)
    return shops


def set_rate(api, fen_per_point=FEN_PER_POINT, as_="xindu_admin", **more):
    response = api.put(RATE, as_=as_, json={"fen_per_point": fen_per_point, **more})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assert_refused(app, response, status: int, code: str, before: dict) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == code, body
    assert body["message"]
    assert ledger_snapshot(app) == before


def test_rates_are_read_and_set_for_the_programme_and_one_merchant(app, api, world, shops):
    assert api.get(RATE, as_="xindu_admin").get_json() == {
        "programme": "fengxingxia", "fen_per_point": None, "merchant_rates": []}
    assert set_rate(api, 50)["fen_per_point"] == 50
    sheet = set_rate(api, 80, merchant_id=shops.merchant)
    assert sheet == {"programme": "fengxingxia", "fen_per_point": 50, "merchant_rates": [
        {"merchant_id": shops.merchant, "merchant_name": "大丰老茶馆", "fen_per_point": 80}]}
    assert set_rate(api, 60, as_="root_admin")["fen_per_point"] == 60
    assert api.get(RATE, as_="root_admin").get_json()["merchant_rates"][0]["fen_per_point"] == 80


def test_a_run_settles_once_and_a_second_run_settles_nothing_new(app, api, world,
                                                                 redeemed_last_month):
    shops = redeemed_last_month
    set_rate(api)
    cash, accepted = f"merchant:{shops.merchant}:cash", f"merchant:{shops.merchant}:accepted"
    first = api.post(RUN, as_="xindu_admin", json={"period": LAST_MONTH})
    body = first.get_json()
    assert first.status_code == 200, body
    assert (body["programme"], body["period"], body["already_settled"], body["skipped"]) == (
        "fengxingxia", LAST_MONTH, [], [])
    settled, = body["settled"]
    assert (settled["merchant_id"], settled["merchant_name"], settled["period"],
            settled["redemptions"], settled["points"], settled["fen_per_point"],
            settled["amount_fen"], settled["status"], settled["created_by"]) == (
        shops.merchant, "大丰老茶馆", LAST_MONTH, 2, 2 * OFFER_PRICE_POINTS, FEN_PER_POINT,
        AMOUNT_FEN, "posted", "xindu_admin")
    assert balances(app, world.fund, cash, accepted) == {
        world.fund: BUDGET_POINTS * 100 - AMOUNT_FEN, cash: AMOUNT_FEN, accepted: 0}

    before = ledger_snapshot(app)
    second = api.post(RUN, as_="root_admin", json={"period": LAST_MONTH}).get_json()
    assert (second["settled"], [s["id"] for s in second["already_settled"]]) == (
        [], [settled["id"]])
    assert ledger_snapshot(app) == before
    listed = api.get(f"/settlements?programme=fengxingxia&period={LAST_MONTH}&status=posted",
                     as_="xindu_admin").get_json()
    assert [s["id"] for s in listed] == [settled["id"]]
    assert api.get(f"/settlements/{settled['id']}", as_="xindu_admin").get_json()[
        "amount_fen"] == AMOUNT_FEN

    paid = api.post(f"/settlements/{settled['id']}/paid", as_="xindu_admin",
                    json={"payment_reference": "银行流水 2026-001"})
    assert paid.status_code == 200, paid.get_json()
    assert (paid.get_json()["status"], paid.get_json()["payment_reference"]) == (
        "paid", "银行流水 2026-001")
    assert balances(app, cash)[cash] == 0
    before = ledger_snapshot(app)
    assert_refused(app, api.post(f"/settlements/{settled['id']}/paid", as_="root_admin",
                                 json={"payment_reference": "again"}), 409, "conflict", before)
    assert [s["status"] for s in api.get("/settlements?status=paid",
                                         as_="xindu_admin").get_json()] == ["paid"]
    assert api.get("/settlements?status=posted", as_="xindu_admin").get_json() == []


def test_a_retried_run_with_the_same_key_answers_the_first_body(app, api, world,
                                                               redeemed_last_month):
    set_rate(api)
    key = {"Idempotency-Key": "run-2026"}
    first = api.post(RUN, as_="xindu_admin", json={"period": LAST_MONTH}, headers=key)
    after_first = ledger_snapshot(app)
    again = api.post(RUN, as_="xindu_admin", json={"period": LAST_MONTH}, headers=key)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert len(again.get_json()["settled"]) == 1
    assert ledger_snapshot(app) == after_first
    other_month = datetime.now(UTC).replace(year=datetime.now(UTC).year - 2).strftime("%Y-%m")
    assert_refused(app, api.post(RUN, as_="xindu_admin", json={"period": other_month},
                                 headers=key), 409, "idempotency_conflict", after_first)
    settlement_id = first.get_json()["settled"][0]["id"]
    paid_key = {"Idempotency-Key": "paid-1"}
    body = {"payment_reference": "转账 88"}
    paid = api.post(f"/settlements/{settlement_id}/paid", as_="xindu_admin", json=body,
                    headers=paid_key)
    after_paid = ledger_snapshot(app)
    retried = api.post(f"/settlements/{settlement_id}/paid", as_="xindu_admin", json=body,
                       headers=paid_key)
    assert (retried.status_code, retried.get_json()) == (200, paid.get_json())
    assert ledger_snapshot(app) == after_paid


def test_a_merchant_without_a_rate_is_skipped_and_nothing_moves(app, api, world,
                                                               redeemed_last_month):
    before = ledger_snapshot(app)
    body = api.post(RUN, as_="xindu_admin", json={"period": LAST_MONTH}).get_json()
    assert (body["settled"], body["already_settled"]) == ([], [])
    assert body["skipped"] == [{"merchant_id": redeemed_last_month.merchant,
                                "merchant_name": "大丰老茶馆", "problem": "no settlement rate"}]
    assert ledger_snapshot(app) == before


@pytest.mark.parametrize("as_, status, code", [
    pytest.param("wuhua_admin", 403, "forbidden", id="admin-of-another-district"),
    pytest.param("dafeng_reviewer", 403, "forbidden", id="reviewer"),
    pytest.param("till", 403, "forbidden", id="the-merchants-own-staff"),
    pytest.param("rider", 403, "forbidden", id="volunteer"),
    pytest.param(None, 401, "unauthorized", id="anonymous"),
])
def test_only_admins_of_the_programmes_area_settle_and_set_rates(app, api, world,
                                                                 redeemed_last_month, as_,
                                                                 status, code):
    set_rate(api)
    settled = api.post(RUN, as_="xindu_admin", json={"period": LAST_MONTH}).get_json()
    settlement_id = settled["settled"][0]["id"]
    before = ledger_snapshot(app)
    assert_refused(app, api.post(RUN, as_=as_, json={"period": LAST_MONTH}), status, code,
                   before)
    assert_refused(app, api.put(RATE, as_=as_, json={"fen_per_point": 1}), status, code,
                   before)
    assert_refused(app, api.get(RATE, as_=as_), status, code, before)
    assert_refused(app, api.post(f"/settlements/{settlement_id}/paid", as_=as_,
                                 json={"payment_reference": "x"}), status, code, before)
    assert_refused(app, api.get(f"/settlements/{settlement_id}", as_=as_), status, code,
                   before)
    assert_refused(app, api.get("/settlements?programme=fengxingxia", as_=as_), status, code,
                   before)
    assert api.get(RATE, as_="xindu_admin").get_json()["fen_per_point"] == FEN_PER_POINT
    assert api.get(f"/settlements/{settlement_id}", as_="xindu_admin").get_json()[
        "status"] == "posted"


def test_an_admin_elsewhere_lists_none_of_this_programmes_settlements(app, api, world,
                                                                    redeemed_last_month):
    set_rate(api)
    api.post(RUN, as_="xindu_admin", json={"period": LAST_MONTH})
    assert api.get("/settlements", as_="wuhua_admin").get_json() == []
    assert len(api.get("/settlements", as_="root_admin").get_json()) == 1


@pytest.mark.parametrize("path, body, status, code", [
    pytest.param(RUN, {"period": "2026-13"}, 422, "validation_error", id="no-such-month"),
    pytest.param(RUN, {"period": "26-01"}, 422, "validation_error", id="not-yyyy-mm"),
    pytest.param(RUN, {"period": datetime.now(CHINA).strftime("%Y-%m")}, 422,
                 "validation_error", id="this-month-has-not-ended"),
    pytest.param("/programmes/nope/settlements", {"period": LAST_MONTH}, 404, "not_found",
                 id="unknown-programme"),
    pytest.param(RATE, {"fen_per_point": 0}, 422, "validation_error", id="zero-rate"),
    pytest.param(RATE, {"fen_per_point": -5}, 422, "validation_error", id="negative-rate"),
    pytest.param(RATE, {"fen_per_point": "100"}, 422, "validation_error", id="string-rate"),
    pytest.param(RATE, {"fen_per_point": 10_001}, 422, "validation_error", id="huge-rate"),
    pytest.param(RATE, {"fen_per_point": 5, "merchant_id": 999999}, 404, "not_found",
                 id="unknown-merchant"),
    pytest.param("/settlements/999999/paid", {"payment_reference": "x"}, 404, "not_found",
                 id="unknown-settlement"),
    pytest.param("/settlements/999999/paid", {}, 422, "validation_error", id="no-reference"),
])
def test_bad_settlement_requests_change_nothing(app, api, world, redeemed_last_month, path,
                                                body, status, code):
    before = ledger_snapshot(app)
    method = api.put if path.endswith("settlement-rate") else api.post
    assert_refused(app, method(path, as_="xindu_admin", json=body), status, code, before)
    assert api.get(RATE, as_="xindu_admin").get_json()["fen_per_point"] is None
    assert api.get("/settlements", as_="xindu_admin").get_json() == []


@pytest.mark.parametrize("query", ["status=owed", "period=2026-1", "period=last"])
def test_bad_settlement_filters_are_validation_errors(app, api, world, shops, query):
    response = api.get(f"/settlements?{query}", as_="xindu_admin")
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_error")
