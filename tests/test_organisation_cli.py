"""``jindou areas``, ``jindou departments`` and ``jindou users grant|revoke|suspend|
reactivate|reset-code``: the same services as the API, logged as ``system`` from ``cli``."""

from __future__ import annotations

from tests.web_support import PASSWORD


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_an_operator_builds_the_tree_and_runs_accounts_from_the_shell(app, api, world):
    made = run(app, "areas", "create", "xinfeng", "--name", "新丰社区", "--level", "community",
               "--parent", "dafeng", "--centre", "30.85,104.15")
    assert made.exit_code == 0, made.output
    assert "/root/xindu/dafeng/xinfeng/" in made.output
    assert run(app, "areas", "update", "xinfeng", "--name", "新丰村").exit_code == 0
    listed = run(app, "areas", "list", "--under", "dafeng")
    assert "xinfeng\tcommunity\t新丰村" in listed.output
    cycle = run(app, "areas", "update", "dafeng", "--parent", "sanyuan")
    assert cycle.exit_code == 1 and "under itself" in cycle.output
    assert run(app, "areas", "close", "xinfeng").exit_code == 0
    assert "(closed)" in run(app, "areas", "list", "--under", "xinfeng").output

    assert run(app, "departments", "create", "dafeng-cg", "--name", "大丰城管中队",
               "--area", "dafeng").exit_code == 0
    assert run(app, "departments", "add-staff", "dafeng-cg", "dafeng_reviewer").exit_code == 0
    assert "dafeng_reviewer" in run(app, "departments", "list").output
    assert run(app, "departments", "remove-staff", "dafeng-cg",
               "dafeng_reviewer").exit_code == 0

    assert run(app, "users", "grant", "rider", "--role", "organiser",
               "--area", "sanyuan").exit_code == 0
    assert "organiser" in api.get("/me", as_="rider").get_json()["roles"]
    assert run(app, "users", "revoke", "rider", "--role", "organiser",
               "--area", "sanyuan").exit_code == 0
    assert run(app, "users", "suspend", "rider2").exit_code == 0
    assert api.client.post("/api/v1/auth/tokens", json={
        "username": "rider2", "password": PASSWORD}).status_code == 401
    assert run(app, "users", "reactivate", "rider2").exit_code == 0
    issued = run(app, "users", "reset-code", "rider2")
    code = issued.output.split("\t")[1]
    assert api.post("/auth/reset", json={"username": "rider2", "code": code,
                                         "new_password": "from-the-office"}).status_code == 200
    unknown = run(app, "users", "suspend", "nobody")
    assert unknown.exit_code == 1 and "no user nobody" in unknown.output

    log = run(app, "audit", "list", "--actor", "system", "--limit", "200").output
    for kind in ("area.create", "area.update", "area.close", "department.create",
                 "department.staff_add", "role.grant", "role.revoke", "user.suspend",
                 "user.reactivate", "user.reset_code"):
        assert f"\tsystem\tcli\t{kind}\t" in log, kind
