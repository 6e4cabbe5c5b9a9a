"""Team pages and API on both databases: organisers form teams on their areas, the leader or
an organiser manages members, an organiser names a new leader; refusals change nothing."""

from __future__ import annotations

from tests.activities_support import build_scene
from tests.test_activities_pages import client_as
from tests.test_pages import post_form, text_of


def test_team_api_life_and_refusals(app, api, world):
    scene = build_scene(app, world)
    created = api.post("/teams", as_="sanyuan_organiser", json={
        "name": "三元社区志愿服务队", "area": "sanyuan", "leader_id": scene.ids["rider"]})
    assert created.status_code == 201, created.get_json()
    team = created.get_json()
    assert [m["username"] for m in team["members"]] == ["rider"]
    assert api.post("/teams", as_="sanyuan_organiser", json={
        "name": "x", "area": "nanfeng", "leader_id": scene.ids["rider"]}).status_code == 403
    assert api.post("/teams", as_="sanyuan_organiser", json={
        "name": "三元社区志愿服务队", "area": "sanyuan",
        "leader_id": scene.ids["rider"]}).get_json()["code"] == "conflict"
    path = f"/teams/{team['id']}"
    added = api.post(path + "/members", as_="rider", json={"user_id": scene.ids["volunteer_a"]})
    assert added.status_code == 201
    assert {m["username"] for m in added.get_json()["members"]} == {"rider", "volunteer_a"}
    refused = api.post(path + "/members", as_="volunteer_a", json={"user_id": scene.ids["rider2"]})
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")
    assert api.request("PUT", path + "/leader", as_="sanyuan_organiser",
                       json={"user_id": scene.ids["rider2"]}).status_code == 422
    led = api.request("PUT", path + "/leader", as_="sanyuan_organiser",
                      json={"user_id": scene.ids["volunteer_a"]})
    assert led.get_json()["leader_id"] == scene.ids["volunteer_a"]
    removed = api.request("DELETE", f"{path}/members/{scene.ids['rider']}", as_="volunteer_a")
    assert [m["username"] for m in removed.get_json()["members"]] == ["volunteer_a"]
    assert [t["id"] for t in api.get("/teams", as_="volunteer_a").get_json()] == [team["id"]]
    assert api.get("/teams", as_="rider").get_json() == []
    assert api.get(path, as_="rider2").status_code == 403


def test_team_pages(app, world):
    build_scene(app, world)
    organiser = client_as(app, "sanyuan_organiser")
    made = post_form(organiser, "/teams", "/teams", {"name": "大丰骑手先锋队", "area": "sanyuan",
                                                    "leader": "rider"}, follow_redirects=True)
    page = text_of(made)
    assert "队伍已创建" in page and "大丰骑手先锋队" in page
    team_path = made.request.path
    added = post_form(organiser, team_path, team_path, {"username": "volunteer_a"},
                      follow_redirects=True)
    assert "已添加队员" in text_of(added) and "volunteer_a" in text_of(added)
    rider = client_as(app, "rider")
    assert "大丰骑手先锋队" in text_of(rider.get("/teams"))
