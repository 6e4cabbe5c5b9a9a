"""Programmes through the API: creation on an area, funding at the programme's rate, and
manual awards with maker-checker above the threshold."""

import pytest

from tests.web_support import BUDGET_POINTS, ledger_snapshot


def new_programme(**changes):
    body = {"code": "wuhua-beans", "name": "五华金豆", "area": "wuhua", "points_per_yuan": 10}
    body.update(changes)
    return body


def award(api, world, as_="root_admin", amount_points=20, volunteer="rider", **headers):
    return api.post("/programmes/fengxingxia/awards", as_=as_, headers=headers,
                    json={"volunteer_id": world.ids[volunteer], "amount_points": amount_points,
                          "reason": "协助调解路边纠纷"})


def posted(app, account: str) -> int:
    return ledger_snapshot(app)["accounts"][account][0]


# --- creating, listing, reading ---------------------------------------------------------------

def test_an_admin_creates_a_programme_with_its_chart_of_accounts(app, api, world):
    response = api.post("/programmes", as_="wuhua_admin",
                        json=new_programme(award_approval_threshold_points=300))
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {
        "code": "wuhua-beans", "name": "五华金豆", "area": "wuhua", "points_per_yuan": 10,
        "award_approval_threshold_points": 300, "fund_fen": 0, "budget_points": 0,
    }
    accounts = ledger_snapshot(app)["accounts"]
    for name in ("fund", "budget", "donations", "expired", "payouts"):
        assert accounts[f"programme:wuhua-beans:{name}"] == (0, 0, 0)


def test_a_programme_without_a_threshold_gets_the_default(api, world):
    from volunteers.programmes import DEFAULT_APPROVAL_THRESHOLD_POINTS

    response = api.post("/programmes", as_="root_admin", json=new_programme())
    assert response.get_json()["award_approval_threshold_points"] == (
        DEFAULT_APPROVAL_THRESHOLD_POINTS)


