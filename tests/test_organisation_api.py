"""Running the organisation through the API: areas (create, rename, move, close), departments
and their staff, roles per area with the second-admin rule, suspension, reset codes, password
changes and sign-in by phone; each refusal a stable code with nothing changed, each change in
the audit log."""

from __future__ import annotations

from tests.web_support import PASSWORD

SQUARE = {"type": "Polygon", "coordinates": [[[104.1, 30.8], [104.2, 30.8], [104.2, 30.9],
                                               [104.1, 30.8]]]}


def area(api, as_="xindu_admin", **body):
    return api.post("/areas", as_=as_, json=body)


def kinds(api, as_="root_admin", **query):
    items = api.get("/audit-events", as_=as_, query_string=query).get_json()["items"]
    return [(e["kind"], e["subject"]) for e in items]


def test_an_admin_builds_renames_moves_and_closes_areas_inside_their_own(api, world):
    made = area(api, code="xinfeng", name="新丰社区", level="community", parent="dafeng",
                boundary=SQUARE, centre={"lat": 30.85, "lng": 104.15})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["path"] == "/root/xindu/dafeng/xinfeng/"
    assert made.get_json()["centre"] == {"lat": 30.85, "lng": 104.15}
    grid = area(api, code="xf-grid1", name="一网格", level="grid", parent="xinfeng")
    assert grid.status_code == 201
    renamed = api.patch("/areas/xinfeng", as_="xindu_admin", json={"name": "新丰村"})
    assert renamed.get_json()["name"] == "新丰村"
    # 大丰 has a sibling street only at root level: make one, then move the community there.
    assert area(api, as_="root_admin", code="mulan", name="木兰镇", level="street",
                parent="xindu").status_code == 201
    moved = api.patch("/areas/xinfeng", as_="xindu_admin", json={"parent": "mulan"})
    assert moved.status_code == 200, moved.get_json()
    assert api.get("/areas/xf-grid1", as_="xindu_admin").get_json()["path"] == \
        "/root/xindu/mulan/xinfeng/xf-grid1/"
    closed = api.post("/areas/xinfeng/close", as_="xindu_admin")
    assert closed.status_code == 200 and closed.get_json()["closed_at"]
    assert api.get("/areas/xf-grid1", as_="xindu_admin").get_json()["closed_at"]
    under_closed = area(api, code="xf-grid2", name="二网格", level="grid", parent="xinfeng")
    assert under_closed.status_code == 409 and under_closed.get_json()["code"] == "area_closed"
    assert kinds(api, kind="area") == [
        ("area.close", "area:xinfeng"), ("area.move", "area:xinfeng"),
        ("area.create", "area:mulan"), ("area.update", "area:xinfeng"),
        ("area.create", "area:xf-grid1"), ("area.create", "area:xinfeng")]


def test_bad_areas_are_refused_with_a_stable_code_and_nothing_made(api, world):
    cases = [
        (dict(code="x1", name="外区", level="community", parent="cuihu"), 403, "forbidden"),
        (dict(code="Bad Code", name="坏", level="community", parent="dafeng"), 422,
         "validation_error"),
        (dict(code="x2", name="错级", level="district", parent="dafeng"), 422,
         "validation_error"),
        (dict(code="x3", name="开环", level="community", parent="dafeng",
              boundary={"type": "Polygon", "coordinates": [[[1, 1], [2, 2], [3, 3], [4, 4]]]}),
         422, "validation_error"),
        (dict(code="sanyuan", name="重复", level="community", parent="dafeng"), 409, "conflict"),
        (dict(code="x4", name="无父", level="community", parent="nowhere"), 404, "not_found"),
    ]
    for body, status, code in cases:
        response = area(api, **body)
        assert (response.status_code, response.get_json()["code"]) == (status, code), body
    cycle = api.patch("/areas/xindu", as_="root_admin", json={"parent": "dafeng"})
    assert (cycle.status_code, cycle.get_json()["code"]) == (409, "area_cycle")
    assert api.get("/areas/xindu", as_="root_admin").get_json()["path"] == "/root/xindu/"
    assert kinds(api, kind="area") == []


def test_departments_get_categories_and_staff(app, api, world):
    from reports.categories import CategorySpec, save_category, save_group
    from volunteers import users
    from web.extensions import db

    with app.app_context():
        admin = users.find_user(db.session, "root_admin")
        save_group(db.session, admin, "traffic", "交通设施")
        save_category(db.session, admin, "traffic", CategorySpec("signal", "信号灯", 10,
                                                                 "urgent", 24))
        db.session.commit()
        db.session.remove()
    made = api.post("/departments", as_="xindu_admin", json={
        "code": "xindu-traffic", "name": "新都交警大队", "area": "xindu",
        "categories": ["signal"], "serves": ["dafeng"]})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["categories"] == ["signal"]
    reviewer = world.ids["dafeng_reviewer"]
    added = api.post("/departments/xindu-traffic/staff", as_="xindu_admin",
                     json={"user_id": reviewer})
    assert [s["username"] for s in added.get_json()["staff"]] == ["dafeng_reviewer"]
    removed = api.delete("/departments/xindu-traffic/staff", as_="xindu_admin",
                         json={"user_id": reviewer})
    assert removed.status_code == 200 and removed.get_json()["staff"] == []
    again = api.post("/departments", as_="xindu_admin", json={
        "code": "xindu-traffic", "name": "又一个", "area": "xindu"})
    assert again.status_code == 409
    unknown = api.post("/departments", as_="xindu_admin", json={
        "code": "xindu-city", "name": "城管", "area": "xindu", "categories": ["nope"]})
    assert unknown.status_code == 422
    assert api.get("/departments/xindu-city", as_="xindu_admin").status_code == 404
    assert api.post("/departments", as_="wuhua_admin", json={
        "code": "w1", "name": "外", "area": "xindu"}).status_code == 403
    assert [k for k, _ in kinds(api, kind="department")] == [
        "department.staff_remove", "department.staff_add", "department.update",
        "department.create"]


