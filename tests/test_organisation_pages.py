"""The /admin organisation pages through the test client: a refusal reads as a sentence in
Chinese with nothing changed, and people without the role are turned away."""

from __future__ import annotations

from tests.web_support import PASSWORD, csrf_token


def signed_in(app, username):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf_token(page), "username": username,
                                "password": PASSWORD})
    return client


def test_refusals_read_as_sentences_and_change_nothing(app, api, world):
    client = signed_in(app, "root_admin")
    page = client.get("/admin/areas/xindu").get_data(as_text=True)
    moved = client.post("/admin/areas/xindu", data={
        "csrf_token": csrf_token(page), "name": "成都市新都区", "parent": "dafeng"},
        follow_redirects=True).get_data(as_text=True)
    assert "区域不能移到它自己或它的下级区域之下。" in moved
    assert api.get("/areas/xindu", as_="root_admin").get_json()["path"] == "/root/xindu/"
    person = client.get(f"/admin/people/{world.ids['root_admin']}").get_data(as_text=True)
    last = client.post(f"/admin/people/{world.ids['second_admin']}/revoke", data={
        "csrf_token": csrf_token(person), "role": "admin", "area": "root"},
        follow_redirects=True).get_data(as_text=True)
    assert "角色已撤销。" in last
    last = client.post(f"/admin/people/{world.ids['root_admin']}/revoke", data={
        "csrf_token": csrf_token(person), "role": "admin", "area": "root"},
        follow_redirects=True).get_data(as_text=True)
    assert "这是该区域最后一位管理员，请先任命另一位。" in last

    anonymous = app.test_client()
    form = anonymous.get("/reset").get_data(as_text=True)
    wrong = anonymous.post("/reset", data={
        "csrf_token": csrf_token(form), "username": "rider", "code": "WRONG23456",
        "new_password": "whatever-123"}).get_data(as_text=True)
    assert "验证码错误、已使用或已过期。" in wrong


def test_people_without_the_role_are_turned_away(app, world):
    rider = signed_in(app, "rider")
    for path in ("/admin/audit", "/admin/areas", "/admin/departments", "/admin/people",
                 "/admin/imports", "/admin/audit.csv"):
        assert rider.get(path).status_code == 403, path
    outside = signed_in(app, "wuhua_admin")
    assert outside.get("/admin/areas/dafeng").status_code == 403
    assert outside.get(f"/admin/people/{1}").status_code in (403, 404)
    page = rider.get("/me/password").get_data(as_text=True)
    changed = rider.post("/me/password", data={
        "csrf_token": csrf_token(page), "current_password": PASSWORD,
        "new_password": "a-new-password"})
    assert changed.status_code == 302


def test_a_department_is_made_on_the_page_with_the_areas_it_serves(app, api, world):
    client = signed_in(app, "xindu_admin")
    page = client.get("/admin/departments").get_data(as_text=True)
    made = client.post("/admin/departments", data={
        "csrf_token": csrf_token(page), "code": "dafeng-wy", "name": "大丰物业",
        "area": "dafeng", "serves": ["sanyuan", "nanfeng"]}, follow_redirects=True)
    html = made.get_data(as_text=True)
    assert "部门已新建。" in html and "还服务" in html
    assert api.get("/departments/dafeng-wy", as_="xindu_admin").get_json()["serves"] == [
        "nanfeng", "sanyuan"]