def test_an_admin_of_a_parent_area_creates_a_programme_below_it(api, world):
    response = api.post("/programmes", as_="xindu_admin",
                        json=new_programme(code="nanfeng-beans", area="nanfeng"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["area"] == "nanfeng"


@pytest.mark.parametrize("who", ["rider", "dafeng_reviewer"])
def test_only_admins_create_programmes(api, world, who):
    response = api.post("/programmes", as_=who, json=new_programme(area="dafeng"))
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_an_admin_cannot_create_a_programme_in_another_district(api, world):
    response = api.post("/programmes", as_="wuhua_admin",
                        json=new_programme(code="xindu-beans", area="xindu"))
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"
    assert api.get("/programmes/xindu-beans", as_="root_admin").status_code == 404


def test_a_duplicate_programme_code_is_a_conflict(api, world):
    assert api.post("/programmes", as_="root_admin", json=new_programme()).status_code == 201
    response = api.post("/programmes", as_="root_admin", json=new_programme(name="又一个"))
    assert response.status_code == 409
    assert response.get_json()["code"] == "conflict"
    assert api.get("/programmes/wuhua-beans", as_="root_admin").get_json()["name"] == "五华金豆"


@pytest.mark.parametrize("field, value", [
    ("code", "Has Spaces"), ("code", ""), ("points_per_yuan", 0), ("points_per_yuan", "1"),
    ("points_per_yuan", 10_001), ("name", ""), ("award_approval_threshold_points", 0),
])
def test_a_programme_with_a_bad_field_is_refused(api, world, field, value):
    response = api.post("/programmes", as_="root_admin", json=new_programme(**{field: value}))
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"
    assert field in response.get_json()["errors"]


def test_list_shows_programmes_of_the_callers_areas(api, world):
    api.post("/programmes", as_="root_admin", json=new_programme())
    codes = {name: [p["code"] for p in api.get("/programmes", as_=name).get_json()]
             for name in ("root_admin", "xindu_admin", "wuhua_admin", "dafeng_reviewer",
                          "nanfeng_reviewer", "rider", "kunming_volunteer")}
    assert codes == {
        "root_admin": ["fengxingxia", "wuhua-beans"],
        "xindu_admin": ["fengxingxia"],
        "wuhua_admin": ["wuhua-beans"],
        "dafeng_reviewer": ["fengxingxia"],
        "nanfeng_reviewer": ["fengxingxia"],
        "rider": ["fengxingxia"],
        "kunming_volunteer": ["wuhua-beans"],
    }


def test_get_shows_the_programme_with_its_balances(api, world):
    response = api.get("/programmes/fengxingxia", as_="dafeng_reviewer")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "code": "fengxingxia", "name": "丰行侠·新都大丰", "area": "dafeng", "points_per_yuan": 1,
        "award_approval_threshold_points": 100, "fund_fen": BUDGET_POINTS * 100,
        "budget_points": BUDGET_POINTS,
    }


def test_a_volunteer_reads_the_programme_of_their_area(api, world):
    assert api.get("/programmes/fengxingxia", as_="rider").status_code == 200


@pytest.mark.parametrize("who", ["wuhua_admin", "kunming_volunteer"])
def test_a_programme_of_another_district_is_not_readable(api, world, who):
    response = api.get("/programmes/fengxingxia", as_=who)
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


# --- funding -------------------------------------------------------------------------------------

def test_funding_adds_money_to_the_fund_and_points_to_the_budget(app, api, world):
    response = api.post("/programmes/fengxingxia/funding", as_="xindu_admin",
                        json={"amount_fen": 250_000, "source": "社治激励资金 第二批"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["amount_fen"] == 250_000
    assert body["amount_points"] == 2_500
    assert body["programme"] == "fengxingxia"
    assert body["source"] == "社治激励资金 第二批"
    assert isinstance(body["entry_id"], int)
    assert posted(app, world.fund) == BUDGET_POINTS * 100 + 250_000
    assert posted(app, world.budget) == BUDGET_POINTS + 2_500
    programme = api.get("/programmes/fengxingxia", as_="root_admin").get_json()
    assert programme["fund_fen"] == BUDGET_POINTS * 100 + 250_000
    assert programme["budget_points"] == BUDGET_POINTS + 2_500


def test_funding_converts_at_the_programmes_rate_and_drops_fractions(app, api, world):
    api.post("/programmes", as_="root_admin", json=new_programme(points_per_yuan=10))
    response = api.post("/programmes/wuhua-beans/funding", as_="wuhua_admin",
                        json={"amount_fen": 12_345, "source": "五华区志愿服务专项资金"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount_points"] == 1_234
    assert posted(app, "programme:wuhua-beans:fund") == 12_345
    assert posted(app, "programme:wuhua-beans:budget") == 1_234


def test_funding_too_small_for_a_point_adds_money_only(app, api, world):
    api.post("/programmes", as_="root_admin", json=new_programme(points_per_yuan=1))
    response = api.post("/programmes/wuhua-beans/funding", as_="root_admin",
                        json={"amount_fen": 99, "source": "零钱"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount_points"] == 0
    assert posted(app, "programme:wuhua-beans:fund") == 99
    assert posted(app, "programme:wuhua-beans:budget") == 0


def test_funding_shows_in_the_journal_as_one_balanced_entry(api, world):
    entry_id = api.post("/programmes/fengxingxia/funding", as_="root_admin",
                        json={"amount_fen": 300, "source": "捐赠"}).get_json()["entry_id"]
    entries = api.get(f"/ledger/entries?account={world.fund}", as_="root_admin").get_json()
    entry = next(item for item in entries["items"] if item["id"] == entry_id)
    assert entry["kind"] == "funding"
    assert sorted((p["account"], p["amount"]) for p in entry["postings"]) == sorted([
        ("world:cny", -300), (world.fund, 300), ("world:points", -3), (world.budget, 3)])


# --- awards --------------------------------------------------------------------------------------

def test_an_award_within_the_threshold_posts_at_once(app, api, world):
    response = award(api, world, as_="dafeng_reviewer", amount_points=100)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "posted"
    assert body["amount_points"] == 100
    assert body["volunteer_id"] == world.ids["rider"]
    assert body["programme"] == "fengxingxia"
    assert body["requested_by"] == "dafeng_reviewer"
    assert isinstance(body["entry_id"], int)
    assert posted(app, world.wallet("rider")) == 100
    assert posted(app, world.budget) == BUDGET_POINTS - 100
    assert api.get("/me", as_="rider").get_json()["wallet"]["available_points"] == 100


def test_an_award_above_the_threshold_waits_and_moves_nothing(app, api, world):
    before = ledger_snapshot(app)
    response = award(api, world, amount_points=101)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "awaiting_approval"
    assert body["entry_id"] is None
    assert ledger_snapshot(app) == before
    assert api.get("/me", as_="rider").get_json()["wallet"]["posted_points"] == 0
    assert [a["id"] for a in api.get("/awards", as_="second_admin").get_json()] == [body["id"]]


def test_the_requesting_admin_cannot_approve_their_own_award(app, api, world):
    award_id = award(api, world, amount_points=500).get_json()["id"]
    before = ledger_snapshot(app)
    response = api.post(f"/awards/{award_id}/approve", as_="root_admin", json={})
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"
    assert ledger_snapshot(app) == before


def test_a_second_admin_approves_and_the_wallet_is_credited(app, api, world):
    award_id = award(api, world, amount_points=500).get_json()["id"]
    response = api.post(f"/awards/{award_id}/approve", as_="second_admin",
                        json={"note": "核实无误"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == award_id
    assert body["status"] == "posted"
    assert isinstance(body["entry_id"], int)
    assert body["requested_by"] == "root_admin"
    assert posted(app, world.wallet("rider")) == 500
    assert posted(app, world.budget) == BUDGET_POINTS - 500
    assert api.get("/awards", as_="root_admin").get_json() == []


def test_an_admin_of_the_area_approves_a_reviewers_request(app, api, world):
    award_id = award(api, world, as_="dafeng_reviewer", amount_points=150).get_json()["id"]
    response = api.post(f"/awards/{award_id}/approve", as_="xindu_admin", json={})
    assert response.status_code == 200, response.get_json()
    assert posted(app, world.wallet("rider")) == 150


def test_a_rejected_award_moves_nothing(app, api, world):
    award_id = award(api, world, amount_points=500).get_json()["id"]
    before = ledger_snapshot(app)
    response = api.post(f"/awards/{award_id}/reject", as_="second_admin",
                        json={"note": "证据不足"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["entry_id"] is None
    assert ledger_snapshot(app) == before
    assert api.get("/awards", as_="root_admin").get_json() == []


def test_approving_twice_is_a_conflict(app, api, world):
    award_id = award(api, world, amount_points=500).get_json()["id"]
    assert api.post(f"/awards/{award_id}/approve", as_="second_admin",
                    json={}).status_code == 200
    before = ledger_snapshot(app)
    response = api.post(f"/awards/{award_id}/approve", as_="xindu_admin", json={})
    assert response.status_code == 409
    assert response.get_json()["code"] == "conflict"
    assert ledger_snapshot(app) == before
    assert posted(app, world.wallet("rider")) == 500


@pytest.mark.parametrize("then", ["approve", "reject"])
def test_a_rejected_award_cannot_be_decided_again(app, api, world, then):
    award_id = award(api, world, amount_points=500).get_json()["id"]
    api.post(f"/awards/{award_id}/reject", as_="second_admin", json={"note": "重复申请"})
    before = ledger_snapshot(app)
    response = api.post(f"/awards/{award_id}/{then}", as_="xindu_admin", json={})
    assert response.status_code == 409
    assert response.get_json()["code"] == "conflict"
    assert ledger_snapshot(app) == before


def test_an_award_posted_at_once_cannot_be_approved(app, api, world):
    award_id = award(api, world, amount_points=10).get_json()["id"]
    response = api.post(f"/awards/{award_id}/approve", as_="second_admin", json={})
    assert response.status_code == 409
    assert response.get_json()["code"] == "conflict"


def test_a_reviewer_cannot_approve_or_reject(app, api, world):
    award_id = award(api, world, amount_points=500).get_json()["id"]
    for decision in ("approve", "reject"):
        response = api.post(f"/awards/{award_id}/{decision}", as_="dafeng_reviewer", json={})
        assert response.status_code == 403
        assert response.get_json()["code"] == "forbidden"


def test_awaiting_awards_are_listed_by_area(api, world):
    award_id = award(api, world, amount_points=500).get_json()["id"]
    assert [a["id"] for a in api.get("/awards", as_="xindu_admin").get_json()] == [award_id]
    assert api.get("/awards", as_="wuhua_admin").get_json() == []


def test_an_award_to_a_volunteer_outside_the_programmes_area_is_refused(app, api, world):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin",
                        json={"volunteer_id": world.ids["kunming_volunteer"],
                              "amount_points": 10, "reason": "跨区奖励"})
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"
    assert "volunteer_id" in response.get_json()["errors"]
    assert ledger_snapshot(app) == before
