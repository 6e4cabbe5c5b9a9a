"""The report pages through the test client: filing from the phone form, the courtyard
poster's QR (decoded with zbar) and the resident's page it opens, privacy of reports and
photos, the reviewer's steps, categories and the monthly assessment with its CSV."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from PIL import Image

from tests.reports_support import SIGNAL_POINTS, build_reports_world, jpeg_with_gps
from tests.web_support import PASSWORD, csrf_token


@pytest.fixture
def site(app, world):
    build_reports_world(app, world)
    return world


def text_of(response) -> str:
    return response.get_data(as_text=True)


def login(client, username: str):
    token = csrf_token(text_of(client.get("/login")))
    response = client.post("/login", data={"csrf_token": token, "username": username,
                                           "password": PASSWORD})
    assert response.status_code == 302


def file_through_page(client, page="/reports/new", **extra):
    token = csrf_token(text_of(client.get(page)))
    data = {"csrf_token": token, "category": "traffic-signal", "lat": "30.7662",
            "lng": "104.0575", "address": "蜀龙大道与大丰大道路口", "description": "红绿灯不亮",
            "photos": [(io.BytesIO(jpeg_with_gps()), "road.jpg")], **extra}
    return client.post(page, data=data, content_type="multipart/form-data")


def report_id_of(response) -> int:
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_a_rider_files_a_report_from_the_phone_form(client, site):
    login(client, "rider")
    page = text_of(client.get("/reports/new"))
    assert "交通信号灯故障（10 积分）" in page or "交通信号灯故障 (10" in page
    assert '<optgroup label="交通设施">' in page
    response = file_through_page(client)
    assert response.status_code == 302, text_of(response)
    shown = text_of(client.get(response.headers["Location"]))
    assert "红绿灯不亮" in shown and "已提交" in shown
    photo_url = re.search(r'src="(/reports/\d+/media/\d+)\?size=thumbnail"', shown).group(1)
    photo = client.get(photo_url)
    assert Image.open(io.BytesIO(photo.data)).getexif().get_ifd(0x8825) == {}
    photo.close()
    assert f"#{report_id_of(response)}" in text_of(client.get("/reports/mine"))


def test_a_typed_address_is_enough_without_a_position(client, site):
    login(client, "rider")
    response = file_through_page(client, lat="", lng="")
    assert response.status_code == 302
    missing = file_through_page(client, lat="", lng="", address="")
    assert missing.status_code == 200
    assert "address" in text_of(missing)


def test_another_volunteer_cannot_open_the_report_or_its_photo(client, app, site):
    login(client, "rider")
    report_url = file_through_page(client).headers["Location"]
    photo_url = re.search(r'href="(/reports/\d+/media/\d+)"',
                          text_of(client.get(report_url))).group(1)
    other = app.test_client()
    login(other, "rider2")
    assert other.get(report_url).status_code == 404
    assert other.get(photo_url).status_code == 404
    assert app.test_client().get(photo_url).status_code == 302  # to the sign-in page


def test_the_reviewer_verifies_and_dispatches_on_the_report_page(client, app, site):
    login(client, "rider")
    report_url = file_through_page(client).headers["Location"]
    reviewer = app.test_client()
    login(reviewer, "dafeng_reviewer")
    queue = text_of(reviewer.get("/reports/review"))
    assert report_url in queue
    page = text_of(reviewer.get(report_url))
    key = re.search(r'name="request_key"[^>]*value="([^"]+)"', page).group(1)
    verify_url = report_url + "/verify"
    for _ in range(2):  # a double click pays once
        response = reviewer.post(verify_url, data={"csrf_token": csrf_token(page),
                                                   "request_key": key})
        assert response.status_code == 302
    page = text_of(reviewer.get(report_url))
    assert "已核实" in page
    response = reviewer.post(report_url + "/dispatch", data={
        "csrf_token": csrf_token(page), "department": "traffic", "deadline_hours": "4"})
    assert response.status_code == 302
    assert "已派单" in text_of(reviewer.get(report_url))
    wallet = text_of(client.get("/wallet"))
    assert f">{SIGNAL_POINTS}<" in wallet
    notices = text_of(client.get("/notifications"))
    assert "已交由交警队处理，此次积分10分" in notices


def test_the_courtyard_poster_qr_opens_the_residents_page(client, app, site):
    from pyzbar.pyzbar import decode

    login(client, "dafeng_reviewer")
    assert "/courtyards/sanyuan-g1-c1/poster" in text_of(client.get("/courtyards"))
    poster = text_of(client.get("/courtyards/sanyuan-g1-c1/poster"))
    assert "蜀龙大道12号院" in poster
    data = re.search(r'src="data:image/png;base64,([^"]+)"', poster).group(1)
    [symbol] = decode(Image.open(io.BytesIO(base64.b64decode(data))))
    link = symbol.data.decode()
    assert link.endswith("/c/sanyuan-g1-c1")
    resident = app.test_client()
    path = "/" + link.split("/", 3)[3]
    form = text_of(resident.get(path))
    assert "您的手机号" in form or "phone" in form.lower()
    response = file_through_page(resident, page=path, name="王阿姨", phone="13900001111")
    assert response.status_code == 200
    assert "已收到" in text_of(response)
    queue = text_of(client.get("/reports/review"))
    assert "蜀龙大道与大丰大道路口" in queue


def test_a_resident_must_give_name_and_phone(client, site):
    response = file_through_page(client, page="/c/sanyuan-g1-c1", name="", phone="")
    assert response.status_code == 200
    assert "name" in text_of(response) and "phone" in text_of(response)
    assert client.get("/c/sanyuan").status_code == 404


def test_an_admin_manages_categories(client, site):
    login(client, "root_admin")
    page = text_of(client.get("/reports/categories"))
    response = client.post("/reports/categories", data={
        "which": "category", "c-csrf_token": csrf_token(page), "csrf_token": csrf_token(page),
        "c-group": "cityscape", "c-code": "graffiti", "c-name": "乱涂乱画",
        "c-points": "3", "c-urgency": "long_term", "c-deadline_hours": "72",
        "c-department": "", "c-legal_basis": "", "c-active": "y"})
    assert response.status_code == 302, text_of(response)
    assert "乱涂乱画" in text_of(client.get("/reports/categories"))


def test_the_monthly_assessment_page_and_csv(client, app, site):
    login(client, "rider")
    file_through_page(client)
    reviewer = app.test_client()
    login(reviewer, "dafeng_reviewer")
    page = text_of(reviewer.get("/reports/assessment"))
    assert "<svg" in page and "交通信号灯故障" in page and "三元社区" in page
    response = reviewer.get("/reports/assessment.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "部门"
    assert ["交通信号灯故障", "三元社区", "1"] in rows
    assert app.test_client().get("/reports/assessment").status_code == 302
