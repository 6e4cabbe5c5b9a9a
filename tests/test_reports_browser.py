"""A rider files a report with a photo in chromium at a phone's size, a reviewer verifies it,
and the rider sees the points and the notification: the real app over HTTP, each database."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import assert_fits_the_phone, phone, serve, sign_in
from tests.reports_support import DAFENG, SIGNAL_POINTS, build_reports_world, jpeg_with_gps

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real
AT_DAFENG = {"geolocation": {"latitude": DAFENG[0], "longitude": DAFENG[1]},
             "permissions": ["geolocation"]}


@pytest.fixture
def served_reports(app, world):
    """The app served with the reports world built; yields its base URL."""
    build_reports_world(app, world)
    with serve(app, "jindou-reports-server") as base:
        yield base


def test_rider_reports_reviewer_verifies_rider_sees_points(
        served_reports, browser, screenshots, tmp_path, request):
    from playwright.sync_api import expect

    database = request.node.callspec.params["database"]
    photo = tmp_path / "road.jpg"
    photo.write_bytes(jpeg_with_gps())
    rider = phone(browser, base_url=served_reports, **AT_DAFENG)
    reviewer = phone(browser, base_url=served_reports, **AT_DAFENG)
    try:
        page = rider.new_page()
        sign_in(page, "rider")
        page.locator("[data-test=nav-report]").click()
        expect(page.locator("h1")).to_have_text("上报问题")
        expect(page.locator("[data-test=location-status]")).to_contain_text("已定位")
        page.get_by_label("您发现了什么问题？").select_option("traffic-signal")
        page.get_by_label("地点（地址）").fill("蜀龙大道与大丰大道路口")
        page.get_by_label("问题描述").fill("路口红绿灯不亮，车辆通行混乱")
        page.locator("#photos").set_input_files(str(photo))
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-report-1-form.png", full_page=True)
        page.locator("[data-test=submit-report]").click()
        page.wait_for_url(re.compile(r"/reports/\d+$"))
        expect(page.locator("[data-test=status]")).to_have_text("已提交")
        expect(page.locator("[data-test=photo]")).to_have_count(1)
        report_path = "/" + page.url.split("/", 3)[3]
        page.screenshot(path=screenshots / f"{database}-report-2-sent.png", full_page=True)

        desk = reviewer.new_page()
        sign_in(desk, "dafeng_reviewer")
        desk.goto("/reports/review")
        desk.locator(f"[data-test=queue] a[href='{report_path}']").click()
        expect(desk.locator("[data-test=description]")).to_have_text("路口红绿灯不亮，车辆通行混乱")
        desk.locator("[data-test=verify]").click()
        expect(desk.locator("[data-test=status]")).to_have_text("已核实")
        desk.locator("[data-test=dispatch]").click()
        expect(desk.locator("[data-test=status]")).to_have_text("已派单")

        page.goto("/wallet")
        expect(page.locator("[data-test=available] .big")).to_have_text(str(SIGNAL_POINTS))
        page.goto("/notifications")
        notices = page.locator("[data-test=notifications]")
        expect(notices).to_contain_text("已交由交警队处理，此次积分10分")
        expect(notices).to_contain_text("已核实，此次积分10分")
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-report-3-notified.png", full_page=True)
        page.goto(report_path)
        expect(page.locator("[data-test=points]")).to_have_text(str(SIGNAL_POINTS))
    finally:
        rider.close()
        reviewer.close()
