"""The donation and cash-out pages through the test client with real CSRF tokens: a volunteer
donates and cashes out, an administrator publishes a cause, opens cash-out and marks a
request paid; refusals come back as a readable message and change nothing."""

from __future__ import annotations

import re

from tests.payments_support import available, give_points, open_cash_out, publish_cause
from tests.web_support import PASSWORD, csrf_token, ledger_snapshot


def text_of(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app, username: str):
    client = app.test_client()
    token = csrf_token(text_of(client.get("/login")))
    client.post("/login", data={"csrf_token": token, "username": username,
                                "password": PASSWORD})
    return client


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{re.escape(name)}"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def test_a_volunteer_donates_to_a_cause_from_its_page(app, api, world):
    give_points(app, world, "rider", 40)
    cause = publish_cause(api, target_points=60)
    client = signed_in(app, "rider")
    listing = text_of(client.get("/causes"))
    assert cause["title"] in listing and "困难家庭" in listing
    page = text_of(client.get(f"/causes/{cause['id']}"))
    assert "还差 60 积分" in page
    response = client.post(f"/causes/{cause['id']}/donate", follow_redirects=True, data={
        "csrf_token": csrf_token(page), "request_key": hidden(page, "request_key"),
        "amount_points": "25", "message": "加油"})
    shown = text_of(response)
    assert "谢谢您！您捐出了 25 积分。" in shown
    assert "还差 35 积分" in shown
    assert available(app, world.wallet("rider")) == 15
    # The same form posted again (a double tap) donates once.
    client.post(f"/causes/{cause['id']}/donate", data={
        "csrf_token": csrf_token(page), "request_key": hidden(page, "request_key"),
        "amount_points": "25", "message": "加油"})
    assert available(app, world.wallet("rider")) == 15
    history = text_of(client.get("/donations"))
    assert cause["title"] in history and "您累计捐出 25 积分。" in history


def test_a_refused_donation_shows_why_and_changes_nothing(app, api, world):
    give_points(app, world, "rider", 10)
    cause = publish_cause(api)
    client = signed_in(app, "rider")
    page = text_of(client.get(f"/causes/{cause['id']}"))
    before = ledger_snapshot(app)
    response = client.post(f"/causes/{cause['id']}/donate", follow_redirects=True, data={
        "csrf_token": csrf_token(page), "request_key": hidden(page, "request_key"),
        "amount_points": "11"})
    assert "可用积分不足" in text_of(response)
    assert ledger_snapshot(app) == before


def test_a_form_without_its_csrf_token_changes_nothing(app, api, world):
    give_points(app, world, "rider", 10)
    cause = publish_cause(api)
    client = signed_in(app, "rider")
    before = ledger_snapshot(app)
    client.post(f"/causes/{cause['id']}/donate", data={"request_key": "x", "amount_points": "5"})
    assert ledger_snapshot(app) == before


def test_a_volunteer_cashes_out_and_an_admin_marks_it_paid(app, api, world):
    give_points(app, world, "rider", 50)
    client = signed_in(app, "rider")
    assert "该项目暂未开放积分兑现" in text_of(client.get("/cash-out"))
    open_cash_out(api, minimum_points=10, monthly_maximum_points=100)
    page = text_of(client.get("/cash-out"))
    assert "本月已兑现 0 / 100 积分" in page
    response = client.post("/cash-out", follow_redirects=True, data={
        "csrf_token": csrf_token(page), "request_key": hidden(page, "request_key"),
        "programme": "fengxingxia", "amount_points": "30"})
    shown = text_of(response)
    assert "已申请：30 积分兑现 ¥30.00" in shown
    assert "待支付" in shown
    assert available(app, world.wallet("rider")) == 20

    admin = signed_in(app, "xindu_admin")
    queue = text_of(admin.get("/admin/cash-outs"))
    assert "rider" in queue and "¥30.00" in queue
    request_id = re.search(r'/admin/cash-outs/(\d+)/paid', queue).group(1)
    paid = admin.post(f"/admin/cash-outs/{request_id}/paid", follow_redirects=True, data={
        "csrf_token": csrf_token(queue), "payout_reference": "微信转账 42000"})
    assert "已标记支付" in text_of(paid)
    assert "已支付" in text_of(client.get("/cash-out"))
    assert available(app, "programme:fengxingxia:payouts") == 3000


def test_an_admin_publishes_a_cause_and_opens_cash_out_by_page(app, world):
    admin = signed_in(app, "xindu_admin")
    form = text_of(admin.get("/causes/new"))
    response = admin.post("/causes/new", follow_redirects=True, data={
        "csrf_token": csrf_token(form), "programme": "fengxingxia", "area": "nanfeng",
        "kind": "student_aid", "title": "南丰社区助学", "story": "需要复习资料。",
        "target_points": "80"})
    assert "爱心项目已发布。" in text_of(response)
    assert "南丰社区助学" in text_of(response)
    queue = text_of(admin.get("/admin/cash-outs"))
    saved = admin.post("/admin/cash-out-policy", follow_redirects=True, data={
        "csrf_token": csrf_token(queue), "programme": "fengxingxia", "enabled": "y",
        "minimum_points": "10", "monthly_maximum_points": "200"})
    assert "兑现规则已保存。" in text_of(saved)
    assert "每月最多 200 积分" in text_of(saved)


def test_volunteers_cannot_open_the_admin_pages(app, world):
    client = signed_in(app, "rider")
    assert client.get("/admin/cash-outs").status_code == 403
    assert client.get("/causes/new").status_code == 403
