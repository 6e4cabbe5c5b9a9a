"""Paying at the counter QR in Debian's chromium at a phone's size, on each database: the
counter poster's screenshot is decoded by zbar to the short URL; the volunteer's /scan page,
given chromium's fake camera playing that QR, reads it with jsQR and opens the merchant's
page; a double tap on the one button pays once and shows the green proof; the till, open
on another phone, lists the payment within two seconds."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from tests.browser_support import (
    assert_fits_the_phone,
    launch_chromium,
    phone,
    require_jsqr,
    sign_in,
    y4m_from_png,
)
from tests.merchants_support import OFFER_PRICE_POINTS, RIDER_POINTS, build_shops_in_app

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real

QR_SIDE_PIXELS = 440
SCAN_TIMEOUT_MILLISECONDS = 30_000
LIVE_MILLISECONDS = 2_000
SPOKEN = """
window.jindouSpoken = [];
if (window.speechSynthesis) {
  const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
  window.speechSynthesis.speak = (utterance) => {
    window.jindouSpoken.push([utterance.text, utterance.lang || null]);
    speak(utterance);
  };
}
"""


def test_a_volunteer_scans_the_poster_pays_once_and_the_till_sees_it(
        app, world, browser, playwright, screenshots, tmp_path, request):
    require_jsqr()
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg is missing (apt-get install zbar-tools)")
    from playwright.sync_api import expect

    from tests.browser_support import serve

    database = request.node.callspec.params["database"]
    shops = build_shops_in_app(app, world)
    with serve(app) as base:
        till = phone(browser)
        till_page = till.new_page()
        sign_in(till_page, "till", base)
        till_page.goto(f"{base}/merchants/{shops.merchant}/poster?size=a5")
        expect(till_page.locator("[data-test=poster-merchant]")).to_have_text("大丰老茶馆")
        till_page.wait_for_function(
            "document.querySelector('[data-test=poster-qr]').naturalWidth > 0")
        poster_shot = screenshots / f"{database}-counter-poster-a5.png"
        till_page.screenshot(path=poster_shot, full_page=True)
        url = subprocess.run([zbarimg, "--quiet", "--raw", str(poster_shot)],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        assert re.fullmatch(re.escape(base) + r"/m/K[0-9A-Z]+-[0-9A-Z]+-[A-Z2-7]{16}", url), url
        qr_png = till.request.get(f"{base}/merchants/{shops.merchant}/counter-qr.png").body()
        # What the till says aloud is recorded beside chromium's own speech synthesis.
        till_page.add_init_script(SPOKEN)
        till_page.goto(f"{base}/till")
        expect(till_page.locator("#till-payments-empty")).to_be_visible()
        till_page.locator("[data-test=till-speak]").click()
        expect(till_page.locator("[data-test=till-speak]")).to_have_text("语音播报：已开启")

        video = tmp_path / "counter.y4m"
        y4m_from_png(qr_png, video, side=QR_SIDE_PIXELS)
        camera = launch_chromium(playwright, camera=video)
        volunteer = phone(camera)
        volunteer.grant_permissions(["camera"], origin=base)
        page = volunteer.new_page()
        sign_in(page, "rider", base)
        page.goto(base + "/scan")
        page.wait_for_url(url, timeout=SCAN_TIMEOUT_MILLISECONDS)
        expect(page.locator("[data-test=counter-merchant]")).to_have_text("大丰老茶馆")
        expect(page.locator("[data-test=counter-available]")).to_have_text(str(RIDER_POINTS))
        confirm = page.locator("[data-test=counter-confirm]")
        expect(confirm).to_have_text(f"确认支付 {OFFER_PRICE_POINTS} 积分")
        assert confirm.bounding_box()["height"] >= 44
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-counter-pay.png", full_page=True)
        confirm.dblclick()
        page.wait_for_url(re.compile(r"/counter/payments/\d+$"))
        paid_at = time.monotonic()
        proof = page.locator("[data-test=paid]")
        expect(proof).to_contain_text("已付款")
        expect(page.locator("[data-test=paid-merchant]")).to_have_text("大丰老茶馆")
        expect(page.locator("[data-test=paid-title]")).to_have_text("盖碗茶一杯")
        expect(page.locator("[data-test=paid-amount]")).to_contain_text(str(OFFER_PRICE_POINTS))
        expect(page.locator("[data-test=paid-code]")).to_have_text(
            re.compile(r"^[2-9A-HJKMNP-Z]{4}$"))
        moving = page.evaluate(
            "getComputedStyle(document.querySelector('.paid-band span')).animationName")
        assert moving == "paid-slide"
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-counter-paid.png", full_page=True)
        code = page.locator("[data-test=paid-code]").inner_text()

        listed = till_page.locator("[data-test=till-payment]")
        expect(listed).to_have_count(1, timeout=LIVE_MILLISECONDS)
        assert time.monotonic() - paid_at < LIVE_MILLISECONDS / 1000 + 0.5
        expect(listed.first).to_contain_text(f"+{OFFER_PRICE_POINTS}")
        expect(listed.first).to_contain_text(code)
        till_page.wait_for_function("window.jindouSpoken.length > 1")
        assert till_page.evaluate("window.jindouSpoken") == [
            ["", None], [f"金豆到账，{OFFER_PRICE_POINTS} 积分", "zh-CN"]]
        assert_fits_the_phone(till_page)
        till_page.screenshot(path=screenshots / f"{database}-counter-till.png", full_page=True)
        page.go_back()  # back on the merchant's page: the same key answers the same payment
        page.wait_for_load_state()
        volunteer.close()
        camera.close()
        till.close()

    from merchants.models import CounterPayment
    from web.extensions import db

    with app.app_context():
        import ledger

        assert db.session.scalar(db.select(db.func.count()).select_from(CounterPayment)) == 1
        wallet = ledger.balance(db.session, world.wallet("rider"))
        assert (wallet.posted, wallet.available) == (RIDER_POINTS - OFFER_PRICE_POINTS,
                                                     RIDER_POINTS - OFFER_PRICE_POINTS)
        db.session.remove()
