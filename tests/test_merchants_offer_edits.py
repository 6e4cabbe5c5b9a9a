"""Editing and withdrawing offers on both databases, through the API and the merchant's pages:
what changes, what issued vouchers keep, who may, and every refusal leaving the ledger, the
vouchers and the offers exactly as they were."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from merchants.models import Offer
from tests.merchants_support import (
    OFFER_PRICE_POINTS,
    OFFER_STOCK,
    RIDER_POINTS,
    build_shops_in_app,
    later,
)
from tests.test_vouchers_api import snapshot, wallet
from tests.web_support import csrf_token, ledger_snapshot

NEW_PRICE_POINTS = 40


@pytest.fixture
def shops(app, world):
    return build_shops_in_app(app, world)


def offer_rows(app) -> list[tuple]:
    """Every offer as stored, field by field."""
    from web.extensions import db

    with app.app_context():
        rows = db.session.execute(db.select(
            Offer.id, Offer.title, Offer.description, Offer.kind, Offer.price_points,
            Offer.stock_total, Offer.stock_left, Offer.per_person_limit, Offer.valid_from,
            Offer.valid_until, Offer.voucher_valid_days, Offer.active, Offer.updated_at,
            Offer.withdrawn_at).order_by(Offer.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def everything(app) -> dict:
    return snapshot(app) | {"offers": offer_rows(app)}


def assert_refused_unchanged(app, response, status: int, code: str, before: dict) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == code, body
    assert body["message"]
    assert everything(app) == before
    return body


def take(api, offer_id, as_="rider"):
    return api.post(f"/offers/{offer_id}/vouchers", as_=as_)


def test_staff_edit_every_field_of_an_offer(app, api, world, shops):
    starts, ends = later(1), later(60)
    response = api.patch(f"/offers/{shops.offer}", as_="till", json={
        "title": "盖碗茶两杯", "description": "周末可用", "kind": "service",
        "price_points": NEW_PRICE_POINTS, "stock": 12, "per_person_limit": 3,
        "valid_from": starts.isoformat(), "valid_until": ends.isoformat(),
        "voucher_valid_days": 7})
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["title"], body["description"], body["kind"], body["price_points"],
            body["stock_total"], body["stock_left"], body["per_person_limit"],
            body["voucher_valid_days"], body["status"], body["vouchers_issued"]) == (
        "盖碗茶两杯", "周末可用", "service", NEW_PRICE_POINTS, 12, 12, 3, 7, "upcoming", 0)
    assert abs(datetime.fromisoformat(body["valid_from"]) - starts) < timedelta(seconds=1)
    assert abs(datetime.fromisoformat(body["valid_until"]) - ends) < timedelta(seconds=1)
    assert body["updated_at"] is not None and body["withdrawn_at"] is None
    shown = api.get(f"/offers/{shops.offer}", as_="rider").get_json()
    assert (shown["title"], shown["price_points"], shown["stock_total"]) == (
        "盖碗茶两杯", NEW_PRICE_POINTS, 12)
    # Only what is sent changes; a description can be cleared with null.
    partial = api.patch(f"/offers/{shops.offer}", as_="xindu_admin",
                        json={"description": None, "valid_from": datetime.now(UTC).isoformat()})
    assert partial.status_code == 200, partial.get_json()
    assert (partial.get_json()["description"], partial.get_json()["title"],
            partial.get_json()["status"]) == (None, "盖碗茶两杯", "open")


def test_a_new_price_applies_to_new_vouchers_only(app, api, world, shops):
    first = take(api, shops.offer).get_json()
    assert first["price_points"] == OFFER_PRICE_POINTS
    assert api.patch(f"/offers/{shops.offer}", as_="till",
                     json={"price_points": NEW_PRICE_POINTS}).status_code == 200
    second = take(api, shops.offer, as_="rider2").get_json()
    assert second["price_points"] == NEW_PRICE_POINTS
    held = wallet(app, world, "rider")
    assert (held.pending, held.available) == (-OFFER_PRICE_POINTS,
                                              RIDER_POINTS - OFFER_PRICE_POINTS)
    assert wallet(app, world, "rider2").pending == -NEW_PRICE_POINTS
    redeemed = api.post("/vouchers/redeem", as_="till", json={"code": first["token"]})
    assert redeemed.get_json()["price_points"] == OFFER_PRICE_POINTS
    assert wallet(app, world, "rider").posted == RIDER_POINTS - OFFER_PRICE_POINTS
    accepted = api.get(f"/accounts/merchant:{shops.merchant}:accepted",
                       as_="root_admin").get_json()
    assert (accepted["posted"], accepted["pending"]) == (OFFER_PRICE_POINTS, NEW_PRICE_POINTS)


def test_the_stock_goes_down_no_lower_than_the_vouchers_issued(app, api, world, shops):
    vouchers = [take(api, shops.offer).get_json() for _ in range(2)]
    lowered = api.patch(f"/offers/{shops.offer}", as_="till", json={"stock": 2}).get_json()
    assert (lowered["stock_total"], lowered["stock_left"], lowered["vouchers_issued"],
            lowered["status"]) == (2, 0, 2, "sold_out")
    before = everything(app)
    assert_refused_unchanged(app, take(api, shops.offer, as_="rider2"), 409, "out_of_stock",
                             before)
    body = assert_refused_unchanged(
        app, api.patch(f"/offers/{shops.offer}", as_="till", json={"stock": 1}), 422,
        "validation_error", before)
    assert body["errors"] == {"stock": ["at least 2: vouchers already issued"]}
    # A cancelled voucher gives its unit back, so the stock may then go lower.
    assert api.post(f"/vouchers/{vouchers[0]['id']}/cancel", as_="rider").status_code == 200
    once_more = api.patch(f"/offers/{shops.offer}", as_="till", json={"stock": 1}).get_json()
    assert (once_more["stock_total"], once_more["stock_left"]) == (1, 0)
    raised = api.patch(f"/offers/{shops.offer}", as_="till", json={"stock": 10}).get_json()
    assert (raised["stock_total"], raised["stock_left"], raised["status"]) == (10, 9, "open")
    assert take(api, shops.offer, as_="rider2").status_code == 201


@pytest.mark.parametrize("changes, field", [
    pytest.param({"price_points": -5}, "price_points", id="negative-price"),
    pytest.param({"price_points": 0}, "price_points", id="zero-price"),
    pytest.param({"price_points": "40"}, "price_points", id="string-price"),
    pytest.param({"price_points": 1.5}, "price_points", id="fractional-price"),
    pytest.param({"price_points": None}, "price_points", id="null-price"),
    pytest.param({"stock": -1}, "stock", id="negative-stock"),
    pytest.param({"stock": 0}, "stock", id="stock-below-issued"),
    pytest.param({"per_person_limit": 0}, "per_person_limit", id="zero-limit"),
    pytest.param({"valid_from": later(10).isoformat(), "valid_until": later(5).isoformat()},
                 "valid_until", id="ends-before-it-starts"),
    pytest.param({"valid_from": later(40).isoformat()}, "valid_until",
                 id="starts-after-it-ends"),
    pytest.param({"valid_until": "2020-01-01T00:00:00+08:00"}, "valid_until", id="ended"),
    pytest.param({"valid_until": "next week"}, "valid_until", id="not-a-date"),
    pytest.param({"kind": "lottery"}, "kind", id="unknown-kind"),
    pytest.param({"title": ""}, "title", id="empty-title"),
    pytest.param({"title": "x" * 121}, "title", id="long-title"),
    pytest.param({"stock_left": 99}, "stock_left", id="not-editable"),
    pytest.param({}, "_schema", id="nothing"),
])
def test_bad_edits_are_validation_errors_and_change_nothing(app, api, world, shops, changes,
                                                            field):
    assert take(api, shops.offer).status_code == 201
    before = everything(app)
    body = assert_refused_unchanged(app, api.patch(f"/offers/{shops.offer}", as_="till",
                                                   json=changes), 422, "validation_error",
                                    before)
    assert field in body["errors"], body


@pytest.mark.parametrize("as_, status, code", [
    pytest.param("other_till", 403, "forbidden", id="another-merchants-staff"),
    pytest.param("rider", 403, "forbidden", id="volunteer"),
    pytest.param("dafeng_reviewer", 403, "forbidden", id="reviewer"),
    pytest.param("wuhua_admin", 403, "forbidden", id="admin-of-another-district"),
    pytest.param(None, 401, "unauthorized", id="anonymous"),
])
def test_only_the_merchants_staff_and_admins_of_its_area_edit_or_withdraw(app, api, world, shops,
                                                                        as_, status, code):
    before = everything(app)
    assert_refused_unchanged(app, api.patch(f"/offers/{shops.offer}", as_=as_,
                                            json={"price_points": 1}), status, code, before)
    assert_refused_unchanged(app, api.post(f"/offers/{shops.offer}/withdraw", as_=as_),
                             status, code, before)


@pytest.mark.parametrize("as_", ["till2", "xindu_admin", "root_admin"])
def test_colleagues_and_admins_over_the_area_may_edit(app, api, world, shops, as_):
    response = api.patch(f"/offers/{shops.offer}", as_=as_, json={"per_person_limit": 5})
    assert (response.status_code, response.get_json()["per_person_limit"]) == (200, 5)


def test_an_unknown_offer_is_not_found(app, api, world, shops):
    before = everything(app)
    assert_refused_unchanged(app, api.patch("/offers/999999", as_="till", json={"stock": 9}),
                             404, "not_found", before)
    assert_refused_unchanged(app, api.post("/offers/999999/withdraw", as_="till"), 404,
                             "not_found", before)


def test_a_withdrawn_offer_refuses_takes_while_issued_vouchers_stay_valid(app, api, world,
                                                                          shops):
    held = take(api, shops.offer).get_json()
    kept = take(api, shops.offer).get_json()
    response = api.post(f"/offers/{shops.offer}/withdraw", as_="till")
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["status"], body["stock_left"], body["vouchers_issued"]) == (
        "withdrawn", OFFER_STOCK - 2, 2)
    assert body["withdrawn_at"] is not None
    assert shops.offer not in [o["id"] for o in api.get("/offers", as_="rider2").get_json()]
    before = everything(app)
    assert_refused_unchanged(app, take(api, shops.offer, as_="rider2"), 409, "offer_closed",
                             before)
    assert_refused_unchanged(app, api.post(f"/offers/{shops.offer}/withdraw", as_="till"),
                             409, "conflict", before)
    assert_refused_unchanged(app, api.patch(f"/offers/{shops.offer}", as_="xindu_admin",
                                            json={"stock": 50}), 409, "conflict", before)
    # The vouchers already issued: one redeemed at the till, one given back by its holder.
    redeemed = api.post("/vouchers/redeem", as_="till", json={"code": held["short_code"]})
    assert (redeemed.status_code, redeemed.get_json()["price_points"]) == (
        200, OFFER_PRICE_POINTS)
    assert api.post(f"/vouchers/{kept['id']}/cancel", as_="rider").get_json()["status"] == \
        "cancelled"
    assert wallet(app, world).posted == RIDER_POINTS - OFFER_PRICE_POINTS
    assert wallet(app, world).pending == 0
    listed = api.get(f"/merchants/{shops.merchant}/offers", as_="till").get_json()
    assert [(o["id"], o["status"]) for o in listed] == [(shops.offer, "withdrawn")]
    assert api.get(f"/merchants/{shops.merchant}/offers", as_="other_till").status_code == 403


def test_a_take_reads_the_offers_terms_as_its_stock_update_finds_them(app, world, shops):
    """The service path: an offer object loaded before an edit (as a take racing the edit
    would hold it) still issues at the new price and refuses once withdrawn."""
    from merchants import offers, vouchers
    from volunteers import users
    from web.extensions import db

    with app.app_context():
        rider = users.get_user(db.session, world.ids["rider"])
        stale = offers.get_offer(db.session, shops.offer)
        assert stale.price_points == OFFER_PRICE_POINTS
        db.session.execute(db.update(Offer).where(Offer.id == shops.offer)
                           .values(price_points=NEW_PRICE_POINTS)
                           .execution_options(synchronize_session=False))
        voucher, _ = vouchers.issue_voucher(db.session, rider, shops.offer,
                                            idempotency_key="stale:1")
        assert voucher.price_points == NEW_PRICE_POINTS
        db.session.execute(db.update(Offer).where(Offer.id == shops.offer)
                           .values(active=False).execution_options(synchronize_session=False))
        with pytest.raises(vouchers.OfferClosed):
            vouchers.issue_voucher(db.session, rider, shops.offer, idempotency_key="stale:2")
        db.session.rollback()
        db.session.remove()


# --- pages ------------------------------------------------------------------------------------


def sign_in(app, username):
    from tests.web_support import PASSWORD

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    return client


def edit_form(page: str, **changes) -> dict:
    """The edit form as the page filled it, with some fields changed."""
    data = {"csrf_token": csrf_token(page)}
    for name in ("title", "price_points", "stock", "per_person_limit", "valid_from",
                 "valid_until"):
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', page)
        data[name] = match.group(1)
    data["kind"] = "goods"
    data["description"] = ""
    return data | changes


def test_the_merchant_edits_and_withdraws_an_offer_on_its_pages(app, api, world, shops):
    voucher = take(api, shops.offer).get_json()
    till = sign_in(app, "till")
    home = till.get(f"/merchant?merchant={shops.merchant}").get_data(as_text=True)
    assert 'data-test="edit-offer"' in home and "进行中" in home
    page = till.get(f"/merchant/offers/{shops.offer}/edit").get_data(as_text=True)
    assert "编辑兑换项目" in page and "目前已发放 1 张兑换券" in page
    assert "已发放的兑换券保留原价和原有效期" in page
    saved = till.post(f"/merchant/offers/{shops.offer}/edit",
                      data=edit_form(page, price_points=str(NEW_PRICE_POINTS), stock="8"))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert "新价格只对此后领取的兑换券生效" in till.get(saved.headers["Location"]).get_data(
        as_text=True)
    shown = api.get(f"/offers/{shops.offer}", as_="rider").get_json()
    assert (shown["price_points"], shown["stock_total"], shown["stock_left"]) == (
        NEW_PRICE_POINTS, 8, 7)

    before = everything(app)
    page = till.get(f"/merchant/offers/{shops.offer}/edit").get_data(as_text=True)
    too_low = till.post(f"/merchant/offers/{shops.offer}/edit", data=edit_form(page, stock="0"))
    assert too_low.status_code == 422
    assert "至少为 1：这是已发放的兑换券数量。" in too_low.get_data(as_text=True)
    no_csrf = edit_form(page, stock="50")
    del no_csrf["csrf_token"]
    assert till.post(f"/merchant/offers/{shops.offer}/edit", data=no_csrf).status_code == 400
    assert till.post(f"/merchant/offers/{shops.offer}/withdraw").status_code == 400
    assert sign_in(app, "other_till").get(
        f"/merchant/offers/{shops.offer}/edit").status_code == 403
    assert everything(app) == before

    home = till.get(f"/merchant?merchant={shops.merchant}").get_data(as_text=True)
    assert "下架后不能再领取新的兑换券" in home  # the confirmation
    withdrawn = till.post(f"/merchant/offers/{shops.offer}/withdraw",
                          data={"csrf_token": csrf_token(home)})
    assert withdrawn.status_code == 302
    home = till.get(withdrawn.headers["Location"]).get_data(as_text=True)
    assert "兑换项目已下架" in home and "已下架" in home
    assert 'data-test="edit-offer"' not in home.split(f'data-test="offer-{shops.offer}"')[1] \
        .split("</li>")[0]
    rider = sign_in(app, "rider")
    voucher_page = rider.get(f"/vouchers/{voucher['id']}").get_data(as_text=True)
    assert 'data-test="offer-withdrawn"' in voucher_page and "仍然可用" in voucher_page
    assert ledger_snapshot(app)["entries"] == before["entries"]


# --- PostgreSQL: an edit racing takes -----------------------------------------------------------


@pytest.mark.commits
@pytest.mark.postgres_only("concurrency is tested on PostgreSQL")
def test_lowering_the_stock_while_volunteers_take_never_undercounts_vouchers(app, world):
    """Eight takers and one edit lowering the stock from 5 to 3, released together: the edit
    either wins (then at most 3 vouchers exist) or is refused because more were already out;
    either way the stock left is the total minus the vouchers that count."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from merchants import offers, vouchers
    from merchants.models import Voucher
    from tests.concurrency import run_threads
    from tests.merchants_support import build_shops, give_points
    from tests.web_support import PASSWORD
    from volunteers import users
    from volunteers.errors import Invalid
    from volunteers.models import User
    from web.extensions import db

    with app.app_context():
        engine = db.engine
        db.session.remove()
    takers = 8
    with Session(engine) as session:
        shops = build_shops(session, world, stock=5, per_person_limit=1)
        for index in range(takers):
            name = f"taker{index}"
            world.ids[name] = users.create_user(session, name, PASSWORD, role="volunteer",
                                                area_code="sanyuan").id
            give_points(session, world, name, OFFER_PRICE_POINTS, f"race:{name}")
        session.commit()

    def work(session, index):
        if index == takers:
            till = session.get(User, shops.ids["till"])
            return offers.edit_offer(session, till, shops.offer, {"stock": 3}).stock_total
        taker = session.get(User, world.ids[f"taker{index}"])
        return vouchers.issue_voucher(session, taker, shops.offer,
                                      idempotency_key=f"race:{index}")[0].id

    answers = run_threads(engine, takers + 1, work, commit=True)
    edit = answers[takers]
    assert edit == 3 or isinstance(edit, Invalid), answers
    assert all(isinstance(a, int | vouchers.OutOfStock) for a in answers[:takers]), answers
    with Session(engine) as session:
        offer = session.get(Offer, shops.offer)
        counted = session.scalar(select(func.count()).select_from(Voucher).where(
            Voucher.offer_id == shops.offer, Voucher.status.in_(("issued", "redeemed"))))
        assert offer.stock_total == (3 if edit == 3 else 5)
        assert offer.stock_total - offer.stock_left == counted
        assert counted <= offer.stock_total
        assert counted == sum(isinstance(a, int) for a in answers[:takers])
