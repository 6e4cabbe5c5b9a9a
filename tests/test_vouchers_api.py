"""Vouchers through the JSON API on both databases: taking an offer, the QR decoded by zbar,
redemption once, retries, cancellation, and every refusal leaving everything as it was."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

import ledger
from merchants import tokens
from merchants.models import Offer, Redemption, Voucher
from tests.merchants_support import OFFER_PRICE_POINTS, RIDER_POINTS, build_shops_in_app
from tests.web_support import ledger_snapshot


@pytest.fixture
def shops(app, world):
    return build_shops_in_app(app, world)


def snapshot(app) -> dict:
    """The ledger plus every voucher, redemption and offer's stock."""
    from web.extensions import db

    state = ledger_snapshot(app)
    with app.app_context():
        session = db.session
        state["vouchers"] = sorted(session.execute(db.select(Voucher.id, Voucher.status)).all())
        state["redemptions"] = session.scalar(db.select(db.func.count()).select_from(Redemption))
        state["stock"] = sorted(session.execute(db.select(Offer.id, Offer.stock_left)).all())
        session.remove()
    return state


def assert_refused(app, response, status: int, code: str, before: dict) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == code, body
    assert body["message"]
    assert snapshot(app) == before


def wallet(app, world, name="rider"):
    from web.extensions import db

    with app.app_context():
        found = ledger.balance(db.session, world.wallet(name))
        db.session.remove()
        return found


def take(api, shops, as_="rider", offer=None, **kwargs):
    return api.post(f"/offers/{offer or shops.offer}/vouchers", as_=as_, **kwargs)


def test_taking_an_offer_holds_its_price_and_answers_the_contract_fields(app, api, world, shops):
    response = take(api, shops)
    body = response.get_json()
    assert response.status_code == 201, body
    assert {"id", "token", "short_code", "status", "expires_at", "qr_png_url"} <= set(body)
    assert body["status"] == "issued"
    assert body["price_points"] == OFFER_PRICE_POINTS
    assert len(body["token"]) <= tokens.MAX_TOKEN_LENGTH
    assert len(body["short_code"]) == 8
    assert not set(body["short_code"]) & set("0O1IL")
    assert body["qr_png_url"] == f"/api/v1/vouchers/{body['id']}/qr.png"
    balance = wallet(app, world)
    assert (balance.posted, balance.pending, balance.available) == (
        RIDER_POINTS, -OFFER_PRICE_POINTS, RIDER_POINTS - OFFER_PRICE_POINTS)
    offer = api.get("/offers", as_="rider").get_json()
    assert [o["stock_left"] for o in offer if o["id"] == shops.offer] == [4]


def test_the_qr_png_decodes_to_the_token_with_zbar(app, api, world, shops, tmp_path):
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg is missing (apt-get install zbar-tools)")
    body = take(api, shops).get_json()
    png = api.get(body["qr_png_url"].removeprefix("/api/v1"), as_="rider")
    assert png.status_code == 200
    assert png.mimetype == "image/png"
    path = tmp_path / "voucher.png"
    path.write_bytes(png.data)
    decoded = subprocess.run([zbarimg, "--quiet", "--raw", str(path)], capture_output=True,
                             text=True, timeout=30)
    assert decoded.stdout.strip() == body["token"]
    assert tokens.qr_version(body["token"]) <= 4
    from PIL import Image
    from pyzbar.pyzbar import decode

    assert [symbol.data.decode() for symbol in decode(Image.open(path))] == [body["token"]]
    svg = api.get(f"/vouchers/{body['id']}/qr.svg", as_="rider")
    assert svg.status_code == 200 and svg.data.startswith(b"<?xml")


def test_only_the_owner_gets_the_qr(app, api, world, shops):
    body = take(api, shops).get_json()
    assert api.get(f"/vouchers/{body['id']}/qr.png", as_="rider2").status_code == 403
    assert api.get(f"/vouchers/{body['id']}/qr.png", as_="till").status_code == 403
    assert api.get(f"/vouchers/{body['id']}/qr.png").status_code == 401
    assert [v["id"] for v in api.get("/vouchers", as_="rider2").get_json()] == []
    assert [v["id"] for v in api.get("/vouchers", as_="rider").get_json()] == [body["id"]]


