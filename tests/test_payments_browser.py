"""A volunteer donates to a cause in Debian's chromium at a phone's size, against the real app
served over HTTP on each database: the cause's progress rises and the wallet goes down.
Screenshots go to JINDOU_SCREENSHOT_DIR when set (else the test's tmp dir)."""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from tests.payments_support import give_points, publish_cause
from tests.web_support import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE_VIEWPORT = {"width": 390, "height": 844}
TIMEOUT_MILLISECONDS = 15_000
WALLET_POINTS = 40
TARGET_POINTS = 100
DONATION_POINTS = 15


@pytest.fixture
def served(app, api, world):
    from werkzeug.serving import make_server

    give_points(app, world, "rider", WALLET_POINTS)
    cause = publish_cause(api, target_points=TARGET_POINTS)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="jindou-payments-server",
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", cause
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("JINDOU_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_a_volunteer_donates_to_a_cause_on_a_phone(served, browser, tmp_path, request):
    from playwright.sync_api import expect

    base_url, cause = served
    database = request.node.callspec.params["database"]
    screenshots = Path(os.environ.get("JINDOU_SCREENSHOT_DIR") or tmp_path / "screenshots")
    screenshots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MILLISECONDS)
    page = context.new_page()
    try:
        page.goto(base_url + "/login")
        page.get_by_label("用户名").fill("rider")
        page.get_by_label("密码").fill(PASSWORD)
        page.locator("[data-test=login]").click()
        page.wait_for_url(re.compile(r"/wallet$"))

        page.locator("[data-test=nav-causes]").click()
        page.wait_for_url(re.compile(r"/causes$"))
        expect(page.locator("h1")).to_have_text("积分捐赠")
        expect(page.locator("[data-test=wallet-available]")).to_have_text(str(WALLET_POINTS))
        page.get_by_role("link", name=re.compile(cause["title"])).click()
        page.wait_for_url(re.compile(rf"/causes/{cause['id']}$"))
        expect(page.locator("[data-test=raised]")).to_have_text("0")
        expect(page.locator("[data-test=remaining]")).to_have_text(f"还差 {TARGET_POINTS} 积分")
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-donate-1-cause.png", full_page=True)

        page.get_by_label("捐赠积分").fill(str(DONATION_POINTS))
        page.get_by_label("寄语（选填）").fill("张婆婆冬天暖暖的")
        page.locator("[data-test=donate]").click()

        expect(page.locator(".flash.success")).to_have_text(
            f"谢谢您！您捐出了 {DONATION_POINTS} 积分。")
        expect(page.locator("[data-test=raised]")).to_have_text(str(DONATION_POINTS))
        expect(page.locator("[data-test=percent]")).to_have_text(
            f"{DONATION_POINTS * 100 // TARGET_POINTS}%")
        expect(page.locator("[data-test=remaining]")).to_have_text(
            f"还差 {TARGET_POINTS - DONATION_POINTS} 积分")
        expect(page.locator("[data-test=wallet-available]")).to_have_text(
            str(WALLET_POINTS - DONATION_POINTS))
        bar = page.locator("[role=progressbar]")
        expect(bar).to_have_attribute("aria-valuenow", str(DONATION_POINTS))
        expect(page.locator("ol.history")).to_contain_text("张婆婆冬天暖暖的")
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-donate-2-after.png", full_page=True)

        page.goto(base_url + "/wallet")
        expect(page.locator("[data-test=available] .big")).to_have_text(
            str(WALLET_POINTS - DONATION_POINTS))
        expect(page.locator("ol.history")).to_contain_text("捐赠")
        page.goto(base_url + "/donations")
        expect(page.locator("[data-test=donation-history]")).to_contain_text(cause["title"])
        assert_fits_the_phone(page)
    finally:
        context.close()


def assert_fits_the_phone(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
