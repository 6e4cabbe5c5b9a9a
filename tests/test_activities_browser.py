"""Check-in by camera in Debian's chromium at a phone's size: the organiser's phone shows the
rotating QR; the volunteer's chromium films it through a fake camera (a .y4m made from that
QR's PNG) and jsQR reads it; the volunteer is then checked in. The QR PNG is also decoded
with zbar. Screenshots go to JINDOU_SCREENSHOT_DIR when set."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from tests.activities_support import build_scene, make_activity
from tests.browser_support import (
    TIMEOUT_MILLISECONDS,
    assert_fits_the_phone,
    launch_chromium,
    phone,
    require_jsqr,
    serve,
    sign_in,
    y4m_from_png,
)

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real

VENUE = {"latitude": 30.8232, "longitude": 104.1587}


@pytest.fixture(scope="session")
def vendored():
    """jsQR.js, vendored once for the session; a failed make fails the test."""
    return require_jsqr(skip=False)


@pytest.fixture
def served(app, world):
    """The app served with the activities scene; yields its base URL and the scene."""
    scene = build_scene(app, world)
    with serve(app) as base:
        yield base, scene


def test_volunteer_checks_in_by_filming_the_organisers_rotating_qr(
        served, vendored, playwright, app, tmp_path, screenshots, request):
    from playwright.sync_api import expect

    from activities import signups
    from volunteers import users
    from web.extensions import db

    base, scene = served
    database = request.node.callspec.params["database"]
    with app.app_context():
        activity = make_activity(db.session, scene.ids["sanyuan_organiser"], radius=300,
                                 starts_in=timedelta(minutes=-10), title="翠湖公园环境清洁")
        signups.sign_up(db.session, users.get_user(db.session, scene.ids["rider"]), activity.id)
        db.session.commit()
        activity_id = activity.id
        db.session.remove()

    organiser_browser = launch_chromium(playwright)
    organiser = phone(organiser_browser)
    page = organiser.new_page()
    sign_in(page, "sanyuan_organiser", base)
    page.goto(f"{base}/activities/{activity_id}/qr?d=in")
    qr = page.locator("[data-test=checkin-qr]")
    expect(qr).to_be_visible()
    page.wait_for_function("document.getElementById('qr').naturalWidth > 0")
    expect(page.locator("[data-test=typed-code]")).to_contain_text(re.compile(r"\d{8}"))
    assert_fits_the_phone(page)
    page.screenshot(path=screenshots / f"{database}-activities-1-organiser-qr.png")
    png = organiser.request.get(f"{base}/activities/{activity_id}/qr.png?d=in").body()
    organiser_browser.close()

    decoded = decode(Image.open(io.BytesIO(png)))[0].data.decode()
    assert decoded.startswith(f"{base}/activities/{activity_id}/scan?d=in&code=")
    camera = tmp_path / "qr.y4m"
    y4m_from_png(png, camera)

    volunteer_browser = launch_chromium(playwright, camera=camera)
    volunteer = phone(volunteer_browser, geolocation={"latitude": 30.8240,
                                                      "longitude": 104.1590},
                      permissions=["camera", "geolocation"])
    page = volunteer.new_page()
    try:
        sign_in(page, "rider", base)
        page.goto(base + "/scan")
        page.wait_for_url(re.compile(rf"/activities/{activity_id}$"),
                          timeout=2 * TIMEOUT_MILLISECONDS)
        expect(page.locator(".flash.success")).to_have_text("签到成功，欢迎！")
        expect(page.locator("[data-test=my-status]")).to_contain_text("已签到")
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-activities-2-checked-in.png",
                        full_page=True)
    finally:
        volunteer_browser.close()

    with app.app_context():
        from activities.checkin import find_attendance

        attendance = find_attendance(db.session, activity_id, scene.ids["rider"])
        assert attendance is not None and attendance.status == "checked_in"
        assert attendance.checkin_distance_m is not None and attendance.checkin_distance_m < 300
        db.session.remove()
