"""What the browser tests share: the app served over HTTP from a thread, Debian's chromium
driven through Playwright, phone-sized contexts, signing in, and a .y4m video made from a PNG
for chromium's fake camera. The fixtures built on these (playwright, browser, screenshots) are
in tests/conftest.py."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.web_support import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
JSQR = ROOT / "web" / "static" / "vendor" / "jsQR.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
PHONE_VIEWPORT = {"width": 390, "height": 844}
TIMEOUT_MILLISECONDS = 15_000
VIDEO_WIDTH, VIDEO_HEIGHT = 640, 480
VIDEO_FRAMES = 10


@contextmanager
def serve(app, name: str | None = None):
    """Serves the app on 127.0.0.1 at a free port from a thread (named ``name``); yields its
    base URL and stops the server on leaving."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def require_chromium() -> None:
    """Skips the test when Debian's chromium is missing; fails it instead under
    JINDOU_REQUIRE_BROWSER=1."""
    if Path(CHROMIUM).exists() and shutil.which(CHROMIUM):
        return
    message = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("JINDOU_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def require_jsqr(skip: bool = True) -> Path:
    """Vendors jsQR.js (``make vendor``) when it is missing. With ``skip`` a failed make is
    quiet and the test is skipped; without it, make's failure raises."""
    if not JSQR.exists():
        subprocess.run(["make", "vendor"], cwd=ROOT, check=not skip, capture_output=skip,
                       timeout=300)
    if not JSQR.exists():
        pytest.skip("web/static/vendor/jsQR.js is missing (make vendor)")
    return JSQR


def launch_chromium(playwright, camera: Path | None = None):
    """Headless Debian chromium; given ``camera``, a .y4m file, its fake camera plays it."""
    args = list(CHROMIUM_ARGS)
    if camera is not None:
        args += FAKE_CAMERA_ARGS + [f"--use-file-for-fake-video-capture={camera}"]
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


def watch_csp(browser) -> list[str]:
    """Every context ``browser`` makes from now on reports the Content-Security-Policy
    violations chromium logs to its console into the list returned (the ``browser`` fixture
    fails a test that leaves any)."""
    violations: list[str] = []
    make_context = browser.new_context

    def new_context(*args, **kwargs):
        context = make_context(*args, **kwargs)
        context.on("console", lambda message: violations.append(message.text)
                   if "Content Security Policy" in message.text else None)
        return context

    browser.new_context = new_context
    return violations


def phone(browser, mobile: bool = True, **options):
    """A phone-sized context in Chinese; ``mobile=False`` keeps the size on a desktop browser
    (no touch, no device pixel ratio). ``options`` go to new_context."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN",
                                  device_scale_factor=2 if mobile else 1, is_mobile=mobile,
                                  has_touch=mobile, **options)
    context.set_default_timeout(TIMEOUT_MILLISECONDS)
    return context


def submit_login(page, username: str) -> None:
    """Fills the login form already on the page and sends it."""
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("[data-test=login]").click()


def sign_in(page, username: str, base: str = "") -> None:
    """Signs in through the login page at ``base`` (empty when the context has a base_url)."""
    page.goto(base + "/login")
    submit_login(page, username)
    page.wait_for_load_state()


def assert_fits_the_phone(page) -> None:
    """Nothing scrolls sideways on a phone."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"


def screenshot_dir(fallback: Path) -> Path:
    """JINDOU_SCREENSHOT_DIR when set, else ``fallback``; made if missing."""
    directory = Path(os.environ.get("JINDOU_SCREENSHOT_DIR") or fallback)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def y4m_from_png(png: bytes, path: Path, side: int | None = None) -> None:
    """Writes a YUV4MPEG2 video (4:2:0) for chromium's --use-file-for-fake-video-capture: the
    picture centred on white in every frame. With ``side`` the picture is scaled to that
    square (nearest neighbour), without it only shrunk to fit the frame's height."""
    from PIL import Image

    picture = Image.open(io.BytesIO(png)).convert("RGB")
    if side is None:
        picture.thumbnail((VIDEO_HEIGHT - 20, VIDEO_HEIGHT - 20))
    else:
        picture = picture.resize((side, side), Image.NEAREST)
    frame = Image.new("RGB", (VIDEO_WIDTH, VIDEO_HEIGHT), "white")
    frame.paste(picture, ((VIDEO_WIDTH - picture.width) // 2,
                          (VIDEO_HEIGHT - picture.height) // 2))
    y, u, v = frame.convert("YCbCr").split()
    half = (VIDEO_WIDTH // 2, VIDEO_HEIGHT // 2)
    planes = y.tobytes() + u.resize(half).tobytes() + v.resize(half).tobytes()
    with path.open("wb") as stream:
        stream.write(f"YUV4MPEG2 W{VIDEO_WIDTH} H{VIDEO_HEIGHT} F10:1 Ip A1:1 C420jpeg\n"
                     .encode("ascii"))
        for _ in range(VIDEO_FRAMES):
            stream.write(b"FRAME\n" + planes)
