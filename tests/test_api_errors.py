"""Every way the API refuses: the status, the CONTRACT's ``code``, and a ledger left exactly
as it was."""

import inspect
import re

import pytest

import ledger
from tests.web_support import PASSWORD, ledger_snapshot

BAD_AMOUNTS = [
    pytest.param(-5, id="negative"),
    pytest.param(0, id="zero"),
    pytest.param(1.5, id="fractional"),
    pytest.param(5.0, id="float-with-integer-value"),
    pytest.param("10", id="string"),
    pytest.param(True, id="boolean"),
    pytest.param(None, id="null"),
    pytest.param(ledger.MAX_AMOUNT + 1, id="huge"),
    pytest.param(10**30, id="far-beyond-bigint"),
]


def assert_refused(app, response, status: int, code: str, before: dict, field: str | None = None):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert field in body["errors"], body
    else:
        assert "errors" not in body or status == 422
    assert ledger_snapshot(app) == before


def award_body(world, **changes):
    body = {"volunteer_id": world.ids["rider"], "amount_points": 20, "reason": "上报井盖缺失"}
    body.update(changes)
    return body


def funding_body(**changes):
    body = {"amount_fen": 10_000, "source": "社治激励资金"}
    body.update(changes)
    return body


# --- amounts --------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_funding_with_a_bad_amount_is_a_validation_error(app, api, world, amount):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/funding", as_="root_admin",
                        json=funding_body(amount_fen=amount))
    assert_refused(app, response, 422, "validation_error", before, field="amount_fen")


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_award_with_a_bad_amount_is_a_validation_error(app, api, world, amount):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer",
                        json=award_body(world, amount_points=amount))
    assert_refused(app, response, 422, "validation_error", before, field="amount_points")


@pytest.mark.parametrize("volunteer_id", ["7", 1.5, True, 0, -1])
def test_award_with_a_bad_volunteer_id_is_a_validation_error(app, api, world, volunteer_id):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer",
                        json=award_body(world, volunteer_id=volunteer_id))
    assert_refused(app, response, 422, "validation_error", before, field="volunteer_id")


def test_largest_allowed_funding_is_accepted(app, api, world):
    response = api.post("/programmes/fengxingxia/funding", as_="root_admin",
                        json=funding_body(amount_fen=ledger.MAX_AMOUNT))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount_points"] == ledger.MAX_AMOUNT // 100


# --- missing and unknown fields ---------------------------------------------------------------

@pytest.mark.parametrize("missing", ["amount_fen", "source"])
def test_funding_without_a_field_names_it(app, api, world, missing):
    before = ledger_snapshot(app)
    body = funding_body()
    del body[missing]
    response = api.post("/programmes/fengxingxia/funding", as_="root_admin", json=body)
    assert_refused(app, response, 422, "validation_error", before, field=missing)


@pytest.mark.parametrize("missing", ["volunteer_id", "amount_points", "reason"])
def test_award_without_a_field_names_it(app, api, world, missing):
    before = ledger_snapshot(app)
    body = award_body(world)
    del body[missing]
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer", json=body)
    assert_refused(app, response, 422, "validation_error", before, field=missing)


def test_award_with_a_blank_reason_is_refused(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer",
                        json=award_body(world, reason="   "))
    assert_refused(app, response, 422, "validation_error", before, field="reason")


def test_funding_with_an_unknown_field_names_it(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/funding", as_="root_admin",
                        json=funding_body(amount_points=500))
    assert_refused(app, response, 422, "validation_error", before, field="amount_points")


def test_award_with_an_unknown_field_names_it(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer",
                        json=award_body(world, approved_by="root_admin"))
    assert_refused(app, response, 422, "validation_error", before, field="approved_by")


