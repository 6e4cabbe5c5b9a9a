"""Every input bounded at the edge (issue 19, part 1): ids beyond the column, amounts beyond
it, NUL and control characters in path, query, form and JSON, deep or large JSON, periods and
dates out of range. Each is a 4xx with its stable code, and the ledger is left as it was."""

import pytest

from tests.web_support import ledger_snapshot
from web.api.schemas.common import INT32_MAX


def refused(response, status, code):
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert body["code"] == code, body
    return body


@pytest.mark.parametrize("path", ["/reports/2147483648", "/offers/99999999999999999999",
                                  "/wishes/2147483648/claim", "/causes/4294967296"])
def test_an_id_beyond_the_column_is_not_found(api, path):
    method = "post" if path.endswith("claim") else "get"
    response = getattr(api, method)(path, as_="rider", json={} if method == "post" else None)
    refused(response, 404, "not_found")


def test_the_largest_int32_id_is_an_ordinary_miss(api):
    refused(api.get(f"/reports/{INT32_MAX}", as_="rider"), 404, "not_found")


def test_an_award_beyond_the_integer_column_is_a_validation_error(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin", json={
        "volunteer_id": world.ids["rider"], "amount_points": 2**31, "reason": "太多"})
    body = refused(response, 422, "validation_error")
    assert "amount_points" in body["errors"]
    assert ledger_snapshot(app) == before


@pytest.mark.parametrize("field", ["volunteer_id"])
def test_an_id_in_a_body_beyond_the_column_is_a_validation_error(api, world, field):
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin", json={
        "volunteer_id": 2**31, "amount_points": 5, "reason": "井盖"})
    assert field in refused(response, 422, "validation_error")["errors"]


def test_a_query_id_beyond_the_column_is_a_validation_error(api):
    response = api.get("/offers?merchant_id=2147483648", as_="rider")
    assert "merchant_id" in refused(response, 422, "validation_error")["errors"]


def test_nul_in_json_is_refused(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin", json={
        "volunteer_id": world.ids["rider"], "amount_points": 5, "reason": "井\x00盖"})
    body = refused(response, 400, "invalid_characters")
    assert "reason" in body["errors"]
    assert ledger_snapshot(app) == before


def test_a_lone_surrogate_in_json_is_refused(api, world):
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin",
                        data=b'{"reason": "\\ud800", "volunteer_id": 1, "amount_points": 1}',
                        content_type="application/json")
    refused(response, 400, "invalid_characters")


@pytest.mark.parametrize("query", ["status=open%00", "status%00=open", "q=%1b[2J"])
def test_control_characters_in_a_query_are_refused(api, query):
    refused(api.get(f"/reports?{query}", as_="rider"), 400, "invalid_characters")


def test_nul_in_a_path_is_refused(api):
    refused(api.get("/programmes/feng%00xingxia", as_="rider"), 400, "invalid_characters")


def test_nul_in_an_idempotency_key_is_refused(api, world):
    response = api.post("/programmes/fengxingxia/funding", as_="root_admin",
                        headers={"Idempotency-Key": "k\x01"},
                        json={"amount_fen": 100, "source": "x"})
    refused(response, 400, "invalid_characters")


def test_tabs_and_new_lines_are_text(api, world):
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin", json={
        "volunteer_id": world.ids["rider"], "amount_points": 5, "reason": "井盖\n缺失\t两处"})
    assert response.status_code == 201, response.get_json()


def test_nul_in_a_form_is_refused_on_a_page(client, world):
    response = client.post("/login", data={"username": "rider\x00", "password": "x"})
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)


def test_deeply_nested_json_is_refused(api):
    body = b"[" * 100_000 + b"]" * 100_000
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin", data=body,
                        content_type="application/json")
    refused(response, 400, "too_deep")


def test_brackets_inside_strings_do_not_count(api, world):
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin", json={
        "volunteer_id": world.ids["rider"], "amount_points": 5, "reason": "[" * 100})
    assert response.status_code == 201, response.get_json()


def test_a_large_json_body_is_refused(api):
    body = b'{"reason": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin", data=body,
                        content_type="application/json")
    refused(response, 413, "payload_too_large")


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "1999-12"])
def test_a_settlement_period_out_of_range_is_a_validation_error(api, world, period):
    response = api.post("/programmes/fengxingxia/settlements", as_="root_admin",
                        json={"period": period})
    assert "period" in refused(response, 422, "validation_error")["errors"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_out_of_range_is_a_validation_error(api, world, day):
    response = api.get(f"/me/hours?since={day}", as_="rider")
    assert response.status_code in (200, 422), response.get_json()
    response = api.get(f"/merchants/1/statement?since={day}", as_="root_admin")
    assert response.status_code in (404, 422), response.get_json()
    if response.status_code == 422:
        assert "since" in response.get_json()["errors"]


def test_the_document_states_the_bounds(api):
    document = api.client.get("/api/v1/openapi.json").get_json()
    parameter = document["paths"]["/api/v1/reports/{report_id}"]["parameters"][0]
    assert parameter["schema"]["maximum"] == INT32_MAX
    award = document["components"]["schemas"]["AwardRequest"]["properties"]["amount_points"]
    assert award["maximum"] == INT32_MAX
