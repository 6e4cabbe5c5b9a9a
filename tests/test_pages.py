"""The pages through the test client, with real CSRF tokens: Chinese by default, English on
request, and the volunteer's and the administrators' work end to end."""

from __future__ import annotations

import re

import pytest

from tests.web_support import PASSWORD, csrf_token

ADMIN_AWARD_THRESHOLD_POINTS = 100  # build_world's programme: above this, a second admin approves


def text_of(response) -> str:
    return response.get_data(as_text=True)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(text_of(client.get("/login")))
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": password})


def post_form(client, page: str, action: str, data: dict, **kwargs):
    """Post ``data`` to ``action`` with the CSRF token of the form shown on ``page``."""
    token = csrf_token(text_of(client.get(page)))
    return client.post(action, data={"csrf_token": token, **data}, **kwargs)


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]+)"', html) or re.search(
        rf'value="([^"]+)"[^>]*name="{re.escape(name)}"', html)
    assert match, f"no hidden {name} on the page"
    return match.group(1)


def award_through_page(client, volunteer: str, amount_points: int, reason: str):
    html = text_of(client.get("/admin"))
    return client.post("/admin/awards", data={
        "csrf_token": csrf_token(html),
        "award-request_key": hidden_value(html, "award-request_key"),
        "award-programme": "fengxingxia",
        "award-volunteer": volunteer,
        "award-amount_points": str(amount_points),
        "award-reason": reason,
    }, follow_redirects=True)


def switch_language(client, code: str, page: str = "/login"):
    return post_form(client, page, f"/language/{code}?next={page}", {}, follow_redirects=True)


def test_login_page_is_chinese_by_default(client):
    response = client.get("/login")
    html = text_of(response)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert "<h1>登录</h1>" in html
    assert "用户名" in html and "密码" in html and "注册成为志愿者" in html
    assert "Sign in" not in html


def test_wrong_password_shows_the_chinese_error(client, world):
    response = login(client, "rider", "not-the-password")
    assert response.status_code == 200
    assert "用户名或密码错误。" in text_of(response)
    assert client.get("/wallet").status_code == 302


def test_empty_login_shows_chinese_field_errors(client, world):
    response = login(client, "", "")
    assert text_of(response).count("该字段是必填字段。") == 2


def test_login_leads_a_volunteer_to_the_wallet(client, world):
    response = login(client, "rider")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/wallet"
    assert "我的金豆" in text_of(client.get("/wallet"))
    assert "退出登录" in text_of(client.get("/me"))  # 我的, the tab bar's last entry


def test_login_follows_a_local_next_but_not_another_site(client, world):
    token = csrf_token(text_of(client.get("/login")))
    form = {"csrf_token": token, "username": "rider", "password": PASSWORD}
    assert client.post("/login?next=/wallet", data=form).headers["Location"] == "/wallet"
    client.post("/logout", data={"csrf_token": csrf_token(text_of(client.get("/wallet")))})
    token = csrf_token(text_of(client.get("/login")))
    response = client.post("/login?next=//evil.example/", data={**form, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_wallet_shows_balances_and_the_award_in_chinese(client, world):
    login(client, "dafeng_reviewer")
    award_through_page(client, "rider", 30, "上报井盖缺失")
    client.post("/logout", data={"csrf_token": csrf_token(text_of(client.get("/admin")))})
    login(client, "rider")
    html = text_of(client.get("/wallet"))
    assert "可用积分" in html and "已入账" in html and "已冻结" in html
    assert re.search(r'data-test="available">\s*<span class="label">可用积分</span>\s*'
                     r'<span class="big">30</span>', html)
    assert re.search(r'data-test="posted">30<', html)
    assert re.search(r'data-test="pending">0<', html)
    assert "积分明细" in html
    history = html[html.index('<ol class="history">'):]
    assert "<strong>奖励</strong>" in history
    assert "上报井盖缺失" in history and "+30" in history and "余额 30" in history
    assert re.search(r"<time>\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}</time>", history)


def test_a_wallet_without_entries_says_so(client, world):
    login(client, "rider2")
    assert "暂无记录。" in text_of(client.get("/wallet"))


def test_post_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"username": "rider", "password": PASSWORD})
    assert response.status_code == 400
    login(client, "root_admin")
    before = text_of(client.get("/admin"))
    response = client.post("/admin/awards", data={
        "award-request_key": hidden_value(before, "award-request_key"),
        "award-programme": "fengxingxia", "award-volunteer": "rider",
        "award-amount_points": "5", "award-reason": "no token"})
    assert response.status_code == 400
    assert client.post("/language/en").status_code == 400
    assert client.post("/logout").status_code == 400
    assert client.get("/admin").status_code == 200  # still signed in


