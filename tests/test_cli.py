"""The ``jindou`` commands (CONTRACT section 3) through Flask's CLI runner."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from tests.web_support import ApiClient, ledger_snapshot


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def run(cli, *args, input=None):
    return cli.invoke(args=list(args), input=input, catch_exceptions=False)


@contextmanager
def committed_connection(app):
    """The app session's connection, committed at the end (a test's SAVEPOINT when the test
    runs inside a transaction)."""
    from web.extensions import db

    with app.app_context():
        try:
            yield db.session.connection()
            db.session.commit()
        finally:
            db.session.remove()


def sql(app, statement: str, **params):
    with committed_connection(app) as connection:
        rows = connection.execute(text(statement), params)
        return rows.all() if rows.returns_rows else None


def award_some(app, world):
    api = ApiClient(app)
    for volunteer, amount_points in (("rider", 30), ("rider2", 12), ("rider", 8)):
        response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer",
                            json={"volunteer_id": world.ids[volunteer],
                                  "amount_points": amount_points, "reason": "上报井盖缺失"})
        assert response.status_code == 201, response.get_json()


# --- users create -------------------------------------------------------------------------------

def test_users_create_reads_the_password_from_stdin(app, cli):
    result = run(cli, "users", "create", "lihua", "--role", "volunteer", "--area", "root",
                 "--password-stdin", input="a-long-secret-1\n")
    assert result.exit_code == 0, result.output
    assert "lihua" in result.output
    assert "volunteer on root" in result.output
    token = app.test_client().post("/api/v1/auth/tokens",
                                   json={"username": "lihua", "password": "a-long-secret-1"})
    assert token.status_code == 201, token.get_json()
    me = app.test_client().get("/api/v1/me",
                               headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert me.get_json()["roles"] == ["volunteer"]
    assert me.get_json()["area"] == "root"
    assert me.get_json()["wallet"] == {"posted_points": 0, "pending_points": 0,
                                       "available_points": 0}


def test_users_create_adds_a_role_to_an_existing_user(app, cli, world):
    result = run(cli, "users", "create", "rider", "--role", "reviewer", "--area", "sanyuan",
                 "--password-stdin", input="ignored-password\n")
    assert result.exit_code == 0, result.output
    roles = ApiClient(app).get("/me", as_="rider").get_json()["roles"]
    assert sorted(roles) == ["reviewer", "volunteer"]


@pytest.mark.parametrize("args, stdin, message", [
    (["--role", "volunteer", "--area", "atlantis"], "a-long-secret-1\n", "atlantis"),
    (["--role", "volunteer", "--area", "root"], "short\n", "password"),
])
def test_users_create_refuses_with_a_message(app, cli, args, stdin, message):
    result = cli.invoke(args=["users", "create", "lihua", *args, "--password-stdin"],
                        input=stdin)
    assert result.exit_code == 1
    assert message in result.output
    from volunteers import users
    from web.extensions import db

    with app.app_context():
        assert users.find_user(db.session, "lihua") is None
        db.session.remove()


def test_users_create_refuses_an_unknown_role(cli):
    result = cli.invoke(args=["users", "create", "lihua", "--role", "king", "--area", "root",
                              "--password-stdin"], input="a-long-secret-1\n")
    assert result.exit_code == 2
    assert "king" in result.output


# --- demo load ----------------------------------------------------------------------------------

def test_demo_load_twice_adds_nothing_the_second_time(app, cli):
    first = run(cli, "demo", "load")
    assert first.exit_code == 0, first.output
    loaded = ledger_snapshot(app)
    assert loaded["entries"] > 50
    second = run(cli, "demo", "load")
    assert second.exit_code == 0, second.output
    assert ledger_snapshot(app) == loaded
    assert "already" in second.output
    for output in (first.output, second.output):
        assert "jindou2026" in output
        for name in ("admin", "admin2", "xindu_admin", "dafeng_reviewer", "wuhua_admin",
                     "cuihu_organiser", "rider01"):
            assert re.search(rf"^\s+{name}\b", output, re.MULTILINE), name
        # Which till account runs which shop, one line each.
        assert re.search(r"^\s+merchant07\s+merchant\s+大丰老茶馆 \(fengxingxia, sanyuan\)$",
                         output, re.MULTILINE)
        assert len(re.findall(r"^\s+merchant\d\d\s", output, re.MULTILINE)) == 12
    token = app.test_client().post("/api/v1/auth/tokens",
                                   json={"username": "rider01", "password": "jindou2026"})
    assert token.status_code == 201
    verified = run(cli, "ledger", "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.output.strip() == f"ok: {loaded['entries']} entries verified"
    # Every demo payee has payment details: a payout run waits for nobody.
    prepared = run(cli, "payouts", "prepare", "--programme", "fengxingxia", "--as", "admin")
    assert prepared.exit_code == 0, prepared.output
    assert "lines" in prepared.output and "waiting" not in prepared.output


# --- ledger verify --------------------------------------------------------------------------------

def test_ledger_verify_on_an_empty_ledger(cli):
    result = run(cli, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: 0 entries verified"


def test_ledger_verify_counts_every_entry(app, cli, world):
    award_some(app, world)
    result = run(cli, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"ok: {ledger_snapshot(app)['entries']} entries verified"
    assert ledger_snapshot(app)["entries"] == 4


def tamper(app, table: str, assignment: str, entry_id: int) -> None:
    """Rewrite history the way only someone with the database's keys could: with the
    append-only guard switched off for the one statement, then back on (on PostgreSQL the
    database is shared by later tests)."""
    with committed_connection(app) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
            connection.execute(text(f"UPDATE {table} SET {assignment} WHERE {_where(table)}"),
                               {"entry_id": entry_id})
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        else:
            connection.execute(text(f"DROP TRIGGER {table}_no_update"))
            connection.execute(text(f"UPDATE {table} SET {assignment} WHERE {_where(table)}"),
                               {"entry_id": entry_id})


def _where(table: str) -> str:
    if table == "ledger_entries":
        return "id = :entry_id"
    return "entry_id = :entry_id AND amount > 0"


def middle_award_entry(app) -> int:
    rows = sql(app, "SELECT id FROM ledger_entries WHERE kind = 'manual_award' ORDER BY id")
    assert len(rows) == 3
    return rows[1][0]


def test_ledger_verify_names_an_entry_whose_posting_was_changed(app, cli, world):
    award_some(app, world)
    run(cli, "ledger", "verify")
    entry_id = middle_award_entry(app)
    tamper(app, "ledger_postings", "amount = amount + 100", entry_id)
    result = cli.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1, result.output
    assert f"entry {entry_id}" in result.output
    assert "ok:" not in result.output


def test_ledger_verify_names_an_entry_whose_memo_was_changed(app, cli, world):
    award_some(app, world)
    run(cli, "ledger", "verify")
    entry_id = middle_award_entry(app)
    tamper(app, "ledger_entries", "memo = 'rewritten'", entry_id)
    result = cli.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1, result.output
    assert f"entry {entry_id}" in result.output


def test_tampering_needs_the_guard_switched_off(app, world):
    from sqlalchemy.exc import DBAPIError

    award_some(app, world)
    entry_id = middle_award_entry(app)
    with pytest.raises(DBAPIError, match="append-only"):
        sql(app, "UPDATE ledger_postings SET amount = amount + 100 WHERE entry_id = :entry_id",
            entry_id=entry_id)


# --- ledger export --------------------------------------------------------------------------------

def test_ledger_export_csv_writes_the_journal_to_a_file(app, cli, world, tmp_path):
    award_some(app, world)
    output = tmp_path / "journal.csv"
    result = run(cli, "ledger", "export", "--format", "csv", "--output", str(output))
    assert result.exit_code == 0, result.output
    with output.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    # The last line is the signed head, as a comment (issue 14).
    assert rows[-1]["entry_id"].startswith("# signed head: {")
    rows = rows[:-1]
    assert list(rows[0]) == ["entry_id", "created_at", "kind", "status", "reference", "memo",
                             "account", "unit", "amount", "posted_after", "hash", "chain_seq",
                             "chain_link"]
    assert all(row["chain_seq"] and len(row["chain_link"]) == 64 for row in rows)
    entries = defaultdict(list)
    for row in rows:
        entries[int(row["entry_id"])].append(row)
    assert len(entries) == ledger_snapshot(app)["entries"] == 4
    for postings in entries.values():
        for unit in {row["unit"] for row in postings}:
            assert sum(int(row["amount"]) for row in postings if row["unit"] == unit) == 0
    wallet = world.wallet("rider")
    assert sorted(int(row["amount"]) for row in rows if row["account"] == wallet) == [8, 30]
    assert {row["kind"] for row in rows} == {"funding", "manual_award"}
    assert any(row["memo"] == "上报井盖缺失" for row in rows)


def test_ledger_export_writes_to_stdout_without_output(app, cli, world):
    result = run(cli, "ledger", "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("entry_id,created_at,kind")
    assert len(lines) == 1 + 4 + 1  # the world's funding: four postings; the signed head
    assert lines[-1].startswith("# signed head: {")


def test_ledger_export_refuses_an_unknown_format(cli):
    result = cli.invoke(args=["ledger", "export", "--format", "xlsx"])
    assert result.exit_code == 2
    assert "xlsx" in result.output