@pytest.mark.parametrize("by", ["token", "short_code", "typed_short_code"])
def test_the_merchant_redeems_by_token_or_short_code(app, api, world, shops, by):
    voucher = take(api, shops).get_json()
    code = {"token": voucher["token"], "short_code": voucher["short_code"],
            "typed_short_code": tokens.display_short_code(voucher["short_code"]).lower()}[by]
    response = api.post("/vouchers/redeem", as_="till", json={"code": code})
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["id"], body["status"], body["price_points"]) == (
        voucher["id"], "redeemed", OFFER_PRICE_POINTS)
    balance = wallet(app, world)
    assert (balance.posted, balance.pending) == (RIDER_POINTS - OFFER_PRICE_POINTS, 0)
    with app.app_context():
        from web.extensions import db

        accepted = ledger.balance(db.session, f"merchant:{shops.merchant}:accepted")
        assert accepted.posted == OFFER_PRICE_POINTS
        db.session.remove()
    mine = api.get(f"/vouchers/{voucher['id']}", as_="rider").get_json()
    assert mine["status"] == "redeemed"
    with app.app_context():
        from volunteers import notifications

        told, = notifications.latest(db.session, world.ids["rider"], 5)
        assert (told.params["points"], told.link) == (OFFER_PRICE_POINTS,
                                                      f"/vouchers/{voucher['id']}")
        db.session.remove()


def test_a_second_scan_is_refused_and_a_retry_with_the_key_answers_the_first(app, api, world,
                                                                              shops):
    voucher = take(api, shops).get_json()
    headers = {"Idempotency-Key": "till-1-scan-77"}
    first = api.post("/vouchers/redeem", as_="till", json={"code": voucher["token"]},
                     headers=headers)
    assert first.status_code == 200
    before = snapshot(app)
    retry = api.post("/vouchers/redeem", as_="till", json={"code": voucher["token"]},
                     headers=headers)
    assert retry.status_code == 200
    assert retry.get_json() == first.get_json()
    assert snapshot(app) == before
    again = api.post("/vouchers/redeem", as_="till2", json={"code": voucher["token"]})
    assert_refused(app, again, 409, "voucher_already_redeemed", before)


def test_the_same_key_for_another_voucher_is_a_conflict(app, api, world, shops):
    first, second = (take(api, shops).get_json() for _ in range(2))
    headers = {"Idempotency-Key": "till-1-scan-78"}
    assert api.post("/vouchers/redeem", as_="till", json={"code": first["token"]},
                    headers=headers).status_code == 200
    before = snapshot(app)
    response = api.post("/vouchers/redeem", as_="till", json={"code": second["token"]},
                        headers=headers)
    assert_refused(app, response, 409, "idempotency_conflict", before)


def test_taking_twice_with_one_key_issues_one_voucher(app, api, world, shops):
    headers = {"Idempotency-Key": "take-once"}
    first = take(api, shops, headers=headers)
    before = snapshot(app)
    second = take(api, shops, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert snapshot(app) == before


def test_cancelling_voids_the_hold_and_returns_the_stock(app, api, world, shops):
    voucher = take(api, shops).get_json()
    response = api.post(f"/vouchers/{voucher['id']}/cancel", as_="rider")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    balance = wallet(app, world)
    assert (balance.posted, balance.pending, balance.available) == (RIDER_POINTS, 0, RIDER_POINTS)
    offers = {o["id"]: o for o in api.get("/offers", as_="rider").get_json()}
    assert offers[shops.offer]["stock_left"] == 5
    before = snapshot(app)
    assert_refused(app, api.post("/vouchers/redeem", as_="till", json={"code": voucher["token"]}),
                   400, "voucher_invalid", before)
    assert api.post(f"/vouchers/{voucher['id']}/cancel", as_="rider").status_code == 200
    assert snapshot(app) == before


def test_only_the_owner_cancels(app, api, world, shops):
    voucher = take(api, shops).get_json()
    before = snapshot(app)
    assert_refused(app, api.post(f"/vouchers/{voucher['id']}/cancel", as_="rider2"),
                   403, "forbidden", before)


def test_a_cancelled_voucher_cannot_be_cancelled_after_redemption(app, api, world, shops):
    voucher = take(api, shops).get_json()
    api.post("/vouchers/redeem", as_="till", json={"code": voucher["short_code"]})
    before = snapshot(app)
    assert_refused(app, api.post(f"/vouchers/{voucher['id']}/cancel", as_="rider"),
                   409, "voucher_already_redeemed", before)


# --- bad input: the CONTRACT code, and nothing changed ------------------------------------------

def altered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize("mangle", [
    pytest.param(altered, id="altered-signature"),
    pytest.param(lambda t: t[:-3], id="truncated"),
    pytest.param(lambda t: t[:20], id="truncated-half"),
    pytest.param(lambda t: "JD1:" + tokens._base36(999) + ":" + t.split(":")[2], id="other-id"),
    pytest.param(lambda t: tokens.sign("not-the-key", 1), id="forged-with-another-key"),
    pytest.param(lambda t: "JD1::AAAAAAAAAAAAAAAAAAAAAAAA", id="empty-id"),
    pytest.param(lambda t: "JD1:0:" + "A" * 24, id="zero-id"),
    pytest.param(lambda t: "eyJhbGciOiJIUzI1NiJ9.e30.abc", id="jwt"),
    pytest.param(lambda t: "ABCDEFG", id="short-code-too-short"),
    pytest.param(lambda t: "ABCD0O1I", id="short-code-bad-letters"),
    pytest.param(lambda t: "ZZZZ-ZZZZ", id="short-code-unknown"),
    pytest.param(lambda t: "给我积分", id="chinese"),
])
def test_a_bad_code_is_voucher_invalid(app, api, world, shops, mangle):
    voucher = take(api, shops).get_json()
    before = snapshot(app)
    response = api.post("/vouchers/redeem", as_="till", json={"code": mangle(voucher["token"])})
    assert_refused(app, response, 400, "voucher_invalid", before)


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": None},
                                  {"code": "x" * 101}])
