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


# --- delivery as merchant vouchers, confirmed with a photo -----------------------------------


def test_a_voucher_cause_buys_the_offers_vouchers_for_the_beneficiary(app, api, world):
    shops = build_shops_in_app(app, world)
    beneficiary = resident(app, world)
    for refused, field in (({"delivery": "cash", "beneficiary_name": "南丰社区互助会"}, "delivery"),
                           ({"delivery": "voucher", "beneficiary_id": beneficiary}, "offer_id"),
                           ({"delivery": "voucher", "beneficiary_id": beneficiary,
                             "offer_id": 999_999}, "offer_id"),
                           ({"delivery": "parcel", "beneficiary_id": beneficiary}, "delivery")):
        answer = api.post("/programmes/fengxingxia/causes", as_="xindu_admin", json={
            "area": "sanyuan", "kind": "family_in_need", "title": "棉被", "story": "过冬",
            "target_points": 100, **refused})
        assert (answer.status_code, answer.get_json()["code"]) == (422, "validation_error")
        assert field in answer.get_json()["errors"], (refused, answer.get_json())
    listed = api.get("/causes", as_="xindu_admin").get_json()
    assert [c for c in listed if c["title"] == "棉被"] == []  # nothing was created
    cause = publish_cause(api, target_points=100, beneficiary_id=beneficiary,
                          delivery="voucher", offer_id=shops.offer)
    assert (cause["delivery"], cause["offer_id"]) == ("voucher", shops.offer)
    give_points(app, world, "rider", 50)
    donate(api, cause["id"], 45, key="a")
    donate(api, cause["id"], 20, as_="rider2", key="b")  # 65 in the pool: two vouchers of 30
    before = ledger_snapshot(app)
    odd = api.post(f"/causes/{cause['id']}/release", as_="xindu_admin",
                   json={"amount_points": 45})
    assert (odd.status_code, odd.get_json()["code"]) == (422, "validation_error")
    assert "amount_points" in odd.get_json()["errors"]
    asked = api.post(f"/causes/{cause['id']}/release", as_="xindu_admin", json={})
    assert asked.status_code == 201, asked.get_json()
    assert asked.get_json()["amount_points"] == 2 * OFFER_PRICE_POINTS
    assert ledger_snapshot(app) == before
    confirmed = api.post(f"/causes/{cause['id']}/release/confirm", as_="root_admin")
    assert confirmed.status_code == 200, confirmed.get_json()
    assert len(confirmed.get_json()["voucher_ids"]) == 2
    # The points went to her wallet and are held there for the teahouse by her two vouchers.
    assert available(app, f"volunteer:{beneficiary}:wallet") == 0
    assert available(app, POOL) == before["accounts"][POOL][0] - 60
    mine = api.get("/vouchers", as_="zhang_popo").get_json()
    assert sorted(v["id"] for v in mine) == sorted(confirmed.get_json()["voucher_ids"])
    assert {v["status"] for v in mine} == {"issued"}
    shown = api.get(f"/causes/{cause['id']}", as_="rider").get_json()
    assert (shown["released_points"], shown["pool_points"]) == (60, 5)
    told = api.get("/me/notifications", as_="zhang_popo").get_json()["items"]
    assert any("60" in item["text"] and ("商家券" in item["text"] or "vouchers" in item["text"])
               for item in told), told
    # She collects the goods at the teahouse with a voucher's code.
    redeemed = api.post("/vouchers/redeem", as_="till", json={"code": mine[0]["short_code"]})
    assert redeemed.status_code == 200, redeemed.get_json()
    # A release of the 5 points left buys no voucher.
    below = api.post(f"/causes/{cause['id']}/release", as_="xindu_admin", json={})
    assert (below.status_code, below.get_json()["code"]) == (409, "pool_below_price")


def test_a_voucher_release_the_offer_refuses_moves_nothing(app, api, world):
    shops = build_shops_in_app(app, world, per_person_limit=1)
    beneficiary = resident(app, world)
    cause = publish_cause(api, target_points=100, beneficiary_id=beneficiary,
                          delivery="voucher", offer_id=shops.offer)
    give_points(app, world, "rider", 60)
    donate(api, cause["id"], 60)
    assert api.post(f"/causes/{cause['id']}/release", as_="xindu_admin",
                    json={}).status_code == 201
    before = ledger_snapshot(app)
    refused = api.post(f"/causes/{cause['id']}/release/confirm", as_="root_admin")
    assert (refused.status_code, refused.get_json()["code"]) == (409, "limit_reached")
    assert ledger_snapshot(app) == before
    assert api.get("/vouchers", as_="zhang_popo").get_json() == []
    shown = api.get(f"/causes/{cause['id']}", as_="rider").get_json()
    assert (shown["released_points"], shown["pool_points"]) == (0, 60)


