"""A voucher's whole life in Debian's chromium at a phone's size, on each database: a rider
takes an offer and sees the large QR and short code; the merchant's till page, given chromium's
fake camera playing a video made from that very QR PNG, scans it with jsQR and shows the green
answer; a second scan and a typed code of another shop show red answers in Chinese."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import (
    assert_fits_the_phone,
    launch_chromium,
    phone,
    require_jsqr,
    screenshot_dir,
    serve,
    sign_in,
    y4m_from_png,
)
from tests.merchants_support import OFFER_PRICE_POINTS, RIDER_POINTS, build_shops_in_app

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real

QR_SIDE_PIXELS = 420
SCAN_TIMEOUT_MILLISECONDS = 30_000


@pytest.fixture
def served(app, world):
    """The app served with the shops and their offers; yields its base URL and the shops."""
    shops = build_shops_in_app(app, world)
    with serve(app) as base:
        yield base, shops


def test_a_rider_takes_a_voucher_and_the_till_scans_it_through_the_camera(
        served, playwright, tmp_path, request):
    require_jsqr()
    from playwright.sync_api import expect

    base, shops = served
    database = request.node.callspec.params["database"]
    shots = screenshot_dir(tmp_path)
    chromium = launch_chromium(playwright)
    context = phone(chromium)
    page = context.new_page()
    sign_in(page, "rider", base)
    page.goto(base + "/offers")
    offer = page.locator(f"[data-test=offer][data-offer-id='{shops.offer}']")
    expect(offer).to_contain_text("盖碗茶一杯")
    offer.locator("[data-test=take]").click()
    page.wait_for_url(re.compile(r"/vouchers/\d+$"))
    expect(page.locator("[data-test=voucher-status]")).to_have_text("有效")
    short_code = page.locator("[data-test=short-code]").inner_text()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", short_code)
    qr = page.locator("[data-test=qr]")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 280  # most of a 390 px phone
    assert page.evaluate("document.querySelector('[data-test=qr]').naturalWidth") > 0
    assert_fits_the_phone(page)
    page.screenshot(path=shots / f"{database}-voucher.png", full_page=True)
    voucher_url = page.url
    png = context.request.get(voucher_url + "/qr.png").body()
    rider_page = page

    video = tmp_path / "qr.y4m"
    y4m_from_png(png, video, side=QR_SIDE_PIXELS)
    camera = launch_chromium(playwright, camera=video)
    till = phone(camera)
    till.grant_permissions(["camera"], origin=base)
    page = till.new_page()
    sign_in(page, "till", base)
    # A merchant lands on the till, whose camera starts at once: opening it a second time
    # would race the first page's scan (the second page then sees a redeemed voucher).
    expect(page).to_have_url(re.compile(r"/till$"))
    result = page.locator("[data-test=till-result]")
    expect(result).to_have_class(re.compile(r"\bok\b"), timeout=SCAN_TIMEOUT_MILLISECONDS)
    expect(result).to_contain_text("核销成功")
    expect(result).to_contain_text("盖碗茶一杯")
    assert_fits_the_phone(page)
    page.screenshot(path=shots / f"{database}-till-green.png", full_page=True)
    # The rider's page, still shown at the till, turns to redeemed by itself.
    expect(rider_page.locator("[data-test=voucher-status]")).to_have_text(
        "已核销", timeout=SCAN_TIMEOUT_MILLISECONDS)
    expect(rider_page.locator("[data-test=qr]")).to_have_count(0)

    # The camera keeps seeing the same code: once the pause is over, the till answers red.
    expect(result).to_have_class(re.compile(r"\brefused\b"),
                                 timeout=SCAN_TIMEOUT_MILLISECONDS)
    expect(result).to_contain_text("已核销过")
    page.screenshot(path=shots / f"{database}-till-red.png", full_page=True)
    till.close()
    camera.close()
    context.close()
    chromium.close()

    import ledger
    from web.extensions import db

    app = served_app(request)
    with app.app_context():
        wallet = ledger.balance(db.session, f"volunteer:{shop_world(request).ids['rider']}:wallet")
        assert (wallet.posted, wallet.available) == (RIDER_POINTS - OFFER_PRICE_POINTS,
                                                     RIDER_POINTS - OFFER_PRICE_POINTS)
        db.session.remove()


def served_app(request):
    return request.getfixturevalue("app")


def shop_world(request):
    return request.getfixturevalue("world")


def test_the_till_answers_a_typed_code_of_another_shop_in_red(served, browser, request):
    require_jsqr()
    from playwright.sync_api import expect

    base, shops = served
    api_client = request.getfixturevalue("api")
    voucher = api_client.post(f"/offers/{shops.other_offer}/vouchers", as_="rider").get_json()
    context = phone(browser)
    page = context.new_page()
    sign_in(page, "till", base)
    page.goto(base + "/till")
    page.locator("[data-test=till-code]").fill(voucher["short_code"].lower())
    page.locator("[data-test=till-submit]").click()
    result = page.locator("[data-test=till-result]")
    expect(result).to_have_class(re.compile(r"\brefused\b"))
    expect(result).to_contain_text("商家不符")
    page.locator("[data-test=till-code]").fill("ZZZZ-ZZZZ")
    page.locator("[data-test=till-submit]").click()
    expect(result).to_contain_text("无效")
    context.close()
