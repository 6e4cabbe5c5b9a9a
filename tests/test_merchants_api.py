"""Merchants and offers through the JSON API on both databases: who may create them, what
volunteers see, bad input refused with the CONTRACT body and nothing changed, statements."""

from __future__ import annotations

import pytest

from merchants.models import Merchant, Offer
from tests.merchants_support import OFFER_PRICE_POINTS, build_shops_in_app, later
from tests.test_vouchers_api import assert_refused, snapshot
from volunteers import users


@pytest.fixture
def shops(app, world):
    return build_shops_in_app(app, world)


def merchant_body(**changes):
    body = {"name": "三元社区便利店", "programme": "fengxingxia", "area": "sanyuan",
            "staff": ["cashier"], "address": "三元社区 5 栋", "category": "便利店",
            "star": True}
    body.update(changes)
    return body


def offer_body(**changes):
    body = {"title": "矿泉水一瓶", "price_points": 5, "stock": 20, "per_person_limit": 2,
            "valid_until": later().isoformat(), "kind": "goods", "description": "骑手专享"}
    body.update(changes)
    return body


@pytest.fixture
def cashier(app, world):
    from tests.web_support import PASSWORD
    from web.extensions import db

    with app.app_context():
        world.ids["cashier"] = users.create_user(db.session, "cashier", PASSWORD,
                                                 role="volunteer", area_code="sanyuan").id
        db.session.commit()
        db.session.remove()


def test_an_admin_creates_a_merchant_whose_staff_get_the_merchant_role(app, api, world, cashier):
    response = api.post("/merchants", as_="xindu_admin", json=merchant_body())
    body = response.get_json()
    assert response.status_code == 201, body
    assert (body["name"], body["programme"], body["area"], body["staff"], body["star"]) == (
        "三元社区便利店", "fengxingxia", "sanyuan", ["cashier"], True)
    assert body["accepted_account"] == f"merchant:{body['id']}:accepted"
    me = api.get("/me", as_="cashier").get_json()
    assert "merchant" in me["roles"]
    offer = api.post(f"/merchants/{body['id']}/offers", as_="cashier", json=offer_body())
    assert offer.status_code == 201, offer.get_json()
    assert api.get(f"/accounts/merchant:{body['id']}:accepted",
                   as_="root_admin").get_json()["unit"] == "POINT"


@pytest.mark.parametrize("as_, changes, status, code", [
    pytest.param("rider", {}, 403, "forbidden", id="volunteer"),
    pytest.param("dafeng_reviewer", {}, 403, "forbidden", id="reviewer"),
    pytest.param("wuhua_admin", {}, 403, "forbidden", id="admin-of-another-district"),
    pytest.param("root_admin", {"programme": "nope"}, 404, "not_found", id="unknown-programme"),
    pytest.param("root_admin", {"area": "nope"}, 404, "not_found", id="unknown-area"),
    pytest.param("root_admin", {"area": "cuihu"}, 422, "validation_error",
                 id="area-outside-the-programme"),
    pytest.param("root_admin", {"staff": ["nobody"]}, 422, "validation_error",
                 id="unknown-staff"),
    pytest.param("root_admin", {"name": ""}, 422, "validation_error", id="empty-name"),
    pytest.param("root_admin", {"name": None}, 422, "validation_error", id="null-name"),
    pytest.param("root_admin", {"staff": "cashier"}, 422, "validation_error",
                 id="staff-not-a-list"),
    pytest.param(None, {}, 401, "unauthorized", id="anonymous"),
])
def test_bad_merchant_requests_are_refused(app, api, world, cashier, as_, changes, status,
                                           code):
    before = snapshot(app)
    response = api.post("/merchants", as_=as_, json=merchant_body(**changes))
    assert_refused(app, response, status, code, before)
    from web.extensions import db

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Merchant)) == 0
        db.session.remove()