def test_an_empty_body_names_every_required_field(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer", json={})
    assert_refused(app, response, 422, "validation_error", before)
    assert set(response.get_json()["errors"]) == {"volunteer_id", "amount_points", "reason"}


def test_a_body_that_is_not_an_object_is_refused(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer", json=[1, 2])
    body = response.get_json()
    assert response.status_code in (400, 422), body
    assert body["code"] in ("bad_request", "validation_error")
    assert ledger_snapshot(app) == before


def test_a_query_argument_of_the_wrong_type_names_it(app, api, world):
    response = api.get(f"/accounts/{world.budget}/statement?before=soon", as_="root_admin")
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"
    assert "before" in response.get_json()["errors"]


# --- things that do not exist -----------------------------------------------------------------

def test_funding_an_unknown_programme_is_not_found(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/no-such-programme/funding", as_="root_admin",
                        json=funding_body())
    assert_refused(app, response, 404, "not_found", before)


def test_award_on_an_unknown_programme_is_not_found(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/no-such-programme/awards", as_="root_admin",
                        json=award_body(world))
    assert_refused(app, response, 404, "not_found", before)


def test_reading_an_unknown_programme_is_not_found(app, api, world):
    response = api.get("/programmes/no-such-programme", as_="root_admin")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_award_to_an_unknown_volunteer_is_not_found(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin",
                        json=award_body(world, volunteer_id=999_999))
    assert_refused(app, response, 404, "not_found", before)


def test_award_to_a_staff_member_without_a_wallet_is_not_found(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin",
                        json=award_body(world, volunteer_id=world.ids["dafeng_reviewer"]))
    assert_refused(app, response, 404, "not_found", before)


@pytest.mark.parametrize("code", ["volunteer:999999:wallet", "programme:nope:budget", "nothing"])
def test_reading_an_unknown_account_is_not_found(app, api, world, code):
    response = api.get(f"/accounts/{code}", as_="root_admin")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_approving_an_unknown_award_is_not_found(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/awards/999999/approve", as_="root_admin", json={})
    assert_refused(app, response, 404, "not_found", before)


def test_an_unknown_api_path_answers_in_the_error_format(client, world):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


# --- who is asking -----------------------------------------------------------------------------

@pytest.mark.parametrize("authorization", [
    pytest.param(None, id="no-token"),
    pytest.param("Bearer not-a-real-token", id="bad-token"),
    pytest.param("Bearer ", id="empty-token"),
    pytest.param(f"Basic {'cm9vdF9hZG1pbjpjb3JyZWN0LWhvcnNlLTk='}", id="basic-auth"),
])
def test_funding_without_a_valid_token_is_unauthorized(app, api, world, authorization):
    before = ledger_snapshot(app)
    headers = {"Authorization": authorization} if authorization else {}
    response = api.post("/programmes/fengxingxia/funding", json=funding_body(), headers=headers)
    assert_refused(app, response, 401, "unauthorized", before)


@pytest.mark.parametrize("path", ["/me", "/programmes", "/ledger/entries",
                                  "/accounts/programme:fengxingxia:budget"])
def test_reads_without_a_token_are_unauthorized(api, world, path):
    response = api.get(path, headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_a_session_cookie_does_not_authenticate_the_api(app, world):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(world.ids["root_admin"])
        session["_fresh"] = True
        session["generation"] = 0  # a current session: it opens the pages, not the API
    assert client.get("/admin").status_code == 200
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_a_wrong_password_gets_no_token(client, world):
    response = client.post("/api/v1/auth/tokens",
                           json={"username": "root_admin", "password": "wrong-password"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_an_unknown_user_gets_no_token(client, world):
    response = client.post("/api/v1/auth/tokens",
                           json={"username": "nobody", "password": PASSWORD})
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/programmes", {"code": "mine", "name": "我的", "area": "sanyuan",
                             "points_per_yuan": 1}),
    ("POST", "/programmes/fengxingxia/funding", {"amount_fen": 100, "source": "myself"}),
    ("POST", "/programmes/fengxingxia/awards", None),
    ("GET", "/awards", None),
])
def test_a_volunteer_calling_admin_routes_is_forbidden(app, api, world, method, path, body):
    if path.endswith("/awards") and method == "POST":
        body = award_body(world, volunteer_id=world.ids["rider"])
    before = ledger_snapshot(app)
    response = api.request(method, path, as_="rider", json=body)
    assert_refused(app, response, 403, "forbidden", before)


def test_a_volunteer_cannot_approve_an_award(app, api, world):
    requested = api.post("/programmes/fengxingxia/awards", as_="root_admin",
                         json=award_body(world, amount_points=500)).get_json()
    before = ledger_snapshot(app)
    response = api.post(f"/awards/{requested['id']}/approve", as_="rider", json={})
    assert_refused(app, response, 403, "forbidden", before)


def test_a_reviewer_cannot_fund_a_programme(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/funding", as_="dafeng_reviewer",
                        json=funding_body())
    assert_refused(app, response, 403, "forbidden", before)


# --- areas ----------------------------------------------------------------------------------------

def test_an_admin_of_another_district_cannot_fund_the_programme(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/funding", as_="wuhua_admin",
                        json=funding_body())
    assert_refused(app, response, 403, "forbidden", before)


def test_an_admin_of_another_district_cannot_award_in_it(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="wuhua_admin",
                        json=award_body(world))
    assert_refused(app, response, 403, "forbidden", before)


def test_a_community_reviewer_cannot_award_a_volunteer_of_another_community(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="nanfeng_reviewer",
                        json=award_body(world, volunteer_id=world.ids["rider"]))
    assert_refused(app, response, 403, "forbidden", before)


def test_a_community_reviewer_awards_a_volunteer_of_their_own_community(app, api, world):
    response = api.post("/programmes/fengxingxia/awards", as_="nanfeng_reviewer",
                        json=award_body(world, volunteer_id=world.ids["rider2"]))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "posted"


def test_an_admin_of_another_district_cannot_read_its_accounts(app, api, world):
    response = api.get(f"/accounts/{world.wallet('kunming_volunteer')}", as_="xindu_admin")
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_an_admin_of_another_district_cannot_read_a_programme_account(app, api, world):
    response = api.get(f"/accounts/{world.budget}", as_="wuhua_admin")
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"
    response = api.get(f"/accounts/{world.budget}/statement", as_="wuhua_admin")
    assert response.status_code == 403


def test_an_admin_of_another_district_cannot_approve_an_award(app, api, world):
    requested = api.post("/programmes/fengxingxia/awards", as_="root_admin",
                         json=award_body(world, amount_points=500)).get_json()
    before = ledger_snapshot(app)
    response = api.post(f"/awards/{requested['id']}/approve", as_="wuhua_admin", json={})
    assert_refused(app, response, 403, "forbidden", before)


def test_an_admin_cannot_create_a_programme_outside_their_area(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes", as_="xindu_admin",
                        json={"code": "cuihu-beans", "name": "翠湖", "area": "cuihu",
                              "points_per_yuan": 1})
    assert_refused(app, response, 403, "forbidden", before)


# --- budget --------------------------------------------------------------------------------------

def test_approving_an_award_larger_than_the_budget_is_budget_exhausted(app, api, world):
    requested = api.post("/programmes/fengxingxia/awards", as_="root_admin",
                         json=award_body(world, amount_points=10_001))
    assert requested.status_code == 201, requested.get_json()
    assert requested.get_json()["status"] == "awaiting_approval"
    before = ledger_snapshot(app)
    response = api.post(f"/awards/{requested.get_json()['id']}/approve", as_="second_admin",
                        json={})
    assert_refused(app, response, 409, "budget_exhausted", before)
    # The award still waits: nothing about it changed.
    pending = api.get("/awards", as_="root_admin").get_json()
    assert [award["id"] for award in pending] == [requested.get_json()["id"]]


def test_approving_big_awards_until_the_budget_runs_out(app, api, world):
    ids = []
    for _ in range(3):
        response = api.post("/programmes/fengxingxia/awards", as_="root_admin",
                            json=award_body(world, amount_points=4_000))
        ids.append(response.get_json()["id"])
    for award_id in ids[:2]:
        response = api.post(f"/awards/{award_id}/approve", as_="second_admin", json={})
        assert response.status_code == 200, response.get_json()
    before = ledger_snapshot(app)
    response = api.post(f"/awards/{ids[2]}/approve", as_="second_admin", json={})
    assert_refused(app, response, 409, "budget_exhausted", before)
    assert before["accounts"][world.budget][0] == 2_000


def test_an_award_beyond_a_small_programme_budget_is_budget_exhausted(app, api, world):
    created = api.post("/programmes", as_="root_admin",
                       json={"code": "tiny", "name": "小额", "area": "dafeng",
                             "points_per_yuan": 1})
    assert created.status_code == 201, created.get_json()
    funded = api.post("/programmes/tiny/funding", as_="root_admin",
                      json=funding_body(amount_fen=500))
    assert funded.get_json()["amount_points"] == 5
    before = ledger_snapshot(app)
    response = api.post("/programmes/tiny/awards", as_="dafeng_reviewer",
                        json=award_body(world, amount_points=6))
    assert_refused(app, response, 409, "budget_exhausted", before)
    exact = api.post("/programmes/tiny/awards", as_="dafeng_reviewer",
                     json=award_body(world, amount_points=5))
    assert exact.status_code == 201, exact.get_json()


def test_an_award_on_an_unfunded_programme_is_budget_exhausted(app, api, world):
    api.post("/programmes", as_="root_admin",
             json={"code": "empty", "name": "未拨款", "area": "dafeng", "points_per_yuan": 1})
    before = ledger_snapshot(app)
    response = api.post("/programmes/empty/awards", as_="dafeng_reviewer",
                        json=award_body(world, amount_points=1))
    assert_refused(app, response, 409, "budget_exhausted", before)


# --- idempotency ---------------------------------------------------------------------------------

def test_every_endpoint_taking_an_idempotency_key_replays_through_one_mechanism(app):
    """One mechanism (web/api/idempotency.py, run_once) for every endpoint whose OpenAPI
    operation declares the Idempotency-Key header."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    declared = {(path, method.upper()) for path, item in document["paths"].items()
                for method, operation in item.items() if isinstance(operation, dict)
                if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))}
    assert len(declared) >= 15
    views = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods:
            views[(path, method)] = app.view_functions[rule.endpoint]
    without = [f"{method} {path}" for path, method in sorted(declared)
               if "run_once(" not in inspect.getsource(inspect.unwrap(views[(path, method)]))]
    assert without == []


def test_funding_retried_with_the_same_key_and_body_returns_the_first(app, api, world):
    headers = {"Idempotency-Key": "fund-2026-01"}
    first = api.post("/programmes/fengxingxia/funding", as_="root_admin", headers=headers,
                     json=funding_body())
    assert first.status_code == 201, first.get_json()
    after_first = ledger_snapshot(app)
    again = api.post("/programmes/fengxingxia/funding", as_="root_admin", headers=headers,
                     json=funding_body())
    assert again.status_code == 201, again.get_json()
    assert again.get_json() == first.get_json()
    assert ledger_snapshot(app) == after_first


@pytest.mark.parametrize("changes", [{"amount_fen": 20_000}, {"source": "另一笔资金"}])
def test_funding_reusing_a_key_with_another_body_is_a_conflict(app, api, world, changes):
    headers = {"Idempotency-Key": "fund-2026-02"}
    api.post("/programmes/fengxingxia/funding", as_="root_admin", headers=headers,
             json=funding_body())
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/funding", as_="root_admin", headers=headers,
                        json=funding_body(**changes))
    assert_refused(app, response, 409, "idempotency_conflict", before)


def test_award_retried_with_the_same_key_and_body_returns_the_first(app, api, world):
    headers = {"Idempotency-Key": "award-rider-1"}
    first = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer", headers=headers,
                     json=award_body(world))
    assert first.status_code == 201, first.get_json()
    after_first = ledger_snapshot(app)
    again = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer", headers=headers,
                     json=award_body(world))
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["entry_id"] == first.get_json()["entry_id"]
    assert ledger_snapshot(app) == after_first
    assert after_first["accounts"][world.wallet("rider")][0] == 20


def test_an_award_awaiting_approval_retried_creates_no_second_award(app, api, world):
    headers = {"Idempotency-Key": "award-big-1"}
    body = award_body(world, amount_points=300)
    first = api.post("/programmes/fengxingxia/awards", as_="root_admin", headers=headers,
                     json=body).get_json()
    again = api.post("/programmes/fengxingxia/awards", as_="root_admin", headers=headers,
                     json=body).get_json()
    assert again["id"] == first["id"]
    assert [award["id"] for award in api.get("/awards", as_="root_admin").get_json()] == [
        first["id"]]


@pytest.mark.parametrize("changes", [
    {"amount_points": 21}, {"reason": "另一件事"}, {"volunteer_id": "rider2"},
])
def test_award_reusing_a_key_with_another_body_is_a_conflict(app, api, world, changes):
    if changes.get("volunteer_id") == "rider2":
        changes = {"volunteer_id": world.ids["rider2"]}
    headers = {"Idempotency-Key": "award-rider-2"}
    api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer", headers=headers,
             json=award_body(world))
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer",
                        headers=headers, json=award_body(world, **changes))
    assert_refused(app, response, 409, "idempotency_conflict", before)


def test_an_overlong_idempotency_key_is_a_validation_error(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/funding", as_="root_admin",
                        headers={"Idempotency-Key": "k" * 101}, json=funding_body())
    assert_refused(app, response, 422, "validation_error", before, field="Idempotency-Key")


# --- workflow conflicts ---------------------------------------------------------------------------

def test_creating_a_programme_with_a_taken_code_is_a_conflict(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes", as_="root_admin",
                        json={"code": "fengxingxia", "name": "again", "area": "dafeng",
                              "points_per_yuan": 1})
    assert_refused(app, response, 409, "conflict", before)


def test_a_programme_on_an_unknown_area_is_not_found(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes", as_="root_admin",
                        json={"code": "nowhere", "name": "无处", "area": "atlantis",
                              "points_per_yuan": 1})
    assert_refused(app, response, 404, "not_found", before)


# --- rate limit ----------------------------------------------------------------------------------

@pytest.fixture
def limited_app(make_app):
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                    LOGIN_RATE_LIMIT="3 per minute")


def test_the_fourth_token_request_in_a_minute_is_rate_limited(limited_app):
    from tests.web_support import build_world

    build_world(limited_app)
    client = limited_app.test_client()
    answers = [client.post("/api/v1/auth/tokens",
                           json={"username": "rider", "password": "wrong-password"})
               for _ in range(3)]
    assert [answer.status_code for answer in answers] == [401, 401, 401]
    fourth = client.post("/api/v1/auth/tokens", json={"username": "rider", "password": PASSWORD})
    assert fourth.status_code == 429
    body = fourth.get_json()
    assert body["code"] == "rate_limited"
    assert body["message"]

