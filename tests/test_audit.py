"""The audit log: every administrative change leaves one row with who, when, from where,
before and after; nobody can rewrite or remove a row (triggers on both databases); the API,
the page, its CSV and the CLI show an administrator the changes of their areas only."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.web_support import PASSWORD, csrf_token
from volunteers import audit, users

RATE = "/programmes/fengxingxia/settlement-rate"


def events(api, as_="xindu_admin", **query):
    response = api.get("/audit-events", as_=as_, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_rate_change_is_logged_with_who_where_before_and_after(api, world):
    for fen in (100, 120):
        assert api.put(RATE, as_="xindu_admin", json={"fen_per_point": fen},
                       environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    items = events(api, kind="settlement_rate")["items"]
    assert [(e["kind"], e["before"], e["after"]) for e in items] == [
        ("settlement_rate.set", {"fen_per_point": 100}, {"fen_per_point": 120}),
        ("settlement_rate.set", None, {"fen_per_point": 100}),
    ]
    assert {(e["actor"], e["address"], e["subject"]) for e in items} == {
        ("xindu_admin", "10.1.2.3", "programme:fengxingxia")}


def test_an_administrator_sees_only_the_changes_of_their_areas(api, world):
    assert api.put(RATE, as_="xindu_admin", json={"fen_per_point": 90}).status_code == 200
    assert events(api, as_="wuhua_admin", kind="settlement_rate.set")["items"] == []
    assert len(events(api, as_="root_admin", kind="settlement_rate.set")["items"]) == 1
    refused = api.get("/audit-events", as_="wuhua_admin", query_string={"area": "dafeng"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    volunteer = api.get("/audit-events", as_="rider")
    assert volunteer.status_code == 403


def test_the_log_pages_newest_first_and_filters_by_actor(app, api, world):
    for fen in range(101, 106):
        api.put(RATE, as_="xindu_admin", json={"fen_per_point": fen})
    first = events(api, kind="settlement_rate", limit=2)
    assert [e["after"]["fen_per_point"] for e in first["items"]] == [105, 104]
    second = events(api, kind="settlement_rate", limit=2, before=first["next_before"])
    assert [e["after"]["fen_per_point"] for e in second["items"]] == [103, 102]
    assert events(api, actor="root_admin", kind="settlement_rate")["items"] == []
    bad = api.get("/audit-events", as_="xindu_admin", query_string={"since": "yesterday"})
    assert bad.status_code == 422 and bad.get_json()["code"] == "validation_error"


def test_rows_cannot_be_updated_or_deleted(app, world, bind):
    from web.extensions import db

    with app.app_context():
        event = audit.record(db.session, None, "test.kind", "thing:1", {"a": 1}, {"a": 2},
                             "127.0.0.1")
        event_id = event.id
        db.session.commit()
        db.session.remove()
    for statement in ("UPDATE audit_events SET subject = 'forged' WHERE id = :id",
                      "DELETE FROM audit_events WHERE id = :id"):
        nested = bind.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            bind.execute(text(statement), {"id": event_id})
        nested.rollback()
    if bind.dialect.name == "postgresql":
        nested = bind.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            bind.execute(text("TRUNCATE audit_events"))
        nested.rollback()
    assert bind.execute(text("SELECT subject FROM audit_events WHERE id = :id"),
                        {"id": event_id}).scalar() == "thing:1"


def test_csv_export_quotes_cells_a_spreadsheet_would_run(app, world):
    from web.extensions import db

    with app.app_context():
        admin = users.find_user(db.session, "root_admin")
        audit.record(db.session, admin, "category.update", "=HYPERLINK(\"http://x\")",
                     None, {"name": "@SUM(A1)"}, "+1")
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf_token(login), "username": "root_admin",
                                "password": PASSWORD})
    page = client.get("/admin/audit?kind=category")
    assert page.status_code == 200 and "HYPERLINK" in page.get_data(as_text=True)
    response = client.get("/admin/audit.csv?kind=category.update")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["id", "time", "actor", "address", "kind"]
    assert rows[1][3] == "'+1" and rows[1][5] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][8].startswith('{"name": "@SUM')  # inside JSON: not at a cell's start


def test_the_cli_lists_the_log(app, api, world):
    api.put(RATE, as_="xindu_admin", json={"fen_per_point": 77})
    result = app.test_cli_runner().invoke(args=["audit", "list", "--kind", "settlement_rate"])
    assert result.exit_code == 0, result.output
    assert "settlement_rate.set\tprogramme:fengxingxia" in result.output
    assert '{"fen_per_point": 77}' in result.output
    bad = app.test_cli_runner().invoke(args=["audit", "list", "--area", "nowhere"])
    assert bad.exit_code == 1 and "no area nowhere" in bad.output
