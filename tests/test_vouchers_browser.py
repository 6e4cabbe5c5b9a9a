"""A voucher's whole life in Debian's chromium at a phone's size, on each database: a rider
takes an offer and sees the large QR and short code; the merchant's till page, given chromium's
fake camera playing a video made from that very QR PNG, scans it with jsQR and shows the green
answer; a second scan and a typed code of another shop show red answers in Chinese."""

from __future__ import annotations

import io
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_VIEWPORT,
    TIMEOUT_MILLISECONDS,
    assert_fits_the_phone,
    require_chromium,
)
from tests.merchants_support import OFFER_PRICE_POINTS, RIDER_POINTS, build_shops_in_app
from tests.web_support import PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
JSQR = ROOT / "web" / "static" / "vendor" / "jsQR.js"
VIDEO_WIDTH, VIDEO_HEIGHT = 640, 480
QR_SIDE_PIXELS = 420
VIDEO_FRAMES = 10
SCAN_TIMEOUT_MILLISECONDS = 30_000


def require_jsqr() -> None:
    if not JSQR.exists():
        subprocess.run(["make", "vendor"], cwd=ROOT, capture_output=True, timeout=300)
    if not JSQR.exists():
        pytest.skip("web/static/vendor/jsQR.js is missing (make vendor)")


def write_y4m(png: bytes, path: Path) -> None:
    """A few frames of YUV4MPEG2 (4:2:0) showing the QR on white, for chromium's fake camera."""
    from PIL import Image

    qr = Image.open(io.BytesIO(png)).convert("L").resize((QR_SIDE_PIXELS, QR_SIDE_PIXELS),
                                                         Image.NEAREST)
    frame = Image.new("L", (VIDEO_WIDTH, VIDEO_HEIGHT), 255)
    frame.paste(qr, ((VIDEO_WIDTH - QR_SIDE_PIXELS) // 2, (VIDEO_HEIGHT - QR_SIDE_PIXELS) // 2))
    y, u, v = frame.convert("RGB").convert("YCbCr").split()
    half = (VIDEO_WIDTH // 2, VIDEO_HEIGHT // 2)
    planes = y.tobytes() + u.resize(half).tobytes() + v.resize(half).tobytes()
    with open(path, "wb") as stream:
        stream.write(f"YUV4MPEG2 W{VIDEO_WIDTH} H{VIDEO_HEIGHT} F10:1 Ip A1:1 C420jpeg\n"
                     .encode("ascii"))
        for _ in range(VIDEO_FRAMES):
            stream.write(b"FRAME\n" + planes)


@pytest.fixture
def served(app, world):
    from werkzeug.serving import make_server

    shops = build_shops_in_app(app, world)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", shops
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def phone(chromium):
    context = chromium.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2,
                                   is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MILLISECONDS)
    return context


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("[data-test=login]").click()
    page.wait_for_load_state()


def test_a_rider_takes_a_voucher_and_the_till_scans_it_through_the_camera(
        served, tmp_path, request):
    require_chromium()
    require_jsqr()
    from playwright.sync_api import expect, sync_playwright

    base, shops = served
    database = request.node.callspec.params["database"]
    shots = Path(os.environ.get("JINDOU_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        context = phone(chromium)
        page = context.new_page()
        sign_in(page, base, "rider")
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
        write_y4m(png, video)
        camera = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream",
                                  "--use-fake-ui-for-media-stream",
                                  f"--use-file-for-fake-video-capture={video}"])
        till = phone(camera)
        till.grant_permissions(["camera"], origin=base)
        page = till.new_page()
        sign_in(page, base, "till")
        page.goto(base + "/till")
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


def test_the_till_answers_a_typed_code_of_another_shop_in_red(served, request):
    require_chromium()
    require_jsqr()
    from playwright.sync_api import expect, sync_playwright

    base, shops = served
    api_client = request.getfixturevalue("api")
    voucher = api_client.post(f"/offers/{shops.other_offer}/vouchers", as_="rider").get_json()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        context = phone(chromium)
        page = context.new_page()
        sign_in(page, base, "till")
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
        chromium.close()