def test_a_malformed_redeem_body_is_a_validation_error(app, api, world, shops, body):
    before = snapshot(app)
    response = api.post("/vouchers/redeem", as_="till", json=body)
    assert_refused(app, response, 422, "validation_error", before)


@pytest.mark.parametrize("by", ["token", "short_code"])
def test_another_merchants_voucher_is_refused(app, api, world, shops, by):
    voucher = take(api, shops).get_json()
    before = snapshot(app)
    response = api.post("/vouchers/redeem", as_="other_till", json={"code": voucher[by]})
    assert_refused(app, response, 403, "voucher_wrong_merchant", before)


def test_a_volunteer_cannot_redeem(app, api, world, shops):
    voucher = take(api, shops).get_json()
    before = snapshot(app)
    assert_refused(app, api.post("/vouchers/redeem", as_="rider", json={"code": voucher["token"]}),
                   403, "forbidden", before)


def test_an_expired_voucher_is_refused_and_the_sweep_frees_the_points(app, api, world, shops):
    from merchants import vouchers
    from web.extensions import db

    voucher = take(api, shops).get_json()
    with app.app_context():
        db.session.execute(db.update(Voucher).where(Voucher.id == voucher["id"]).values(
            expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        db.session.commit()
        db.session.remove()
    before = snapshot(app)
    response = api.post("/vouchers/redeem", as_="till", json={"code": voucher["token"]})
    assert_refused(app, response, 409, "voucher_expired", before)
    assert api.get(f"/vouchers/{voucher['id']}", as_="rider").get_json()["status"] == "expired"
    with app.app_context():
        assert vouchers.expire_vouchers(db.session) == 1
        db.session.commit()
        assert vouchers.expire_vouchers(db.session) == 0
        db.session.commit()
        db.session.remove()
    balance = wallet(app, world)
    assert (balance.pending, balance.available) == (0, RIDER_POINTS)
    after = snapshot(app)
    assert_refused(app, api.post("/vouchers/redeem", as_="till",
                                 json={"code": voucher["short_code"]}),
                   409, "voucher_expired", after)


def test_out_of_stock_is_refused(app, api, world):
    shops = build_shops_in_app(app, world, stock=1, per_person_limit=5)
    assert take(api, shops).status_code == 201
    before = snapshot(app)
    assert_refused(app, take(api, shops, as_="rider2"), 409, "out_of_stock", before)


def test_the_per_person_limit_is_kept(app, api, world, shops):
    assert [take(api, shops).status_code for _ in range(2)] == [201, 201]
    before = snapshot(app)
    assert_refused(app, take(api, shops), 409, "limit_reached", before)
    assert take(api, shops, as_="rider2").status_code == 201


def test_too_few_points_is_insufficient_points(app, api, world):
    shops = build_shops_in_app(app, world, price_points=RIDER_POINTS + 1)
    before = snapshot(app)
    assert_refused(app, take(api, shops), 409, "insufficient_points", before)


def test_a_volunteer_of_another_programme_cannot_take(app, api, world, shops):
    before = snapshot(app)
    assert_refused(app, take(api, shops, as_="kunming_volunteer"), 403, "forbidden", before)


def test_an_unknown_offer_is_not_found(app, api, world, shops):
    before = snapshot(app)
    assert_refused(app, take(api, shops, offer=9999), 404, "not_found", before)
