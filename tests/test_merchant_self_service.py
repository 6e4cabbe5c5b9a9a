"""A merchant looks after itself: its staff read their settlements and their state, what it
accepted per month and download the statement; its owner adds and removes till staff; nobody
else does, and the merchant's last owner stays."""

from __future__ import annotations

import pytest

from tests.merchants_support import build_shops_in_app
from tests.test_merchants_settlement import LAST_MONTH, into_last_month, redeem_two
from tests.web_support import PASSWORD, csrf_token


@pytest.fixture
def shops(app, world):
    return build_shops_in_app(app, world)


def test_staff_read_their_settlements_and_months(app, api, world, shops):
    redeem_two(api, shops)
    into_last_month(app)
    assert api.put("/programmes/fengxingxia/settlement-rate", as_="xindu_admin",
                   json={"fen_per_point": 10}).status_code == 200
    assert api.post("/programmes/fengxingxia/settlements", as_="xindu_admin",
                    json={"period": LAST_MONTH}).status_code == 200
    listed = api.get(f"/merchants/{shops.merchant}/settlements", as_="till2")
    assert listed.status_code == 200
    assert [(s["period"], s["status"], s["amount_fen"]) for s in listed.get_json()] == [
        (LAST_MONTH, "posted", 2 * 30 * 10)]
    assert api.get(f"/merchants/{shops.merchant}/settlements",
                   as_="other_till").status_code == 403
    months = api.get(f"/merchants/{shops.merchant}/statement?by=month", as_="till2").get_json()
    assert sum(row["points"] for row in months["rows"]) == 60

    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf_token(login), "username": "till2",
                                "password": PASSWORD})
    page = client.get(f"/merchant/account?merchant={shops.merchant}").get_data(as_text=True)
    assert LAST_MONTH in page and 'data-status="posted"' in page
    assert 'data-test="add-staff"' not in page  # till2 is not the owner


def test_the_owner_adds_and_removes_till_staff(app, api, world, shops):
    path = f"/merchants/{shops.merchant}/staff"
    assert api.post(path, as_="till2", json={"username": "rider"}).status_code == 403
    added = api.post(path, as_="till", json={"username": "rider"})
    assert added.status_code == 201 and added.get_json()["owner"] is False
    assert "merchant" in api.get("/me", as_="rider").get_json()["roles"]
    assert [m["username"] for m in api.get(path, as_="till2").get_json()] == [
        "till", "till2", "rider"]
    made_owner = api.post(path, as_="till", json={"username": "till2", "owner": True})
    assert made_owner.status_code == 403
    rider = world.ids["rider"]
    assert api.delete(f"{path}/{rider}", as_="till").status_code == 204
    till = shops.ids["till"]
    assert api.delete(f"{path}/{till}", as_="till").status_code == 403
    last = api.delete(f"{path}/{till}", as_="xindu_admin")
    assert (last.status_code, last.get_json()["code"]) == (409, "last_owner")
    unknown = api.post(path, as_="till", json={"username": "nobody"})
    assert unknown.status_code == 404
    kinds = [e["kind"] for e in api.get("/audit-events", as_="xindu_admin", query_string={
        "kind": "merchant"}).get_json()["items"]]
    assert kinds == ["merchant.staff_remove", "merchant.staff_add"]

    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf_token(login), "username": "till",
                                "password": PASSWORD})
    page = client.get(f"/merchant/account?merchant={shops.merchant}").get_data(as_text=True)
    response = client.post(f"/merchant/account/staff?merchant={shops.merchant}", data={
        "csrf_token": csrf_token(page), "username": "rider2"})
    assert response.status_code == 302
    assert "rider2" in [m["username"] for m in api.get(path, as_="till").get_json()]
