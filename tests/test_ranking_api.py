"""The ranking over the API and the CLI, on SQLite and PostgreSQL: preview, publish with
bonuses, the published snapshot, and every bad request answered with the CONTRACT body and
nothing changed."""

import csv
import io

import pytest
from sqlalchemy import text

from honours.ranking import china_year_now
from tests.ranking_support import configure_small_world
from tests.web_support import ledger_snapshot

YEAR = china_year_now()


def award(api, world, name, amount_points, as_="dafeng_reviewer"):
    response = api.post("/programmes/fengxingxia/awards", as_=as_,
                        json={"volunteer_id": world.ids[name], "amount_points": amount_points,
                              "reason": "上报井盖缺失"})
    assert response.status_code == 201, response.get_json()


def credit_bonuses(app) -> int:
    from honours import bonuses
    from web.extensions import db

    with app.app_context():
        try:
            return bonuses.credit_all(db.session)
        finally:
            db.session.remove()


@pytest.fixture
def earned(app, api, world):
    configure_small_world(app)
    award(api, world, "rider", 60)
    award(api, world, "rider2", 40)
    return world


def test_preview_ranks_and_changes_nothing(app, api, earned):
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/rankings", as_="xindu_admin",
                        json={"year": YEAR, "publish": False})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "preview"
    assert [(r["volunteer_id"], r["points"], r["tier"]) for r in body["rows"]] == [
        (earned.ids["rider"], 60, "daxia"), (earned.ids["rider2"], 40, None)]
    assert body["tiers"][0] == {"key": "daxia", "name": "大侠", "count": 1, "min_points": 60,
                                "max_points": 60, "bonus_fen": 50_000,
                                "bonus_total_fen": 50_000}
    assert [tier["count"] for tier in body["tiers"][1:]] == [0, 0]
    assert body["ledger_position"]["entry_id"] > 0
    assert ledger_snapshot(app) == before


def test_publish_pays_bonuses_once_and_a_second_publish_is_a_conflict(app, api, earned):
    response = api.post("/programmes/fengxingxia/rankings", as_="root_admin",
                        json={"year": YEAR, "publish": True})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "published"
    assert response.get_json()["bonus_total_fen"] == 50_000
    assert response.get_json()["crediting"]["status"] == "being_paid"
    reserved = api.get("/accounts/programme:fengxingxia:bonuses:" + str(YEAR), as_="root_admin")
    assert reserved.get_json()["posted"] == 50_000
    credit_bonuses(app)  # the worker's job
    cash = api.get(f"/accounts/volunteer:{earned.ids['rider']}:cash", as_="root_admin")
    assert cash.get_json()["posted"] == 50_000
    published = api.get(f"/programmes/fengxingxia/rankings/{YEAR}", as_="xindu_admin")
    assert published.status_code == 200
    assert published.get_json()["crediting"] | {"started_at": None, "finished_at": None} == {
        "status": "paid", "reserved_fen": 50_000, "credited_fen": 50_000, "bonus_count": 1,
        "credited_count": 1, "credited_through": 1, "last_position": 1, "started_at": None,
        "finished_at": None}
    assert [r["points"] for r in published.get_json()["rows"]] == [60, 40]
    before = ledger_snapshot(app)
    again = api.post("/programmes/fengxingxia/rankings", as_="second_admin",
                     json={"year": YEAR, "publish": True})
    assert again.status_code == 409
    assert again.get_json()["code"] == "conflict"
    assert ledger_snapshot(app) == before


def test_bonuses_the_fund_cannot_cover_post_nothing_and_name_the_missing_fen(app, api, earned):
    config = api.get("/programmes/fengxingxia/ranking-config", as_="root_admin").get_json()
    config["tiers"][0]["bonus_fen"] = 2_000_000
    saved = api.request("PUT", "/programmes/fengxingxia/ranking-config", as_="root_admin",
                        json=config)
    assert saved.status_code == 200, saved.get_json()
    before = ledger_snapshot(app)
    response = api.post("/programmes/fengxingxia/rankings", as_="root_admin",
                        json={"year": YEAR, "publish": True})
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "insufficient_funds"
    assert body["missing_fen"] == 2_000_000 - 1_000_000
    assert ledger_snapshot(app) == before
    assert api.get(f"/programmes/fengxingxia/rankings/{YEAR}",
                   as_="root_admin").status_code == 404


