"""The hours leaderboard in Debian's chromium against the real app on each database: a
volunteer switches the board from points to service hours and finds their own line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser_support import phone, serve, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real


@pytest.fixture
def served(app, world):
    """The app served with an activity whose hours are approved; yields its base URL."""
    from activities import hours
    from tests.activities_support import build_scene, make_activity, recent_start
    from tests.test_activities_service import _attend
    from volunteers import users
    from web.extensions import db

    scene = build_scene(app, world)
    with app.app_context():
        session = db.session
        organiser = users.get_user(session, scene.ids["sanyuan_organiser"])
        activity = make_activity(session, organiser.id, starts_in=recent_start(hours=4),
                                 length=timedelta(hours=5))
        _attend(session, scene, activity, "rider", 90)
        _attend(session, scene, activity, "volunteer_a", 150)
        session.commit()
        hours.approve(session, organiser, activity.id)
        session.commit()
        session.remove()
    with serve(app, "jindou-plug-server") as base:
        yield base


def test_a_volunteer_switches_the_board_to_service_hours(served, browser, screenshots):
    from playwright.sync_api import expect

    context = phone(browser, mobile=False)
    page = context.new_page()
    try:
        sign_in(page, "rider", served)
        page.goto(served + "/honours/leaderboards?programme=fengxingxia&period=month")
        page.locator("[data-test=metric-hours]").click()
        page.wait_for_load_state()
        assert "metric=hours" in page.url
        expect(page.locator("[data-test=metric-hours]")).to_have_class("on")
        board = page.locator("[data-test=board]")
        expect(board).to_contain_text("服务时长（小时）")
        rows = board.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("2.5")
        mine = board.locator("tr.mine")
        expect(mine).to_contain_text("1.5")
        expect(mine.locator("td").first).to_have_text("2")
        page.screenshot(path=str(screenshots / "hours-leaderboard.png"), full_page=True)
        page.locator("[data-test=metric-points]").click()
        page.wait_for_load_state()
        expect(board).to_contain_text("获得积分")
        expect(board.locator("tr.mine")).to_contain_text("18")
    finally:
        context.close()
