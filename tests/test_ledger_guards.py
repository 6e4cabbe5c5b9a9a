"""History guards on every path and least privilege, on PostgreSQL (issue 14): TRUNCATE is
refused on every history table, ranking snapshots and their rows cannot change once their
transaction committed, accounts' code, unit, kind and no_overdraft are fixed; and the app
role of ``jindou db roles`` can post and seal but can neither UPDATE, DELETE, TRUNCATE, ALTER
TABLE nor DISABLE TRIGGER on history."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import ledger
from ledger import ddl
from tests import factories

pytestmark = [pytest.mark.postgres_only("the guards and roles are PostgreSQL's"),
              pytest.mark.commits]


def committed_history(session) -> None:
    """One sealed entry, a signed head and a published ranking snapshot with one row."""
    from volunteers import areas, programmes, users

    wallet = factories.wallet(session, 1, points=30)
    factories.move(session, "world:points", wallet, 12)  # two leaves: one inner node
    session.commit()
    ledger.seal_all(session)
    root = areas.ensure_root(session)
    admin = users.create_user(session, "guard_admin", "a-long-secret-1", role="admin",
                              area_code=root.code)
    programme = programmes.create_programme(session, admin, "guarded", "守护", root.code,
                                            points_per_yuan=1)
    session.flush()
    session.execute(text(
        "INSERT INTO ranking_snapshots (id, programme_id, year, config, ledger_entry_id, "
        "chain_seq, chain_hash, eligible_count, ranked_count, bonus_total_fen, "
        "bonus_entry_count, published_at, published_by_id) VALUES (7, :programme, 2026, "
        "'{}', 1, 1, 'abc', 1, 1, 0, 0, now(), :admin)"),
        {"programme": programme.id, "admin": admin.id})
    # Filled in by the transaction that created it: allowed.
    session.execute(text("UPDATE ranking_snapshots SET chain_hash = 'def' WHERE id = 7"))
    session.execute(text(
        "INSERT INTO ranking_rows (snapshot_id, position, rank, volunteer_id, points, "
        "reached_at, tier, bonus_fen) VALUES (7, 1, 1, :admin, 30, now(), NULL, 0)"),
        {"admin": admin.id})
    session.commit()
    assert wallet


def refused(connection, statement: str) -> str:
    savepoint = connection.begin_nested()
    try:
        connection.execute(text(statement))
    except DBAPIError as error:
        savepoint.rollback()
        return str(error.orig)
    savepoint.rollback()
    raise AssertionError(f"not refused: {statement}")


def test_truncate_and_changes_of_history_are_refused_even_for_the_owner(engine):
    with Session(engine) as session:
        committed_history(session)
    with engine.connect() as connection, connection.begin():
        for table, _how, _argument in ddl.HISTORY_TABLES:
            assert "TRUNCATE on " + table in refused(connection, f"TRUNCATE {table} CASCADE")
        for statement in ("UPDATE ranking_snapshots SET chain_hash = 'forged'",
                          "DELETE FROM ranking_snapshots",
                          "UPDATE ranking_rows SET points = 3000",
                          "DELETE FROM ranking_rows",
                          "UPDATE ledger_tree_nodes SET hash = '\\x00'",
                          "DELETE FROM ledger_chain"):
            assert "append-only" in refused(connection, statement)
        for assignment in ("no_overdraft = false", "kind = 'asset'", "unit = 'CNY'",
                           "code = 'volunteer:2:wallet'"):
            assert "fixed at opening" in refused(
                connection, f"UPDATE ledger_accounts SET {assignment} "
                            "WHERE code = 'volunteer:1:wallet'")
        connection.execute(text("UPDATE ledger_accounts SET closed = true "
                                "WHERE code = 'volunteer:1:wallet'"))  # still allowed


@pytest.fixture
def app_role(engine, database_url):
    """The roles of ``jindou db roles`` on this test's database; the app role's URL."""
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    owner, app = f"jindou_owner_{suffix}", f"jindou_app_{suffix}"
    database = make_url(database_url).database
    with engine.begin() as connection:
        for statement in ddl.roles_sql(ledger.Base.metadata.tables, owner=owner, app=app,
                                       database=database):
            connection.execute(text(statement))
    yield make_url(database_url).set(username=app).render_as_string(hide_password=False)
    with engine.begin() as connection:
        # Give the schema back to the test server's superuser, then drop the roles.
        user = connection.execute(text("SELECT current_user")).scalar()
        connection.execute(text(f'REASSIGN OWNED BY "{owner}" TO "{user}"'))
        for role in (app, owner):
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))


def test_the_app_role_posts_and_seals_but_cannot_rewrite_history(engine, app_role):
    with Session(engine) as session:
        committed_history(session)
    app_engine = create_engine(app_role)
    try:
        with Session(app_engine) as session:  # the app's own work goes through
            factories.move(session, "world:points", "volunteer:1:wallet", 5)
            session.commit()
            assert ledger.seal_all(session) == 1
        with app_engine.connect() as connection, connection.begin():
            assert connection.execute(text("SELECT current_user")).scalar().startswith(
                "jindou_app_")
            for table in ("ledger_entries", "ledger_postings", "ledger_chain",
                          "ledger_tree_nodes", "ranking_snapshots"):
                for statement in (f"UPDATE {table} SET {_a_column(table)}",
                                  f"DELETE FROM {table}",
                                  f"TRUNCATE {table} CASCADE",
                                  f"ALTER TABLE {table} DISABLE TRIGGER USER",
                                  f"ALTER TABLE {table} ADD COLUMN forged text"):
                    message = refused(connection, statement)
                    assert ("permission denied" in message or "must be owner" in message
                            or "append-only" in message), (statement, message)
    finally:
        app_engine.dispose()


def _a_column(table: str) -> str:
    return {"ledger_entries": "memo = 'x'", "ledger_postings": "amount = amount * 10",
            "ledger_chain": "hash = 'x'", "ledger_tree_nodes": "hash = '\\x00'",
            "ranking_snapshots": "chain_hash = 'x'"}[table]
