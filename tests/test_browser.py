"""The volunteer's wallet in Debian's chromium at a phone's size, against the real app served
over HTTP on each database: sign in, read the points and the Chinese history, switch to English
and back. Screenshots go to JINDOU_SCREENSHOT_DIR when set (else the test's tmp dir)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser_support import assert_fits_the_phone, phone, serve, submit_login

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real

AWARD_POINTS = 30
VOUCHER_HOLD_POINTS = 10
HOLD_LIFETIME = timedelta(days=7)


@pytest.fixture
def served(app, world):
    """The app served with the rider's points in place; yields its base URL."""
    give_rider_points(app, world)
    with serve(app, "jindou-test-server") as base:
        yield base


def give_rider_points(app, world) -> None:
    """An award through the programme service, and a voucher-like hold on part of it."""
    import ledger
    from ledger import Posting
    from volunteers import programmes, users
    from web.extensions import db

    with app.app_context():
        session = db.session
        reviewer = users.get_user(session, world.ids["dafeng_reviewer"])
        programmes.request_award(session, reviewer, world.programme, world.ids["rider"],
                                 AWARD_POINTS, "上报交通信号灯故障", "browser:award")
        ledger.open_account(session, "merchant:test:vouchers", "POINT", "liability")
        ledger.hold(session, idempotency_key="browser:hold", kind="voucher_hold",
                    postings=[Posting(world.wallet("rider"), -VOUCHER_HOLD_POINTS, "POINT"),
                              Posting("merchant:test:vouchers", VOUCHER_HOLD_POINTS, "POINT")],
                    expires_at=datetime.now(UTC) + HOLD_LIFETIME, memo="奶茶兑换券")
        session.commit()
        ledger.seal_all(session)
        session.remove()


def test_rider_reads_the_wallet_in_chinese_and_in_english(served, browser, screenshots,
                                                           request):
    from playwright.sync_api import expect

    database = request.node.callspec.params["database"]
    context = phone(browser)
    page = context.new_page()
    try:
        page.goto(served + "/login")
        expect(page.locator("h1")).to_have_text("登录")
        page.screenshot(path=screenshots / f"{database}-1-login.png", full_page=True)
        submit_login(page, "rider")

        page.wait_for_url(re.compile(r"/wallet$"))
        available = AWARD_POINTS - VOUCHER_HOLD_POINTS
        expect(page.locator("[data-test=available]")).to_contain_text("可用积分")
        expect(page.locator("[data-test=available] .big")).to_have_text(str(available))
        expect(page.locator("[data-test=posted]")).to_have_text(str(AWARD_POINTS))
        expect(page.locator("[data-test=pending]")).to_have_text(str(VOUCHER_HOLD_POINTS))
        history = page.locator("ol.history")
        expect(history).to_contain_text("奖励")
        expect(history).to_contain_text("上报交通信号灯故障")
        expect(history).to_contain_text("兑换券冻结")
        expect(history).to_contain_text("冻结中")
        expect(history.locator("time").first).to_have_text(
            re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$"))  # one format everywhere
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-2-wallet-zh.png", full_page=True)

        page.locator("[data-test=switch-language]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("[data-test=available]")).to_contain_text("Available points")
        expect(page.locator("ol.history")).to_contain_text("Voucher reserved")
        expect(page.get_by_text("Reserved by vouchers")).to_be_visible()
        assert page.url.endswith("/wallet")
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-3-wallet-en.png", full_page=True)

        page.locator("[data-test=switch-language]").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("[data-test=available]")).to_contain_text("可用积分")
    finally:
        context.close()
