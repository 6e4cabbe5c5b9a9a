"""The activity and wish pages through the test client with real CSRF tokens, in Chinese:
an organiser creates an activity and shows its QR, a volunteer signs up, types the code,
checks out; the organiser approves; hours record, certificate, party duty CSV; a wish from
publication to confirmation with a photo upload; the daily check-in button."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from activities import checkin
from ledger.clock import CHINA
from tests.activities_support import build_scene, jpeg_with_gps
from tests.test_pages import login, post_form, text_of


@pytest.fixture
def scene(app, world):
    return build_scene(app, world)


def client_as(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def key(app) -> bytes:
    return app.config["JINDOU_CHECKIN_KEY"].encode()


def create_activity_through_page(app, organiser):
    start = (datetime.now(UTC) - timedelta(minutes=30)).astimezone(CHINA)
    response = post_form(organiser, "/activities/new", "/activities/new", {
        "title": "翠湖公园环境清洁", "category": "environment", "area": "sanyuan",
        "programme": "fengxingxia", "venue": "三元社区广场",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "10", "max_hours": "2"})
    assert response.status_code == 302, text_of(response)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_an_activity_from_creation_to_approved_hours(app, scene):
    organiser = client_as(app, "sanyuan_organiser")
    activity_id = create_activity_through_page(app, organiser)
    qr_page = text_of(organiser.get(f"/activities/{activity_id}/qr?d=in"))
    assert "扫码签到" in qr_page and f"/activities/{activity_id}/qr.png?d=in" in qr_page
    assert organiser.get(f"/activities/{activity_id}/qr.png?d=in").mimetype == "image/png"

    rider = client_as(app, "rider")
    listing = text_of(rider.get("/activities"))
    assert "翠湖公园环境清洁" in listing and "今日签到领金豆" in listing
    signed = post_form(rider, f"/activities/{activity_id}", f"/activities/{activity_id}/signup",
                       {}, follow_redirects=True)
    assert "报名成功" in text_of(signed)
    scan = f"/activities/{activity_id}/scan"
    wrong = post_form(rider, scan, scan, {"code": "00000000", "direction": "in"})
    assert "这不是本活动的签到码" in text_of(wrong)
    code = checkin.current_code(key(app), activity_id, "in")
    done = post_form(rider, f"{scan}?d=in&code={code}", scan, {"code": code, "direction": "in"},
                     follow_redirects=True)
    assert "签到成功，欢迎！" in text_of(done) and "已签到" in text_of(done)
    out = checkin.current_code(key(app), activity_id, "out")
    left = post_form(rider, f"{scan}?d=out", scan, {"code": out, "direction": "out"},
                     follow_redirects=True)
    assert "签退成功" in text_of(left)

    sheet = text_of(organiser.get(f"/activities/{activity_id}/attendance"))
    assert "rider" in sheet
    attendance_id = int(sheet.split('name="attendance" value="')[1].split('"')[0])
    approved = post_form(organiser, f"/activities/{activity_id}/attendance",
                         f"/activities/{activity_id}/attendance",
                         {"attendance": str(attendance_id), f"minutes-{attendance_id}": "45",
                          f"reason-{attendance_id}": "按实际服务时间核定"},
                         follow_redirects=True)
    assert "已审核 1 人，发放 9 积分" in text_of(approved)
    again = post_form(organiser, f"/activities/{activity_id}/attendance",
                      f"/activities/{activity_id}/attendance",
                      {"attendance": str(attendance_id)}, follow_redirects=True)
    assert "这些时长已经审核过了" in text_of(again)

    record = text_of(rider.get("/me/hours"))
    assert "0.8" in record and "按实际服务时间核定" in record
    certificate = text_of(rider.get("/me/hours/certificate"))
    assert "志愿服务时长证明" in certificate and "民政部令第67号" in certificate
    verify_url = re.search(r'<span class="code">(http[^<]+)</span>', certificate).group(1)
    qr_path = re.search(r'src="(/hours/verify/[^"]+/qr.png)"', certificate).group(1)
    qr = rider.get(qr_path)
    assert decode(Image.open(io.BytesIO(qr.data)))[0].data.decode() == verify_url
    anonymous = app.test_client()
    checked = text_of(anonymous.get(verify_url.replace("http://localhost", "")))
    assert "与服务记录一致" in checked and "0.8" in checked
    hours_amend(app, attendance_id, 40)
    stale = text_of(anonymous.get(verify_url.replace("http://localhost", "")))
    assert "与当前记录不符" in stale
    stylesheet = rider.get("/static/activities.css")
    assert "@media print" in text_of(stylesheet)
    stylesheet.close()


def hours_amend(app, attendance_id: int, minutes: int) -> None:
    from activities import hours
    from volunteers import users
    from web.extensions import db

    with app.app_context():
        organiser = users.find_user(db.session, "sanyuan_organiser")
        hours.amend(db.session, organiser, attendance_id, minutes, "复核更正")
        db.session.commit()
        db.session.remove()


def test_party_duty_page_and_csv(app, scene):
    organiser = client_as(app, "sanyuan_organiser")
    saved = post_form(organiser, "/party-duty", "/party-duty/status",
                      {"username": "rider", "party_status": "in_service"},
                      follow_redirects=True)
    assert "党员身份已保存" in text_of(saved)
    page = text_of(organiser.get("/party-duty?area=sanyuan&short=1"))
    assert "rider" in page and "未达标" in page
    csv = organiser.get("/party-duty?area=sanyuan&format=csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("用户名,")
    assert lines[1].split(",")[:2] == ["rider", "rider"] and lines[1].endswith(",是")
    assert client_as(app, "rider").get("/party-duty").status_code == 403


def test_a_wish_from_publication_to_confirmation(app, scene):
    organiser = client_as(app, "sanyuan_organiser")
    published = post_form(organiser, "/wishes/new", "/wishes/new", {
        "title": "帮独居老人更换灯泡", "resident_name": "王秀英", "story": "客厅灯坏了。",
        "needs": "一个灯泡", "area": "sanyuan", "programme": "fengxingxia",
        "reward_points": "15"})
    assert published.status_code == 302
    wish_page = published.headers["Location"]
    wish_id = int(wish_page.rstrip("/").split("/")[-1])
    rider = client_as(app, "rider")
    assert "王*英" in text_of(rider.get("/wishes"))
    claimed = post_form(rider, wish_page, f"/wishes/{wish_id}/claim", {},
                        follow_redirects=True)
    assert "认领成功" in text_of(claimed)
    fake = post_form(rider, wish_page, f"/wishes/{wish_id}/fulfil",
                     {"photo": (io.BytesIO(b"not a photo"), "photo.jpg")},
                     content_type="multipart/form-data", follow_redirects=True)
    assert "提交完成" in text_of(fake)  # still claimed: the form is shown again
    fulfilled = post_form(rider, wish_page, f"/wishes/{wish_id}/fulfil",
                          {"note": "换好了", "photo": (io.BytesIO(jpeg_with_gps()), "a.jpg")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "谢谢您！组织者将尽快确认" in text_of(fulfilled)
    assert "帮独居老人更换灯泡" in text_of(organiser.get("/organise"))
    confirmed = post_form(organiser, wish_page, f"/wishes/{wish_id}/confirm", {},
                          follow_redirects=True)
    assert "已确认：发放 15 积分" in text_of(confirmed)
    assert "已确认完成" in text_of(rider.get("/notifications"))


def test_the_daily_checkin_button_pays_once(app, scene):
    rider = client_as(app, "rider")
    first = post_form(rider, "/activities", "/me/daily-checkin", {}, follow_redirects=True)
    assert "今日签到成功：+2 积分" in text_of(first)
    second = post_form(rider, "/wallet", "/me/daily-checkin", {}, follow_redirects=True)
    assert "今天已经签到过了" in text_of(second)


def test_the_activity_pages_speak_english_on_request(app, scene):
    from tests.test_pages import switch_language

    rider = client_as(app, "rider")
    switch_language(rider, "en", "/activities")
    page = text_of(rider.get("/activities"))
    assert '<html lang="en">' in page
    assert "Upcoming activities" in page and "Check in for today" in page
    assert "Micro-wishes" in text_of(rider.get("/wishes"))
    assert "My service hours" in text_of(rider.get("/me/hours"))