def test_logout_ends_the_session(client, world):
    login(client, "rider")
    response = post_form(client, "/wallet", "/logout", {})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    response = client.get("/wallet")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_register_a_volunteer_through_the_form(client, world):
    page = text_of(client.get("/register"))
    assert "注册成为志愿者" in page and "所在社区" in page and "三元社区" in page
    response = client.post("/register", data={
        "csrf_token": csrf_token(page), "username": "new_rider", "display_name": "新骑手",
        "password": "long-enough-1", "area": "sanyuan"}, follow_redirects=True)
    html = text_of(response)
    assert response.status_code == 200
    assert "欢迎加入！您的账号已开通。" in html
    assert "新骑手 · 三元社区" in html
    assert re.search(r'data-test="posted">0<', html)


def test_register_refuses_a_bad_user_name_in_chinese(client, world):
    page = text_of(client.get("/register"))
    response = client.post("/register", data={
        "csrf_token": csrf_token(page), "username": "a b", "display_name": "x",
        "password": "long-enough-1", "area": "sanyuan"})
    assert "2 到 64 个字符：汉字、字母、数字、_ . 或 -" in text_of(response)


def test_admin_desk_shows_programme_balances(client, world):
    login(client, "root_admin")
    assert client.get("/").headers["Location"] == "/dashboard/"  # an admin lands on the dashboard
    html = text_of(client.get("/admin"))
    assert "激励项目" in html and "丰行侠·新都大丰" in html
    assert "¥10,000.00" in html  # the fund, in yuan, zh-CN formatted
    assert ">10,000<" in html  # the points budget
    assert "每元 1 积分" in html and "发放金豆" in html and "登记到账资金" in html


def test_admin_award_within_threshold_posts_at_once(client, world):
    login(client, "root_admin")
    html = text_of(award_through_page(client, "rider", 40, "帮助走失老人回家"))
    assert "已向 rider 发放 40 金豆。" in html
    assert ">9,960<" in html


def test_award_above_threshold_waits_for_a_second_admin(client, world, app):
    amount_points = ADMIN_AWARD_THRESHOLD_POINTS + 50
    login(client, "root_admin")
    html = text_of(award_through_page(client, "rider", amount_points, "见义勇为"))
    assert "该奖励需由另一位管理员审核后发放。" in html
    assert "待您审核的奖励" in html  # the requester sees it too, but may not approve it
    post_form(client, "/admin", "/logout", {})

    second = app.test_client()
    login(second, "second_admin")
    desk = text_of(second.get("/admin"))
    assert "待您审核的奖励" in desk and "见义勇为" in desk and "批准" in desk
    action = re.search(r'action="(/admin/awards/\d+/approve)"', desk).group(1)
    response = second.post(action, data={"csrf_token": csrf_token(desk)}, follow_redirects=True)
    html = text_of(response)
    assert "奖励已批准并入账。" in html
    assert "待您审核的奖励" not in html
    assert f">{10_000 - amount_points:,}<" in html

    login(client, "rider")
    assert re.search(rf'data-test="posted">{amount_points}<', text_of(client.get("/wallet")))