@pytest.mark.parametrize("changes", [
    pytest.param({"price_points": -5}, id="negative-price"),
    pytest.param({"price_points": 0}, id="zero-price"),
    pytest.param({"price_points": 1.5}, id="fractional-price"),
    pytest.param({"price_points": "5"}, id="string-price"),
    pytest.param({"price_points": True}, id="boolean-price"),
    pytest.param({"price_points": None}, id="null-price"),
    pytest.param({"stock": -1}, id="negative-stock"),
    pytest.param({"per_person_limit": 0}, id="zero-limit"),
    pytest.param({"valid_until": "2020-01-01T00:00:00+08:00"}, id="ended"),
    pytest.param({"valid_until": "next week"}, id="not-a-date"),
    pytest.param({"kind": "lottery"}, id="unknown-kind"),
    pytest.param({"title": ""}, id="empty-title"),
    pytest.param({"title": "x" * 121}, id="long-title"),
])
def test_bad_offers_are_validation_errors(app, api, world, shops, changes):
    before = snapshot(app)
    response = api.post(f"/merchants/{shops.merchant}/offers", as_="till",
                        json=offer_body(**changes))
    assert_refused(app, response, 422, "validation_error", before)


@pytest.mark.parametrize("as_", ["other_till", "rider", "wuhua_admin"])
def test_only_its_staff_and_admins_publish_a_merchants_offers(app, api, world, shops, as_):
    before = snapshot(app)
    response = api.post(f"/merchants/{shops.merchant}/offers", as_=as_, json=offer_body())
    assert_refused(app, response, 403, "forbidden", before)
    admin = api.post(f"/merchants/{shops.merchant}/offers", as_="xindu_admin", json=offer_body())
    assert admin.status_code == 201


def test_volunteers_see_the_open_offers_of_their_programme(app, api, world, shops):
    from web.extensions import db

    with app.app_context():
        db.session.execute(db.update(Merchant).where(Merchant.id == shops.other_merchant)
                           .values(star=True))
        db.session.commit()
        db.session.remove()
    seen = api.get("/offers", as_="rider").get_json()
    assert [o["id"] for o in seen] == [shops.other_offer, shops.offer]  # star merchant first
    assert seen[0]["merchant_star"] is True
    assert seen[1]["price_points"] == OFFER_PRICE_POINTS
    assert api.get("/offers", as_="kunming_volunteer").get_json() == []
    assert [o["id"] for o in api.get(f"/offers?merchant_id={shops.merchant}",
                                     as_="rider").get_json()] == [shops.offer]
    assert [o["kind"] for o in api.get("/offers?kind=discount", as_="rider").get_json()] == [
        "discount"]
    assert api.get("/offers?kind=lottery", as_="rider").status_code == 422


def test_sold_out_and_ended_offers_are_not_listed(app, api, world, shops):
    from datetime import UTC, datetime, timedelta

    from web.extensions import db

    with app.app_context():
        db.session.execute(db.update(Offer).where(Offer.id == shops.offer).values(stock_left=0))
        db.session.execute(db.update(Offer).where(Offer.id == shops.other_offer).values(
            valid_until=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    assert api.get("/offers", as_="rider").get_json() == []
    before = snapshot(app)
    assert_refused(app, api.post(f"/offers/{shops.other_offer}/vouchers", as_="rider"),
                   409, "offer_closed", before)


def test_the_statement_counts_redemptions_per_day_and_month(app, api, world, shops):
    for _ in range(2):
        voucher = api.post(f"/offers/{shops.offer}/vouchers", as_="rider").get_json()
        assert api.post("/vouchers/redeem", as_="till",
                        json={"code": voucher["token"]}).status_code == 200
    api.post(f"/offers/{shops.offer}/vouchers", as_="rider2")  # taken, not redeemed
    daily = api.get(f"/merchants/{shops.merchant}/statement", as_="till").get_json()
    assert (daily["total_vouchers"], daily["total_points"]) == (2, 2 * OFFER_PRICE_POINTS)
    assert len(daily["rows"]) == 30
    assert [r for r in daily["rows"] if r["vouchers"]][0]["points"] == 2 * OFFER_PRICE_POINTS
    monthly = api.get(f"/merchants/{shops.merchant}/statement?by=month",
                      as_="till").get_json()
    assert sum(r["vouchers"] for r in monthly["rows"]) == 2
    other = api.get(f"/merchants/{shops.merchant}/statement", as_="other_till")
    assert other.status_code == 403
    assert api.get(f"/merchants/{shops.other_merchant}/statement",
                   as_="till").status_code == 403
    assert api.get(f"/merchants/{shops.merchant}/statement?by=week",
                   as_="till").status_code == 422