def test_roles_per_area_with_a_second_admin_and_never_the_last(api, world):
    rider = world.ids["rider"]
    granted = api.post(f"/users/{rider}/roles", as_="xindu_admin",
                       json={"role": "reviewer", "area": "sanyuan"})
    assert granted.status_code == 201 and granted.get_json()["status"] == "granted"
    outside = api.post(f"/users/{rider}/roles", as_="xindu_admin",
                       json={"role": "reviewer", "area": "cuihu"})
    assert outside.status_code == 403
    asked = api.post(f"/users/{rider}/roles", as_="xindu_admin",
                     json={"role": "admin", "area": "sanyuan"})
    assert asked.status_code == 202 and asked.get_json()["status"] == "awaiting_approval"
    request_id = asked.get_json()["request_id"]
    assert "admin" not in api.get("/me", as_="rider").get_json()["roles"]
    own = api.post(f"/role-requests/{request_id}/approve", as_="xindu_admin")
    assert own.status_code == 403
    approved = api.post(f"/role-requests/{request_id}/approve", as_="root_admin")
    assert approved.status_code == 200 and approved.get_json()["status"] == "granted"
    assert "admin" in api.get("/me", as_="rider").get_json()["roles"]
    revoked = api.delete(f"/users/{rider}/roles/reviewer?area=sanyuan", as_="xindu_admin")
    assert revoked.status_code == 204
    wuhua = world.ids["wuhua_admin"]
    last = api.delete(f"/users/{wuhua}/roles/admin?area=wuhua", as_="wuhua_admin")
    # root_admin and second_admin reach wuhua from the root: wuhua_admin is not the last.
    assert last.status_code == 204
    root = world.ids["root_admin"]
    assert api.delete(f"/users/{world.ids['second_admin']}/roles/admin?area=root",
                      as_="root_admin").status_code == 204
    only = api.delete(f"/users/{root}/roles/admin?area=root", as_="root_admin")
    assert (only.status_code, only.get_json()["code"]) == (409, "last_admin")
    assert "admin" in api.get("/me", as_="root_admin").get_json()["roles"]
    assert [k for k, _ in kinds(api, kind="role")][:3] == [
        "role.revoke", "role.revoke", "role.revoke"]


def test_suspension_stops_sign_in_and_tokens_but_keeps_points(api, world):
    rider = world.ids["rider"]
    token_before = api.token("rider")
    suspended = api.post(f"/users/{rider}/suspend", as_="xindu_admin")
    assert suspended.status_code == 200 and suspended.get_json()["active"] is False
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token_before}"})
    assert me.status_code == 401
    sign_in = api.client.post("/api/v1/auth/tokens",
                              json={"username": "rider", "password": PASSWORD})
    assert sign_in.status_code == 401
    again = api.post(f"/users/{rider}/suspend", as_="xindu_admin")
    assert again.get_json()["code"] == "already_suspended"
    assert api.post(f"/users/{rider}/reactivate", as_="xindu_admin").get_json()["active"]
    api.tokens.pop("rider")
    assert api.get("/me", as_="rider").status_code == 200
    assert api.post(f"/users/{rider}/suspend", as_="wuhua_admin").status_code == 403


def test_a_reset_code_sets_a_password_once(api, world):
    rider = world.ids["rider"]
    issued = api.post(f"/users/{rider}/reset-code", as_="xindu_admin")
    assert issued.status_code == 201
    code = issued.get_json()["code"]
    old_token = api.token("rider")
    body = {"username": "rider", "code": code, "new_password": "brand-new-pass"}
    assert api.post("/auth/reset", json=body).status_code == 200
    reused = api.post("/auth/reset", json=body)
    assert (reused.status_code, reused.get_json()["code"]) == (400, "invalid_code")
    wrong = api.post("/auth/reset", json={**body, "code": "WRONGCODE2"})
    assert wrong.get_json()["code"] == "invalid_code"
    assert api.client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {old_token}"}).status_code == 401
    assert api.client.post("/api/v1/auth/tokens", json={
        "username": "rider", "password": "brand-new-pass"}).status_code == 201
    assert ("user.reset_code", f"user:{rider}") in kinds(api, kind="user")
    assert code not in str(api.get("/audit-events", as_="root_admin").get_json())


def test_own_password_change_and_sign_in_by_phone_or_chinese_name(app, api, world):
    wrong = api.post("/me/password", as_="rider2",
                     json={"current_password": "nope-nope", "new_password": "another-pass"})
    assert wrong.status_code == 422 and "current_password" in wrong.get_json()["errors"]
    changed = api.post("/me/password", as_="rider2",
                       json={"current_password": PASSWORD, "new_password": "another-pass"})
    assert changed.status_code == 200
    registered = api.post("/auth/register", json={
        "username": "王阿姨", "password": PASSWORD, "display_name": "王阿姨",
        "area": "sanyuan", "phone": "13800138000"})
    assert registered.status_code == 201, registered.get_json()
    for login in ("王阿姨", "13800138000"):
        assert api.client.post("/api/v1/auth/tokens", json={
            "username": login, "password": PASSWORD}).status_code == 201
    digits = api.post("/auth/register", json={
        "username": "12345", "password": PASSWORD, "display_name": "x", "area": "sanyuan"})
    assert digits.status_code == 422