def test_the_requester_cannot_approve_their_own_award(client, world):
    login(client, "root_admin")
    desk = text_of(award_through_page(client, "rider", ADMIN_AWARD_THRESHOLD_POINTS + 1, "大额"))
    action = re.search(r'action="(/admin/awards/\d+/approve)"', desk).group(1)
    response = client.post(action, data={"csrf_token": csrf_token(desk)})
    assert response.status_code == 403
    assert "无权访问" in text_of(response)


def test_award_to_an_unknown_volunteer_is_refused_in_chinese(client, world):
    login(client, "root_admin")
    html = text_of(award_through_page(client, "nobody", 5, "测试"))
    assert "没有使用该用户名的志愿者。" in html


def test_a_volunteer_cannot_open_the_admin_desk(client, world):
    login(client, "rider")
    response = client.get("/admin")
    assert response.status_code == 403
    html = text_of(response)
    assert "无权访问" in html and 'data-code="forbidden"' in html
    assert "您的账号无权打开此页面或进行此操作。" in html
    assert client.get("/admin/volunteers").status_code == 403


def test_a_volunteer_reads_only_their_own_account(client, world):
    login(client, "rider")
    own = client.get(f"/accounts/{world.wallet('rider')}")
    assert own.status_code == 200 and "账户流水" in text_of(own)
    assert client.get(f"/accounts/{world.wallet('rider2')}").status_code == 403
    assert client.get(f"/accounts/{world.budget}").status_code == 403


def test_an_admin_reads_the_fund_in_yuan(client, world):
    login(client, "root_admin")
    html = text_of(client.get(f"/accounts/{world.fund}"))
    assert "账户流水" in html and "项目注资" in html
    assert re.search(r'<dd>¥10,000.00</dd>', html)
    assert "+¥10,000.00" in html and "余额 ¥10,000.00" in html  # fen shown as yuan
    assert "元（人民币） · 资产" in html and "CNY · asset" not in html


def test_language_switch_changes_the_page_text(client, world):
    html = text_of(switch_language(client, "en"))
    assert '<html lang="en">' in html and "<h1>Sign in</h1>" in html and "登录" not in html
    login(client, "rider")
    wallet = text_of(client.get("/wallet"))
    assert "Available points" in wallet and "Reserved by vouchers" in wallet
    html = text_of(switch_language(client, "zh_Hans_CN", "/wallet"))
    assert "可用积分" in html and "Available points" not in html


def test_a_signed_in_users_language_is_remembered_in_their_account(app, world):
    browser = app.test_client()
    login(browser, "rider")
    switch_language(browser, "en", "/wallet")
    elsewhere = app.test_client()  # a new session: no locale in it, the account's is used
    login(elsewhere, "rider")
    assert "Available points" in text_of(elsewhere.get("/wallet"))


def test_unknown_language_is_refused(client):
    response = post_form(client, "/login", "/language/fr", {})
    assert response.status_code == 400


def test_english_money_and_numbers_are_english_formatted(client, world):
    switch_language(client, "en")
    login(client, "root_admin")
    html = text_of(client.get("/admin"))
    assert "CN¥10,000.00" in html and "1 points per yuan" in html


@pytest.mark.parametrize(("accept_language", "expected_lang"), [
    ("en", "en"),  # a browser that asks only for English, gets English
    ("en-US,en;q=0.9", "en"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("zh-TW,en;q=0.5", "zh-CN"),  # any Chinese before English keeps Simplified Chinese
    ("zh-Hans-CN,en;q=0.5", "zh-CN"),
    ("en;q=0,zh-CN;q=0.1", "zh-CN"),  # q=0 means "not English"
    ("fr-FR,fr;q=0.9", "zh-CN"),
    ("", "zh-CN"),
])
def test_accept_language_gives_english_only_when_english_comes_first(
        client, accept_language, expected_lang):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    html = text_of(client.get("/login", headers=headers))
    assert f'<html lang="{expected_lang}">' in html


def test_a_chosen_language_wins_over_accept_language(client):
    switch_language(client, "zh_Hans_CN")
    html = text_of(client.get("/login", headers={"Accept-Language": "en"}))
    assert "<h1>登录</h1>" in html
