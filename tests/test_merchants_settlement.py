"""Settlement of accepted points, the cron commands and the staff pages, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import ledger
from ledger.clock import CHINA
from merchants import settlement, vouchers
from merchants.models import Redemption, Settlement, Voucher
from tests.merchants_support import OFFER_PRICE_POINTS, RIDER_POINTS, build_shops_in_app
from tests.web_support import PASSWORD, csrf_token
from volunteers import users
from volunteers.errors import Conflict, Invalid

FEN_PER_POINT = 100
LAST_MONTH = settlement.previous_period()


@pytest.fixture
def shops(app, world):
    return build_shops_in_app(app, world)


def redeem_two(api, shops) -> list[int]:
    ids = []
    for name in ("rider", "rider2"):
        voucher = api.post(f"/offers/{shops.offer}/vouchers", as_=name).get_json()
        assert api.post("/vouchers/redeem", as_="till",
                        json={"code": voucher["short_code"]}).status_code == 200
        ids.append(voucher["id"])
    return ids


def into_last_month(app) -> None:
    """Redemptions as if made last month (their ledger entries stay as they are)."""
    from web.extensions import db

    with app.app_context():
        moment = settlement.period_end(LAST_MONTH) - timedelta(days=2)
        db.session.execute(db.update(Redemption).values(redeemed_at=moment))
        db.session.commit()
        db.session.remove()


def balances(app, *codes):
    from web.extensions import db

    with app.app_context():
        found = ledger.balances(db.session, list(codes))
        db.session.remove()
    return {code: found[code].posted for code in codes}


def test_a_settlement_run_pays_accepted_points_once(app, api, world, shops):
    from web.extensions import db

    redeem_two(api, shops)
    into_last_month(app)
    cash, accepted = f"merchant:{shops.merchant}:cash", f"merchant:{shops.merchant}:accepted"
    before = balances(app, world.fund, cash, accepted)
    with app.app_context():
        admin = users.get_user(db.session, world.ids["root_admin"])
        settlement.set_rate(db.session, admin, world.programme, FEN_PER_POINT)
        outcomes = settlement.settle(db.session, admin, LAST_MONTH)
        db.session.commit()
        assert [(o.merchant_id, o.created) for o in outcomes] == [(shops.merchant, True)]
        found = outcomes[0].settlement
        points = 2 * OFFER_PRICE_POINTS
        assert (found.points, found.amount_fen, found.redemptions, found.status) == (
            points, points * FEN_PER_POINT, 2, "posted")
        again = settlement.settle(db.session, admin, LAST_MONTH)
        db.session.commit()
        assert [(o.created, o.settlement.id) for o in again] == [(False, found.id)]
        settlement_id = found.id
        db.session.remove()
    after = balances(app, world.fund, cash, accepted)
    amount = 2 * OFFER_PRICE_POINTS * FEN_PER_POINT
    assert after == {world.fund: before[world.fund] - amount, cash: amount, accepted: 0}
    with app.app_context():
        admin = users.get_user(db.session, world.ids["root_admin"])
        settlement.mark_paid(db.session, admin, settlement_id, "银行流水 2026-001")
        db.session.commit()
        with pytest.raises(Conflict):
            settlement.mark_paid(db.session, admin, settlement_id)
        db.session.rollback()
        assert db.session.get(Settlement, settlement_id).status == "paid"
        ledger.seal_all(db.session)
        assert ledger.verify(db.session).ok
        db.session.remove()
    assert balances(app, cash)[cash] == 0


def test_a_merchant_rate_overrides_the_programme_rate_and_no_rate_is_reported(app, api, world,
                                                                               shops):
    from web.extensions import db

    redeem_two(api, shops)
    into_last_month(app)
    with app.app_context():
        admin = users.get_user(db.session, world.ids["root_admin"])
        skipped = settlement.settle(db.session, admin, LAST_MONTH)
        assert [(o.settlement, o.problem) for o in skipped] == [(None, "no settlement rate")]
        settlement.set_rate(db.session, admin, world.programme, 50)
        settlement.set_rate(db.session, admin, world.programme, 80, merchant_id=shops.merchant)
        settlement.set_rate(db.session, admin, world.programme, 90, merchant_id=shops.merchant)
        outcome, = settlement.settle(db.session, admin, LAST_MONTH)
        assert outcome.settlement.fen_per_point == 90
        db.session.rollback()
        db.session.remove()


def test_this_month_cannot_be_settled_yet_and_a_bad_period_is_invalid(app, world, shops):
    from web.extensions import db

    # The month as the programme counts it, in China time (UTC's lags by 8 hours each month).
    this_month = datetime.now(CHINA).strftime("%Y-%m")
    with app.app_context():
        admin = users.get_user(db.session, world.ids["root_admin"])
        for period in (this_month, "2026-13", "26-01", ""):
            with pytest.raises(Invalid):
                settlement.settle(db.session, admin, period)
        db.session.remove()


def test_the_cli_settles_and_expires(app, api, world, shops):
    from web.extensions import db

    redeem_two(api, shops)
    into_last_month(app)
    open_voucher = api.post(f"/offers/{shops.offer}/vouchers", as_="rider").get_json()
    runner = app.test_cli_runner()
    rate = runner.invoke(args=["merchants", "rate", "--programme", world.programme,
                               "--fen-per-point", str(FEN_PER_POINT)])
    assert rate.exit_code == 0, rate.output
    with app.app_context():
        db.session.execute(db.update(Voucher).where(Voucher.id == open_voucher["id"]).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    first = runner.invoke(args=["merchants", "settle", "--period", LAST_MONTH])
    assert first.exit_code == 0, first.output
    assert f"settled {2 * OFFER_PRICE_POINTS} points = " \
           f"{2 * OFFER_PRICE_POINTS * FEN_PER_POINT} fen" in first.output
    second = runner.invoke(args=["merchants", "settle", "--period", LAST_MONTH])
    assert "already settled" in second.output
    expired = runner.invoke(args=["vouchers", "expire"])
    assert expired.output.strip() == "expired 1 vouchers"
    assert runner.invoke(args=["vouchers", "expire"]).output.strip() == "expired 0 vouchers"
    wallet = api.get("/me", as_="rider").get_json()["wallet"]
    assert wallet["available_points"] == RIDER_POINTS - OFFER_PRICE_POINTS
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_expiry_and_the_ledgers_own_hold_sweep_agree(app, api, world, shops):
    """``jindou ledger expire-holds`` may void a voucher's hold first: the voucher sweep then
    marks the voucher expired without a second void."""
    from web.extensions import db

    voucher = api.post(f"/offers/{shops.offer}/vouchers", as_="rider").get_json()
    past = datetime.now(UTC) - timedelta(seconds=1)
    with app.app_context():
        db.session.execute(db.update(Voucher).where(Voucher.id == voucher["id"])
                           .values(expires_at=past))
        db.session.commit()
        assert len(ledger.expire_holds(db.session, at=past + timedelta(days=60))) == 1
        db.session.commit()
        assert vouchers.expire_vouchers(db.session, at=past + timedelta(days=60)) == 1
        db.session.commit()
        assert db.session.get(Voucher, voucher["id"]).status == "expired"
        db.session.remove()


def sign_in(client, username):
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302


def test_the_pages_take_show_cancel_redeem_and_settle(app, world, shops):
    client = app.test_client()
    sign_in(client, "rider")
    offers_page = client.get("/offers").get_data(as_text=True)
    assert "盖碗茶一杯" in offers_page
    taken = client.post(f"/offers/{shops.offer}/take", data={
        "csrf_token": csrf_token(offers_page), "request_key": "k1"})
    assert taken.status_code == 302
    voucher_page = client.get(taken.headers["Location"]).get_data(as_text=True)
    code = re.search(r'data-test="short-code">([^<]+)<', voucher_page).group(1)
    assert "有效" in voucher_page
    assert client.get(taken.headers["Location"] + "/qr.png").mimetype == "image/png"
    # A resubmitted form (same request key) issues nothing more.
    again = client.post(f"/offers/{shops.offer}/take", data={
        "csrf_token": csrf_token(offers_page), "request_key": "k1"})
    assert again.headers["Location"] == taken.headers["Location"]
    assert "我的兑换券" in client.get("/vouchers").get_data(as_text=True)

    till = app.test_client()
    sign_in(till, "till")
    till_page = till.get("/till").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', till_page).group(1)
    answer = till.post("/till/redeem", json={"code": code},
                       headers={"X-CSRFToken": token, "Idempotency-Key": "s1"})
    assert answer.status_code == 200 and answer.get_json()["ok"] is True
    assert "核销成功" in answer.get_json()["message"]
    retry = till.post("/till/redeem", json={"code": code},
                      headers={"X-CSRFToken": token, "Idempotency-Key": "s1"})
    assert retry.status_code == 200
    second = till.post("/till/redeem", json={"code": code},
                       headers={"X-CSRFToken": token, "Idempotency-Key": "s2"})
    assert second.status_code == 409 and "已核销过" in second.get_json()["message"]
    no_csrf = till.post("/till/redeem", json={"code": code}, headers={"Idempotency-Key": "s3"})
    assert no_csrf.status_code == 400
    statement = till.get("/merchant/statement.csv?by=month")
    assert statement.mimetype == "text/csv"
    assert f"total,1,{OFFER_PRICE_POINTS}" in statement.get_data(as_text=True)
    assert "我的店铺" in till.get("/merchant").get_data(as_text=True)

    voucher_page = client.get(taken.headers["Location"]).get_data(as_text=True)
    assert "已核销" in voucher_page and "取消兑换券" not in voucher_page

    admin = app.test_client()
    sign_in(admin, "root_admin")
    desk = admin.get("/admin/merchants").get_data(as_text=True)
    assert "大丰老茶馆" in desk
    run = admin.post("/admin/settlements/run", data={
        "csrf_token": csrf_token(desk), "settle-period": LAST_MONTH,
        "settle-request_key": "r1"})
    assert run.status_code == 302


def test_the_till_page_and_the_api_redeem_through_one_adapter(app, shops):
    """A scan keeps one Idempotency-Key whichever way it reaches the server: retried through
    the API after the till page redeemed it, it answers the first redemption again."""
    from tests.web_support import ApiClient

    api = ApiClient(app)
    voucher = api.post(f"/offers/{shops.offer}/vouchers", as_="rider").get_json()
    till = app.test_client()
    sign_in(till, "till")
    token = re.search(r'data-csrf="([^"]+)"', till.get("/till").get_data(as_text=True)).group(1)
    page = till.post("/till/redeem", json={"code": voucher["short_code"]},
                     headers={"X-CSRFToken": token, "Idempotency-Key": "scan-7"})
    assert page.status_code == 200 and page.get_json()["id"] == voucher["id"]
    again = api.post("/vouchers/redeem", as_="till", json={"code": voucher["short_code"]},
                     headers={"Idempotency-Key": "scan-7"})
    assert again.status_code == 200
    assert again.get_json()["id"] == voucher["id"]
    assert again.get_json()["price_points"] == page.get_json()["price_points"]
    other = api.post("/vouchers/redeem", as_="till", json={"code": voucher["short_code"]},
                     headers={"Idempotency-Key": "scan-8"})
    assert other.status_code == 409 and other.get_json()["code"] == "voucher_already_redeemed"
    # The page checks the payload as the API does: no code is a validation error.
    empty = till.post("/till/redeem", json={"code": ""}, headers={"X-CSRFToken": token})
    assert empty.status_code == 422 and empty.get_json()["code"] == "validation_error"


def test_the_till_is_rate_limited(make_app, world):
    app = make_app(RATELIMIT_ENABLED=True, SCAN_RATE_LIMIT="3 per minute")
    build_shops_in_app(app, world)
    till = app.test_client()
    sign_in(till, "till")
    token = re.search(r'data-csrf="([^"]+)"', till.get("/till").get_data(as_text=True)).group(1)
    answers = [till.post("/till/redeem", json={"code": "ZZZZ-ZZZZ"},
                         headers={"X-CSRFToken": token}).status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]
    from tests.web_support import ApiClient

    api = ApiClient(app)
    answers = [api.post("/vouchers/redeem", as_="till2", json={"code": "ZZZZ-ZZZZ"})
               for _ in range(4)]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert answers[-1].get_json()["code"] == "rate_limited"
