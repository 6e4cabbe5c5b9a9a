"""A volunteer donates to a cause in Debian's chromium at a phone's size, against the real app
served over HTTP on each database: the cause's progress rises and the wallet goes down.
Screenshots go to JINDOU_SCREENSHOT_DIR when set (else the test's tmp dir)."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import assert_fits_the_phone, phone, serve, submit_login
from tests.payments_support import give_points, publish_cause

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real

WALLET_POINTS = 40
TARGET_POINTS = 100
DONATION_POINTS = 15


@pytest.fixture
def served(app, api, world):
    """The app served with the rider's points and a published cause; yields its base URL and
    the cause."""
    give_points(app, world, "rider", WALLET_POINTS)
    cause = publish_cause(api, target_points=TARGET_POINTS)
    with serve(app, "jindou-payments-server") as base:
        yield base, cause


def test_a_volunteer_donates_to_a_cause_on_a_phone(served, browser, screenshots, request):
    from playwright.sync_api import expect

    base_url, cause = served
    database = request.node.callspec.params["database"]
    context = phone(browser)
    page = context.new_page()
    try:
        page.goto(base_url + "/login")
        submit_login(page, "rider")
        page.wait_for_url(re.compile(r"/wallet$"))

        page.locator("[data-test=nav-me]").click()  # 我的 lists every page of the role
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
        bar = page.locator("progress.progress")  # a native progress bar, named for axe
        expect(bar).to_have_attribute("value", str(DONATION_POINTS))
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
