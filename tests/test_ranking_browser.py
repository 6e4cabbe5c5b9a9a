"""The year-end honours in Debian's chromium against the real app on each database: an
administrator previews and publishes the ranking and downloads its CSV; the rider opens the
certificate, whose QR (decoded from the rendered page with zbar) opens the public
verification page."""

from __future__ import annotations

import csv
import io
import re

import pytest

from honours.ranking import china_year_now
from tests.browser_support import PHONE_VIEWPORT, TIMEOUT_MILLISECONDS, serve, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real
YEAR = china_year_now()


@pytest.fixture
def served(app, world):
    """The app served with two riders awarded points; yields its base URL."""
    from tests.ranking_support import configure_small_world
    from tests.test_ranking_api import award
    from tests.web_support import ApiClient

    configure_small_world(app)
    api = ApiClient(app)
    award(api, world, "rider", 60)
    award(api, world, "rider2", 40)
    with serve(app, "jindou-honours-server") as base:
        yield base


def test_admin_publishes_and_the_rider_verifies_the_certificate(served, browser, screenshots,
                                                                 request, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect
    from pyzbar.pyzbar import decode

    database = request.node.callspec.params["database"]
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN",
                                  accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MILLISECONDS)
    page = context.new_page()
    try:
        sign_in(page, "xindu_admin", served)
        page.goto(f"{served}/honours/?programme=fengxingxia&year={YEAR}")
        ranking = page.locator("[data-test=ranking]")
        expect(ranking).to_have_attribute("data-status", "preview")
        expect(page.locator("[data-test=tier-daxia]")).to_contain_text("大侠")
        expect(page.locator("[data-test=rows]")).to_contain_text("rider2")
        page.screenshot(path=screenshots / f"{database}-honours-1-preview.png", full_page=True)
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("[data-test=publish]").click()
        expect(page.locator("[data-test=ranking]")).to_have_attribute("data-status", "published")
        with page.expect_download() as download_info:
            page.locator("[data-test=download-csv]").click()
        path = tmp_path / "ranking.csv"
        download_info.value.save_as(path)
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        assert [row[3] for row in rows[1:]] == ["rider", "rider2"]
        assert rows[1][6] == "大侠" and rows[1][7] == "500.00"
        page.screenshot(path=screenshots / f"{database}-honours-2-published.png", full_page=True)
        page.locator("[data-test=nav-me]").click()  # signing out is on 我的
        page.locator("[data-test=logout]").click()

        phone = context.new_page()
        phone.set_viewport_size(PHONE_VIEWPORT)
        sign_in(phone, "rider", served)
        phone.goto(served + "/honours/mine")
        phone.locator("[data-test=certificate-link]").click()
        expect(phone.locator("[data-test=certificate-title]")).to_have_text("大侠")
        qr = phone.locator("[data-test=certificate-qr]")
        expect(qr).to_be_visible()
        png = tmp_path / "qr.png"
        qr.screenshot(path=png)
        decoded = decode(Image.open(png))
        assert decoded, "the certificate's QR did not decode"
        url = decoded[0].data.decode()
        assert re.match(rf"^{re.escape(served)}/honours/verify/[\w.-]+$", url), url
        phone.screenshot(path=screenshots / f"{database}-honours-3-certificate.png",
                         full_page=True)

        visitor = browser.new_context(locale="zh-CN").new_page()
        visitor.goto(url)
        expect(visitor.locator("[data-test=verified]")).to_be_visible()
        expect(visitor.locator("[data-test=verification]")).to_contain_text("r***r")
        expect(visitor.locator("[data-test=verification]")).to_contain_text("大侠")
        visitor.screenshot(path=screenshots / f"{database}-honours-4-verified.png",
                           full_page=True)
        visitor.goto(url[:-4] + "abcd")
        expect(visitor.locator("[data-test=not-verified]")).to_be_visible()
    finally:
        context.close()
