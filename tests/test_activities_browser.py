"""Check-in by camera in Debian's chromium at a phone's size: the organiser's phone shows the
rotating QR; the volunteer's chromium films it through a fake camera (a .y4m made from that
QR's PNG) and jsQR reads it; the volunteer is then checked in. The QR PNG is also decoded
with zbar. Screenshots go to JINDOU_SCREENSHOT_DIR when set."""

from __future__ import annotations

import io
import re
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from tests.activities_support import build_scene, make_activity
from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_VIEWPORT,
    TIMEOUT_MILLISECONDS,
    assert_fits_the_phone,
    require_chromium,
)
from tests.web_support import PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
JSQR = ROOT / "web" / "static" / "vendor" / "jsQR.js"
FRAME_SIZE = (640, 480)
FRAME_COUNT = 10
VENUE = {"latitude": 30.8232, "longitude": 104.1587}


def y4m_from_png(png: bytes, path: Path) -> None:
    """A YUV4MPEG2 file (4:2:0) showing the picture centred on white, for chromium's
    --use-file-for-fake-video-capture."""
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    picture.thumbnail((FRAME_SIZE[1] - 20, FRAME_SIZE[1] - 20))
    frame = Image.new("RGB", FRAME_SIZE, "white")
    frame.paste(picture, ((FRAME_SIZE[0] - picture.width) // 2,
                          (FRAME_SIZE[1] - picture.height) // 2))
    y, u, v = frame.convert("YCbCr").split()
    half = (FRAME_SIZE[0] // 2, FRAME_SIZE[1] // 2)
    planes = y.tobytes() + u.resize(half).tobytes() + v.resize(half).tobytes()
    header = f"YUV4MPEG2 W{FRAME_SIZE[0]} H{FRAME_SIZE[1]} F10:1 Ip A1:1 C420jpeg\n"
    with path.open("wb") as stream:
        stream.write(header.encode())
        for _ in range(FRAME_COUNT):
            stream.write(b"FRAME\n" + planes)


@pytest.fixture(scope="session")
def vendored():
    if not JSQR.exists():
        subprocess.run(["make", "vendor"], cwd=ROOT, check=True)
    return JSQR


@pytest.fixture
def served(app, world):
    from werkzeug.serving import make_server

    scene = build_scene(app, world)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", scene
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def screenshots(tmp_path):
    import os

    directory = Path(os.environ.get("JINDOU_SCREENSHOT_DIR") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("[data-test=login]").click()
    page.wait_for_load_state()


def phone(browser, **options):
    context = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN", **options)
    context.set_default_timeout(TIMEOUT_MILLISECONDS)
    return context


def test_volunteer_checks_in_by_filming_the_organisers_rotating_qr(
        served, vendored, app, tmp_path, screenshots, request):
    from playwright.sync_api import expect, sync_playwright

    from activities import signups
    from volunteers import users
    from web.extensions import db

    require_chromium()
    base, scene = served
    database = request.node.callspec.params["database"]
    with app.app_context():
        activity = make_activity(db.session, scene.ids["sanyuan_organiser"], radius=300,
                                 starts_in=timedelta(minutes=-10), title="翠湖公园环境清洁")
        signups.sign_up(db.session, users.get_user(db.session, scene.ids["rider"]), activity.id)
        db.session.commit()
        activity_id = activity.id
        db.session.remove()

    with sync_playwright() as playwright:
        organiser_browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        organiser = phone(organiser_browser)
        page = organiser.new_page()
        sign_in(page, base, "sanyuan_organiser")
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

        volunteer_browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={camera}"])
        volunteer = phone(volunteer_browser, geolocation={"latitude": 30.8240,
                                                          "longitude": 104.1590},
                          permissions=["camera", "geolocation"])
        page = volunteer.new_page()
        try:
            sign_in(page, base, "rider")
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
