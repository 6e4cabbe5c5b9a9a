"""Donations that arrive, on SQLite and PostgreSQL: a cause names its beneficiary; an
organiser releases the pool, a second person confirms, the points reach the beneficiary's
wallet and spend at a merchant; donors are told; releasing more than the pool or confirming
one's own release moves nothing; closing returns the rest to the programme's budget."""

from __future__ import annotations

from tests.merchants_support import OFFER_PRICE_POINTS, build_shops_in_app
from tests.payments_support import available, give_points, publish_cause
from tests.web_support import PASSWORD, ledger_snapshot
from volunteers import users

BUDGET = "programme:fengxingxia:budget"
POOL = "programme:fengxingxia:donations"


def resident(app, world) -> int:
    """张婆婆: a resident of 三元社区 with an account and nothing in her wallet."""
    from web.extensions import db

    with app.app_context():
        person = users.create_user(db.session, "zhang_popo", PASSWORD, role="volunteer",
                                   area_code="sanyuan", display_name="张婆婆")
        db.session.commit()
        world.ids["zhang_popo"] = person.id
        db.session.remove()
    return world.ids["zhang_popo"]


def donate(api, cause_id, points, as_="rider", key="d1"):
    response = api.post(f"/causes/{cause_id}/donations", as_=as_,
                        json={"amount_points": points}, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.get_json()


def test_a_released_pool_reaches_the_beneficiary_and_spends_at_a_merchant(app, api, world):
    shops = build_shops_in_app(app, world)
    beneficiary = resident(app, world)
    cause = publish_cause(api, target_points=60, beneficiary_id=beneficiary)
    assert (cause["beneficiary_name"], cause["pool_points"]) == ("张婆婆", 0)
    donate(api, cause["id"], 20, key="a")
    donate(api, cause["id"], 20, as_="rider2", key="b")
    before = ledger_snapshot(app)
    too_much = api.post(f"/causes/{cause['id']}/release", as_="xindu_admin",
                        json={"amount_points": 41})
    assert (too_much.status_code, too_much.get_json()["code"]) == (422, "exceeds_pool")
    asked = api.post(f"/causes/{cause['id']}/release", as_="xindu_admin", json={})
    assert asked.status_code == 201, asked.get_json()
    assert (asked.get_json()["amount_points"], asked.get_json()["status"]) == (40, "requested")
    twice = api.post(f"/causes/{cause['id']}/release", as_="xindu_admin", json={})
    assert twice.get_json()["code"] == "release_pending"
    own = api.post(f"/causes/{cause['id']}/release/confirm", as_="xindu_admin")
    assert (own.status_code, own.get_json()["code"]) == (403, "own_release")
    assert ledger_snapshot(app) == before  # nothing moved yet
    confirmed = api.post(f"/causes/{cause['id']}/release/confirm", as_="root_admin")
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["status"] == "confirmed"
    assert available(app, f"volunteer:{beneficiary}:wallet") == 40
    assert available(app, POOL) == before["accounts"][POOL][0] - 40
    shown = api.get(f"/causes/{cause['id']}", as_="rider").get_json()
    assert (shown["raised_points"], shown["released_points"], shown["pool_points"]) == (40, 40, 0)
    told = api.get("/me/notifications", as_="rider2").get_json()["items"]
    assert any("张婆婆" in item["text"] for item in told)
    # The points are hers: she spends them at the teahouse.
    voucher = api.post(f"/offers/{shops.offer}/vouchers", as_="zhang_popo")
    assert voucher.status_code == 201, voucher.get_json()
    redeemed = api.post("/vouchers/redeem", as_="till",
                        json={"code": voucher.get_json()["short_code"]})
    assert redeemed.status_code == 200, redeemed.get_json()
    assert available(app, f"volunteer:{beneficiary}:wallet") == 40 - OFFER_PRICE_POINTS


def test_closing_a_cause_returns_the_rest_of_its_pool_to_the_budget(app, api, world):
    give_points(app, world, "rider", 30)
    cause = publish_cause(api, target_points=100, beneficiary_name="南丰社区互助会")
    donate(api, cause["id"], 25)
    no_account = api.post(f"/causes/{cause['id']}/release", as_="xindu_admin", json={})
    assert no_account.get_json()["code"] == "no_beneficiary_account"
    budget = available(app, BUDGET)
    closed = api.post(f"/causes/{cause['id']}/close", as_="xindu_admin").get_json()
    assert (closed["status"], closed["returned_points"], closed["pool_points"]) == (
        "closed", 25, 0)
    assert available(app, BUDGET) == budget + 25


def test_organisers_release_and_confirm_from_the_cause_page(app, api, world):
    from tests.test_pages import login, post_form, text_of

    give_points(app, world, "rider", 30)
    beneficiary = resident(app, world)
    cause = publish_cause(api, target_points=100, beneficiary_id=beneficiary)
    donate(api, cause["id"], 15)
    page = f"/causes/{cause['id']}"
    asker, confirmer = app.test_client(), app.test_client()
    login(asker, "xindu_admin")
    login(confirmer, "root_admin")
    asked = text_of(post_form(asker, page, page + "/release", {}, follow_redirects=True))
    assert 'data-test="confirm-release"' not in asked  # not for the one who asked
    done = text_of(post_form(confirmer, page, page + "/release/confirm", {},
                             follow_redirects=True))
    assert 'data-test="released"' in done
    assert available(app, f"volunteer:{beneficiary}:wallet") == 15
