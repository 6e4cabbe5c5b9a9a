"""The honours pages through the test client with real CSRF tokens: preview and publish,
downloads (CSV and a real Excel file), certificates with a QR that decodes to the public
verification page, the leaderboards with the volunteer's own line."""

from __future__ import annotations

import base64
import csv
import io
import re

from PIL import Image

from honours.ranking import china_year_now
from tests.ranking_support import configure_small_world
from tests.test_pages import login, post_form, text_of
from tests.test_ranking_api import award
from tests.web_support import ApiClient, ledger_snapshot

YEAR = china_year_now()


def earn(app, world):
    configure_small_world(app)
    api = ApiClient(app)
    award(api, world, "rider", 60)
    award(api, world, "rider2", 40)


def test_admin_previews_then_publishes_and_downloads_every_row(app, world):
    earn(app, world)
    client = app.test_client()
    login(client, "xindu_admin")
    page = f"/honours/?programme=fengxingxia&year={YEAR}"
    before = ledger_snapshot(app)
    preview = text_of(client.get(page))
    assert 'data-status="preview"' in preview and "大侠" in preview
    assert ledger_snapshot(app) == before
    published = post_form(client, page, f"/honours/fengxingxia/{YEAR}/publish", {},
                          follow_redirects=True)
    assert 'data-status="published"' in text_of(published)
    download = client.get(f"/honours/fengxingxia/{YEAR}/ranking.csv")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert rows[0][:2] == ["序号", "名次"]
    assert [row[4] for row in rows[1:]] == ["60", "40"]
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(client.get(
        f"/honours/fengxingxia/{YEAR}/ranking.xlsx").get_data()))
    values = list(workbook.active.values)
    assert [row[4] for row in values[1:]] == [60, 40]
    # A second publish from the page is refused and changes nothing.
    before = ledger_snapshot(app)
    again = client.post(f"/honours/fengxingxia/{YEAR}/publish",
                        data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                                      text_of(client.get(page))).group(1)})
    assert again.status_code == 409
    assert ledger_snapshot(app) == before


def test_publish_without_csrf_token_is_refused(app, world):
    earn(app, world)
    client = app.test_client()
    login(client, "root_admin")
    before = ledger_snapshot(app)
    response = client.post(f"/honours/fengxingxia/{YEAR}/publish", data={})
    assert response.status_code == 400
    assert ledger_snapshot(app) == before


def test_certificate_qr_opens_a_verification_page_with_the_name_masked(app, world):
    from pyzbar.pyzbar import decode

    earn(app, world)
    ApiClient(app).post("/programmes/fengxingxia/rankings", as_="root_admin",
                        json={"year": YEAR, "publish": True})
    client = app.test_client()
    login(client, "rider")
    mine = text_of(client.get("/honours/mine"))
    link = re.search(r'data-test="certificate-link" href="([^"]+)"', mine).group(1)
    certificate = text_of(client.get(link))
    assert "大侠" in certificate
    data = re.search(r'src="data:image/png;base64,([^"]+)"', certificate).group(1)
    decoded = decode(Image.open(io.BytesIO(base64.b64decode(data))))
    url = decoded[0].data.decode()
    assert "/honours/verify/" in url
    anonymous = app.test_client()
    verified = anonymous.get(url.replace("http://localhost", ""))
    assert verified.status_code == 200
    assert "r***r" in text_of(verified)
    assert "rider" not in text_of(verified)
    forged = anonymous.get(url.replace("http://localhost", "")[:-3] + "abc")
    assert forged.status_code == 404
    other = app.test_client()
    login(other, "rider2")
    assert other.get(link).status_code in (403, 404)


def test_leaderboard_shows_the_volunteers_own_line(app, world):
    earn(app, world)
    client = app.test_client()
    login(client, "rider2")
    page = text_of(client.get("/honours/leaderboards?programme=fengxingxia&period=year"))
    assert 'class="mine"' in page
    assert "r***r" in page and "rider2" in page  # others masked, one's own name in full
    body = ApiClient(app).get("/programmes/fengxingxia/leaderboards?period=week",
                              as_="rider2").get_json()
    assert [line["score"] for line in body["lines"]] == [60, 40]
    assert body["mine"] == {"place": 2, "subject_id": world.ids["rider2"], "name": "rider2",
                            "score": 40}
    assert body["lines"][0]["name"] == "r***r"


def test_dashboard_tables_and_downloads(app, world):
    earn(app, world)
    client = app.test_client()
    login(client, "root_admin")
    page = text_of(client.get(f"/dashboard/?programme=fengxingxia&year={YEAR}"))
    assert 'data-test="section-points"' in page and "<svg" in page
    response = client.get(f"/dashboard/fengxingxia/{YEAR}/points.csv")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 13
    month = [row for row in rows[1:] if row[1] != "0"]
    assert len(month) == 1 and month[0][1] == "100"
    fund = client.get(f"/dashboard/fengxingxia/{YEAR}/fund.xlsx")
    assert fund.status_code == 200 and fund.get_data()[:2] == b"PK"
    volunteer = app.test_client()
    login(volunteer, "rider")
    assert volunteer.get(f"/dashboard/?programme=fengxingxia&year={YEAR}").status_code == 403


def test_admin_changes_the_tiers_on_the_page_and_bad_shares_are_refused(app, world):
    earn(app, world)
    client = app.test_client()
    login(client, "root_admin")
    page = f"/honours/?programme=fengxingxia&year={YEAR}"
    form = {"mode": "proportion", "min_points": "1", "exclude_staff": "on",
            "tier-0-name": "大侠", "tier-0-share": "60", "tier-0-bonus": "800",
            "tier-1-name": "少侠", "tier-1-share": "20", "tier-1-bonus": "0",
            "tier-2-name": "侠士", "tier-2-share": "30", "tier-2-bonus": "0"}
    refused = post_form(client, page, f"/honours/fengxingxia/config?year={YEAR}", form,
                        follow_redirects=True)
    assert "100 %" in text_of(refused)
    form["tier-2-share"] = "10"
    saved = post_form(client, page, f"/honours/fengxingxia/config?year={YEAR}", form,
                      follow_redirects=True)
    assert 'value="800"' in text_of(saved)
    body = ApiClient(app).get("/programmes/fengxingxia/ranking-config",
                              as_="root_admin").get_json()
    assert [t["share_bp"] for t in body["tiers"]] == [6000, 2000, 1000]
    assert body["tiers"][0]["bonus_fen"] == 80_000
