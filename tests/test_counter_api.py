"""Paying at the counter QR through the JSON API and the pages, on both databases: the QR
image decoded by zbar to a URL ending /m/<code>, what the code shows, a payment answered
201 once per Idempotency-Key, the live list, cashiers' one-time amounts, new codes, limits,
and every refusal with its stable code leaving everything as it was."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from merchants.models import CounterPayment, Offer, Redemption
from tests.merchants_support import OFFER_PRICE_POINTS, RIDER_POINTS, build_shops_in_app
from tests.web_support import PASSWORD, csrf_token, ledger_snapshot


@pytest.fixture
def shops(app, world):
    return build_shops_in_app(app, world, stock=5, per_person_limit=5)


def snapshot(app) -> dict:
    from web.extensions import db

    state = ledger_snapshot(app)
    with app.app_context():
        session = db.session
        state["payments"] = session.scalar(db.select(db.func.count())
                                           .select_from(CounterPayment))
        state["redemptions"] = session.scalar(db.select(db.func.count())
                                              .select_from(Redemption))
        state["stock"] = sorted(session.execute(db.select(Offer.id, Offer.stock_left)).all())
        session.remove()
    return state


def assert_refused(app, response, status: int, code: str, before: dict) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == code and body["message"], body
    assert snapshot(app) == before
    return body


def counter_code(api, merchant_id: int, as_="till") -> str:
    found = api.get(f"/merchants/{merchant_id}/counters", as_=as_).get_json()
    assert found[0]["label"] is None and found[0]["url"].endswith("/m/" + found[0]["code"])
    return found[0]["code"]


def pay(api, code, key, as_="rider", **body):
    return api.post(f"/counter/{code}/payments", as_=as_, json=body,
                    headers={"Idempotency-Key": key})


def test_the_counter_qr_decodes_to_a_short_url_and_pays_once_per_key(app, api, world, shops,
                                                                     tmp_path):
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg is missing (apt-get install zbar-tools)")
    png = api.get(f"/merchants/{shops.merchant}/counter-qr.png", as_="till")
    assert (png.status_code, png.mimetype) == (200, "image/png")
    path = tmp_path / "counter.png"
    path.write_bytes(png.data)
    url = subprocess.run([zbarimg, "--quiet", "--raw", str(path)], capture_output=True,
                         text=True, timeout=30).stdout.strip()
    assert url.startswith("http") and "/m/" in url and len(url) < 80
    code = url.rsplit("/m/", 1)[1]
    assert code == counter_code(api, shops.merchant)

    shown = api.get(f"/counter/{code}", as_="rider").get_json()
    assert shown["merchant"]["name"] == "大丰老茶馆"
    assert [offer["id"] for offer in shown["offers"]] == [shops.offer]
    assert (shown["available_points"], shown["open_amount_max_points"]) == (RIDER_POINTS, None)

    first = pay(api, code, "tap-1", offer_id=shops.offer)
    body = first.get_json()
    assert first.status_code == 201, body
    assert {"id", "merchant", "amount_points", "confirmation_code", "created_at"} <= set(body)
    assert body["merchant"] == {"id": shops.merchant, "name": "大丰老茶馆"}
    assert body["amount_points"] == OFFER_PRICE_POINTS
    before = snapshot(app)
    again = pay(api, code, "tap-1", offer_id=shops.offer)
    assert (again.status_code, again.get_json()) == (201, body)
    assert snapshot(app) == before
    conflict = pay(api, code, "tap-1", amount_points=3)
    assert_refused(app, conflict, 409, "idempotency_conflict", before)
    assert pay(api, code, "tap-2", offer_id=shops.offer).status_code == 201
    assert api.get(f"/counter/{code}", as_="rider").get_json()["available_points"] == \
        RIDER_POINTS - 2 * OFFER_PRICE_POINTS


def test_refusals_have_stable_codes_and_move_nothing(app, api, world, shops):
    code = counter_code(api, shops.merchant)
    before = snapshot(app)
    forged = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
    assert_refused(app, api.get(f"/counter/{forged}", as_="rider"), 400,
                   "counter_code_invalid", before)
    assert_refused(app, pay(api, forged, "k1", offer_id=shops.offer), 400,
                   "counter_code_invalid", before)
    assert_refused(app, pay(api, code, "k2", offer_id=shops.other_offer), 422,
                   "offer_wrong_merchant", before)
    assert_refused(app, pay(api, code, "k3", amount_points=5), 409,
                   "open_amount_not_accepted", before)
    assert_refused(app, pay(api, code, "k4", offer_id=shops.offer, amount_points=5), 422,
                   "validation_error", before)
    assert_refused(app, pay(api, code, "k5", amount_points="5"), 422, "validation_error", before)
    assert_refused(app, pay(api, code, "k6", as_="till", offer_id=shops.offer), 403,
                   "forbidden", before)
    assert api.put(f"/merchants/{shops.merchant}/counter-settings", as_="till",
                   json={"accepts_open_amount": True}).status_code == 200
    assert api.put(f"/programmes/{world.programme}/counter-limits", as_="root_admin",
                   json={"open_amount_max_points": 150}).get_json()[
        "open_amount_max_points"] == 150
    before = snapshot(app)
    body = assert_refused(app, pay(api, code, "k7", amount_points=151), 409, "limit_reached",
                          before)
    assert body["limit"] == "open_amount_max_points"
    assert_refused(app, pay(api, code, "k8", amount_points=RIDER_POINTS + 1), 409,
                   "insufficient_points", before)
    assert api.post(f"/offers/{shops.offer}/withdraw", as_="till").status_code == 200
    before = snapshot(app)
    assert_refused(app, pay(api, code, "k9", offer_id=shops.offer), 409, "offer_closed", before)
    new = api.post(f"/merchants/{shops.merchant}/counter-code", as_="till").get_json()
    assert new["code"] != code and new["generation"] == 2
    assert_refused(app, pay(api, code, "k10", amount_points=5), 410, "counter_code_revoked",
                   before)
    assert pay(api, new["code"], "k11", amount_points=5).status_code == 201


def test_the_live_list_and_who_may_read_it(app, api, world, shops):
    code = counter_code(api, shops.merchant)
    first = pay(api, code, "a", offer_id=shops.offer).get_json()
    second = pay(api, code, "b", as_="rider2", offer_id=shops.offer).get_json()
    listed = api.get(f"/merchants/{shops.merchant}/payments", as_="till").get_json()
    assert [p["id"] for p in listed] == [first["id"], second["id"]]
    since = api.get(f"/merchants/{shops.merchant}/payments?since={first['id']}",
                    as_="till2").get_json()
    assert [(p["id"], p["amount_points"], p["title"]) for p in since] == [
        (second["id"], OFFER_PRICE_POINTS, "盖碗茶一杯")]
    assert api.get(f"/merchants/{shops.merchant}/payments?since={second['id']}",
                   as_="till").get_json() == []
    assert api.get(f"/merchants/{shops.merchant}/payments?since=2020-01-01T00:00:00Z",
                   as_="root_admin").status_code == 200
    assert api.get(f"/merchants/{shops.merchant}/payments?since=yesterday",
                   as_="till").get_json()["code"] == "validation_error"
    assert api.get(f"/merchants/{shops.merchant}/payments", as_="other_till").status_code == 403
    assert api.get(f"/merchants/{shops.merchant}/payments", as_="rider").status_code == 403
    assert api.get(f"/merchants/{shops.merchant}/counter-qr.png",
                   as_="other_till").status_code == 403


def test_a_cashiers_amount_pays_once(app, api, world, shops):
    charge = api.post(f"/merchants/{shops.merchant}/charges", as_="till",
                      json={"amount_points": 12}).get_json()
    assert charge["status"] == "open" and charge["url"].endswith("/m/" + charge["code"])
    shown = api.get(f"/counter/{charge['code']}", as_="rider").get_json()
    assert (shown["charge"]["amount_points"], shown["offers"]) == (12, [])
    paid = pay(api, charge["code"], "c1")
    assert (paid.status_code, paid.get_json()["amount_points"]) == (201, 12)
    before = snapshot(app)
    assert_refused(app, pay(api, charge["code"], "c2", as_="rider2"), 409,
                   "counter_charge_used", before)
    assert api.post(f"/merchants/{shops.merchant}/charges", as_="till",
                    json={"amount_points": 10_000}).status_code == 422
    assert api.post(f"/merchants/{shops.merchant}/charges", as_="other_till",
                    json={"amount_points": 5}).status_code == 403


def sign_in(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(page)})
    assert response.status_code == 302


def test_the_pages_pay_once_and_show_the_proof_and_the_posters(app, api, world, shops):
    code = counter_code(api, shops.merchant)
    staff = app.test_client()
    sign_in(staff, "till")
    for size in ("a5", "a4"):
        poster = staff.get(f"/merchants/{shops.merchant}/poster?size={size}")
        html = poster.get_data(as_text=True)
        assert poster.status_code == 200 and "大丰老茶馆" in html and f"/m/{code}" in html
        assert f'data-size="{size}"' in html and "<script>" not in html
    assert staff.get(f"/merchants/{shops.merchant}/poster?size=a3").status_code == 404
    assert staff.get(f"/merchants/{shops.merchant}/counter").status_code == 200
    assert "till-payments" in staff.get("/till").get_data(as_text=True)

    volunteer = app.test_client()
    sign_in(volunteer, "rider")
    page = volunteer.get(f"/m/{code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "大丰老茶馆" in html and "盖碗茶一杯" in html
    token = csrf_token(html) if 'name="csrf_token"' in html else \
        html.split('data-csrf="', 1)[1].split('"', 1)[0]
    headers = {"X-CSRFToken": token, "Idempotency-Key": "page-key-0001"}
    first = volunteer.post(f"/m/{code}/pay", json={"offer_id": shops.offer}, headers=headers)
    again = volunteer.post(f"/m/{code}/pay", json={"offer_id": shops.offer}, headers=headers)
    assert first.get_json()["ok"] and again.get_json()["id"] == first.get_json()["id"]
    proof = volunteer.get(first.get_json()["url"]).get_data(as_text=True)
    assert "大丰老茶馆" in proof and first.get_json()["confirmation_code"] in proof
    assert "paid-band" in proof
    live = staff.get("/till/payments").get_json()
    assert [p["id"] for p in live["payments"]] == [first.get_json()["id"]]
    assert live["cursor"] == first.get_json()["id"]
    refused = volunteer.post(f"/m/{code}/pay", json={"offer_id": shops.other_offer},
                             headers={"X-CSRFToken": token, "Idempotency-Key": "page-key-0002"})
    assert refused.status_code == 422 and refused.get_json()["message"] == "该优惠属于另一家商户。"
    charge = staff.post("/till/charges", json={"amount_points": 9, "merchant_id": shops.merchant},
                        headers={"X-CSRFToken": csrf_token(staff.get(
                            f"/merchants/{shops.merchant}/counter").get_data(as_text=True))})
    assert charge.get_json()["ok"] and charge.get_json()["url"].endswith(charge.get_json()["code"])
    assert staff.get(charge.get_json()["qr_png_url"]).mimetype == "image/png"
    assert staff.get(f"/till/charges/{charge.get_json()['id']}").get_json()["status"] == "open"
    assert volunteer.get(f"/m/{charge.get_json()['code']}").status_code == 200
    gone = volunteer.get(f"/m/{code[:-1]}Q" if not code.endswith("Q") else f"/m/{code[:-1]}R")
    assert gone.status_code == 400 and "不是金豆商户的收款码" in gone.get_data(as_text=True)