def test_the_organiser_confirms_the_delivery_with_a_photo_without_metadata(app, api, world):
    import io

    from PIL import Image

    from tests.activities_support import jpeg_with_gps

    give_points(app, world, "rider", 30)
    beneficiary = resident(app, world)
    cause = publish_cause(api, target_points=100, beneficiary_id=beneficiary)
    path = f"/causes/{cause['id']}/delivery"

    def send(as_, data):
        return api.post(path, as_=as_, content_type="multipart/form-data", data=data)

    early = send("xindu_admin", {"photo": (io.BytesIO(jpeg_with_gps()), "a.jpg")})
    assert (early.status_code, early.get_json()["code"]) == (409, "nothing_released")
    donate(api, cause["id"], 25)
    api.post(f"/causes/{cause['id']}/release", as_="xindu_admin", json={})
    api.post(f"/causes/{cause['id']}/release/confirm", as_="root_admin")
    fake = send("xindu_admin", {"photo": (io.BytesIO(b"not a photo\n" * 20), "a.jpg")})
    assert (fake.status_code, fake.get_json()["code"]) == (422, "validation_error")
    missing = send("xindu_admin", {"note": "送到了"})
    assert (missing.status_code, missing.get_json()["code"]) == (422, "validation_error")
    stranger = send("rider", {"photo": (io.BytesIO(jpeg_with_gps()), "a.jpg")})
    assert stranger.status_code == 403
    assert api.get(f"/causes/{cause['id']}", as_="rider").get_json()["delivery_photos"] == []
    done = send("xindu_admin", {"note": "棉被已送到", "photo": (io.BytesIO(jpeg_with_gps()),
                                                             "a.jpg")})
    assert done.status_code == 201, done.get_json()
    photos = done.get_json()["delivery_photos"]
    assert [p["note"] for p in photos] == ["棉被已送到"]
    image = api.get(f"/causes/{cause['id']}/delivery-photos/{photos[0]['id']}", as_="rider")
    assert image.status_code == 200 and image.data[:2] == b"\xff\xd8"
    assert b"TestCam" not in image.data
    assert dict(Image.open(io.BytesIO(image.data)).getexif()) == {}


def test_a_voucher_cause_from_publishing_to_the_delivery_photo_on_its_page(app, api, world):
    import io
    import re

    from tests.activities_support import jpeg_with_gps
    from tests.test_pages import login, post_form, text_of

    shops = build_shops_in_app(app, world)
    beneficiary = resident(app, world)
    asker, confirmer = app.test_client(), app.test_client()
    login(asker, "xindu_admin")
    login(confirmer, "root_admin")
    form = text_of(asker.get("/causes/new"))
    assert f'value="{shops.offer}"' in form and 'value="voucher"' in form
    published = post_form(asker, "/causes/new", "/causes/new", {
        "programme": "fengxingxia", "area": "sanyuan", "kind": "family_in_need",
        "title": "给张婆婆买茶", "story": "她爱喝盖碗茶。", "target_points": "60",
        "beneficiary_username": "zhang_popo", "delivery": "voucher", "offer": str(shops.offer)})
    assert published.status_code == 302, text_of(published)
    page = published.headers["Location"]
    cause_id = int(re.search(r"/causes/(\d+)", page).group(1))
    shown = api.get(f"/causes/{cause_id}", as_="rider").get_json()
    assert (shown["delivery"], shown["offer_id"], shown["beneficiary_id"]) == (
        "voucher", shops.offer, beneficiary)
    give_points(app, world, "rider", 30)
    donate(api, cause_id, 30)
    post_form(asker, page, page + "/release", {})
    done = text_of(post_form(confirmer, page, page + "/release/confirm", {},
                             follow_redirects=True))
    assert 'data-test="released"' in done and "盖碗茶一杯" in done
    assert len(api.get("/vouchers", as_="zhang_popo").get_json()) == 1
    confirmed = text_of(post_form(asker, page, page + "/delivery", {
        "note": "茶已送到", "photo": (io.BytesIO(jpeg_with_gps()), "a.jpg")},
        content_type="multipart/form-data", follow_redirects=True))
    assert "茶已送到" in confirmed
    photo_url = re.search(r'<img src="([^"]+/delivery-photos/\d+)"', confirmed).group(1)
    viewer = app.test_client()
    login(viewer, "rider")
    image = viewer.get(photo_url)
    assert image.status_code == 200 and image.data[:2] == b"\xff\xd8"
    assert b"TestCam" not in image.data
