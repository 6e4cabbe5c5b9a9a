"""The smaller findings of issue 19 (part 7), each with its test: a volunteer's journal shows
no other account's running balance; no export lets a cell run as a formula; self-registration
takes neighbourhoods only, never the root."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

import ledger
from ledger import export
from ledger.spreadsheet import safe_cell, safe_row
from tests.activities_support import build_scene
from tests.test_activities_pages import client_as
from tests.test_pages import post_form
from tests.web_support import PASSWORD
from volunteers import users
from web import exports

HOSTILE = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


# --- the journal -----------------------------------------------------------------------------

def award(api, world, points=20):
    response = api.post("/programmes/fengxingxia/awards", as_="root_admin", json={
        "volunteer_id": world.ids["rider"], "amount_points": points, "reason": "井盖"})
    assert response.status_code == 201, response.get_json()


def test_a_volunteers_journal_hides_the_other_sides_balances(api, world):
    award(api, world)
    [entry] = api.get("/ledger/entries", as_="rider").get_json()["items"][:1]
    by_account = {p["account"]: p for p in entry["postings"]}
    assert by_account[world.wallet("rider")]["posted_after"] == 20
    assert by_account[world.budget]["posted_after"] is None
    assert by_account[world.budget]["amount"] == -20  # the amount stays: it is the entry's


def test_a_root_admin_still_sees_every_balance(api, world):
    award(api, world)
    [entry] = api.get("/ledger/entries", as_="root_admin").get_json()["items"][:1]
    assert all(p["posted_after"] is not None for p in entry["postings"])


def test_an_area_admin_sees_only_the_balances_of_the_account_asked_for(api, world):
    award(api, world)
    items = api.get(f"/ledger/entries?account={world.wallet('rider')}",
                    as_="xindu_admin").get_json()["items"]
    postings = [p for entry in items for p in entry["postings"]]
    assert {p["account"] for p in postings if p["posted_after"] is not None} == {
        world.wallet("rider")}


# --- exports ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_is_written_as_text(text):
    assert safe_cell(text) == "'" + text
    assert safe_row([text, 5, -5, None, "井盖"]) == ["'" + text, 5, -5, None, "井盖"]


def test_the_dashboard_exports_write_formulas_as_text():
    from honours.dashboard import Table

    table = Table("t", "t", [("name", "=名字")])
    table.rows.extend([[text] for text in HOSTILE])
    rows = list(csv.reader(io.StringIO(exports.render(table, "csv").decode("utf-8-sig"))))
    assert [row[0] for row in rows] == ["'=名字"] + ["'" + text for text in HOSTILE]
    sheet = load_workbook(io.BytesIO(exports.render(table, "xlsx"))).active
    values = [row[0].value for row in sheet.iter_rows()]
    assert values == ["'=名字"] + ["'" + text for text in HOSTILE]
    assert all(row[0].data_type == "s" for row in sheet.iter_rows())  # text, not formulas


def test_the_party_duty_csv_escapes_a_display_name(app, world):
    from web.extensions import db

    build_scene(app, world)
    with app.app_context():
        rider = users.get_user(db.session, world.ids["rider"])
        rider.display_name = HOSTILE[0]
        db.session.commit()
        db.session.remove()
    organiser = client_as(app, "sanyuan_organiser")
    post_form(organiser, "/party-duty", "/party-duty/status",
              {"username": "rider", "party_status": "in_service"})
    body = organiser.get("/party-duty?area=sanyuan&format=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    [row] = [row for row in rows if row and row[0] == "rider"]
    assert row[1] == "'" + HOSTILE[0]


def test_the_ledger_csv_export_escapes_a_memo(session, world):
    from ledger import Posting

    ledger.post(session, idempotency_key="formula", kind="manual_award", memo="=1+1",
                postings=[Posting(world.budget, -1, "POINT"),
                          Posting(world.wallet("rider"), 1, "POINT")])
    stream = io.StringIO()
    export.write(session, "csv", stream)
    text = stream.getvalue()
    assert ",'=1+1," in text and ",=1+1," not in text


# --- self-registration ---------------------------------------------------------------------

@pytest.mark.parametrize("area", ["root", "xindu", "dafeng"])
def test_self_registration_refuses_the_root_and_wide_areas(api, world, area):
    response = api.post("/auth/register", json={
        "username": "newcomer", "password": PASSWORD, "display_name": "新人", "area": area})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "validation_error"
    assert "area" in response.get_json()["errors"]


def test_self_registration_takes_a_community(api, world):
    response = api.post("/auth/register", json={
        "username": "newcomer", "password": PASSWORD, "display_name": "新人", "area": "sanyuan"})
    assert response.status_code == 201, response.get_json()