@pytest.mark.parametrize("who, path, payload, status, code", [
    ("root_admin", "/programmes/fengxingxia/rankings", {"year": YEAR + 1}, 422,
     "validation_error"),
    ("root_admin", "/programmes/fengxingxia/rankings", {"year": YEAR - 5}, 422,
     "validation_error"),
    ("root_admin", "/programmes/fengxingxia/rankings", {"year": "2026"}, 422,
     "validation_error"),
    ("root_admin", "/programmes/nowhere/rankings", {"year": YEAR}, 404, "not_found"),
    ("dafeng_reviewer", "/programmes/fengxingxia/rankings", {"year": YEAR, "publish": True},
     403, "forbidden"),
    ("wuhua_admin", "/programmes/fengxingxia/rankings", {"year": YEAR, "publish": True}, 403,
     "forbidden"),
    (None, "/programmes/fengxingxia/rankings", {"year": YEAR, "publish": True}, 401,
     "unauthorized"),
])
def test_bad_ranking_requests_change_nothing(app, api, earned, who, path, payload, status, code):
    before = ledger_snapshot(app)
    response = api.post(path, as_=who, json=payload | {"publish": True})
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] == code
    assert set(response.get_json()) <= {"code", "message", "errors"}
    assert ledger_snapshot(app) == before


def test_shares_over_a_hundred_percent_are_refused(app, api, world):
    config = api.get("/programmes/fengxingxia/ranking-config", as_="root_admin").get_json()
    config["tiers"][2]["share_bp"] = 9_000
    response = api.request("PUT", "/programmes/fengxingxia/ranking-config", as_="root_admin",
                           json=config)
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"
    assert "tiers" in response.get_json()["errors"]


def test_cli_previews_publishes_checks_and_exports(app, api, earned, tmp_path):
    cli = app.test_cli_runner()
    preview = cli.invoke(args=["ranking", "run", "--programme", "fengxingxia",
                               "--year", str(YEAR)])
    assert preview.exit_code == 0, preview.output
    assert "大侠 (daxia): 1 volunteers, 60-60 points" in preview.output
    assert "preview only" in preview.output
    published = cli.invoke(args=["ranking", "run", "--programme", "fengxingxia",
                                 "--year", str(YEAR), "--publish"])
    assert published.exit_code == 0, published.output
    assert "published: snapshot" in published.output
    again = cli.invoke(args=["ranking", "run", "--programme", "fengxingxia",
                             "--year", str(YEAR), "--publish"])
    assert again.exit_code == 1 and "conflict" in again.output
    checked = cli.invoke(args=["ranking", "check", "--programme", "fengxingxia",
                               "--year", str(YEAR)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("ok:") or "ok:" in checked.output
    output = tmp_path / "ranking.csv"
    exported = cli.invoke(args=["ranking", "export", "--programme", "fengxingxia",
                                "--year", str(YEAR), "--output", str(output)])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Position", "Rank", "Volunteer id"]
    assert [row[4] for row in rows[1:]] == ["60", "40"]
    assert rows[1][6] == "大侠" and rows[1][7] == "500.00"
    from web.extensions import db

    with app.app_context():
        db.session.execute(text("UPDATE ranking_rows SET points = 61 WHERE position = 1"))
        db.session.commit()
        db.session.remove()
    tampered = cli.invoke(args=["ranking", "check", "--programme", "fengxingxia",
                                "--year", str(YEAR)])
    assert tampered.exit_code == 1
    assert f"volunteer {earned.ids['rider']}" in tampered.output


def test_stars_are_published_once_and_read_by_the_programmes_volunteers(app, api, earned):
    response = api.post("/programmes/fengxingxia/stars", as_="root_admin", json={"year": YEAR})
    assert response.status_code == 201, response.get_json()
    volunteers = [s for s in response.get_json() if s["subject_type"] == "volunteer"]
    assert [(s["subject_id"], s["score"], s["place"]) for s in volunteers] == [
        (earned.ids["rider"], 60, 1), (earned.ids["rider2"], 40, 2)]
    again = api.post("/programmes/fengxingxia/stars", as_="root_admin", json={"year": YEAR})
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    read = api.get(f"/programmes/fengxingxia/stars/{YEAR}", as_="rider2")
    assert read.status_code == 200 and len(read.get_json()) == 2
    outsider = api.get(f"/programmes/fengxingxia/stars/{YEAR}", as_="kunming_volunteer")
    assert outsider.status_code == 403
