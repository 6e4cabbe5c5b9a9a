"""The Alembic migrations build, on an empty database of each kind, exactly the schema the
models describe, with the ledger's append-only guards, and take it all down again; and on
PostgreSQL the same functions, triggers and indexes as the code installs (no drift)."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

import ledger
from ledger import Posting
from tests.databases import postgres_or_skip


@contextlib.contextmanager
def logging_restored():
    """Alembic's env.py calls logging.config.fileConfig, which disables every logger that
    exists and points a handler at this test's captured stderr; put logging back after."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    loggers = {name: (logger.disabled, logger.level, list(logger.handlers))
               for name, logger in logging.root.manager.loggerDict.items()
               if isinstance(logger, logging.Logger)}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, logger in logging.root.manager.loggerDict.items():
        if not isinstance(logger, logging.Logger):
            continue
        disabled, level, handlers = loggers.get(name, (False, logging.NOTSET, []))
        logger.disabled, logger.level = disabled, level
        logger.handlers[:] = handlers


@pytest.fixture
def quiet_logging():
    with logging_restored():
        yield


def _admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


@contextlib.contextmanager
def postgres_database(server_url: str, purpose: str):
    """A new empty PostgreSQL database's URL, dropped on the way out."""
    name = f"jindou_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path):
    """A brand-new empty database: a SQLite file, or a PostgreSQL database made for this test
    and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    with postgres_database(postgres_or_skip(), "migrate") as url:
        yield url


def migrated_app_on(url: str):
    """The app on ``url``, after every migration ran there."""
    import flask_migrate

    from web import create_app
    from web.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    return app


def close_app(app) -> None:
    from web.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def migrated_app(empty_database_url, tmp_path, monkeypatch, quiet_logging):
    monkeypatch.setenv("JINDOU_INSTANCE_PATH", str(tmp_path / "instance"))
    app = migrated_app_on(empty_database_url)
    yield app
    close_app(app)


def schema_differences(connection) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, ledger.Base.metadata)


def post_one_entry(session) -> int:
    ledger.open_account(session, "world:points", "POINT", "equity")
    ledger.open_account(session, "volunteer:1:wallet", "POINT", "liability", no_overdraft=True)
    result = ledger.post(session, idempotency_key="migration-test:1", kind="manual_award",
                         postings=[Posting("world:points", -5, "POINT"),
                                   Posting("volunteer:1:wallet", 5, "POINT")])
    session.commit()
    return result.entry_id


def test_migrations_build_exactly_the_models_schema(migrated_app):
    from web.extensions import db

    with migrated_app.app_context(), db.engine.connect() as connection:
        assert schema_differences(connection) == []
        tables = set(inspect(connection).get_table_names())
    assert {"alembic_version", "ledger_accounts", "ledger_entries", "ledger_postings",
            "users", "areas", "programmes", "awards"} <= tables
    assert tables - {"alembic_version"} == set(ledger.Base.metadata.tables)


def test_migrations_leave_the_database_at_head(migrated_app):
    from web.extensions import db

    with migrated_app.app_context(), db.engine.connect() as connection:
        versions = [row[0] for row in connection.execute(
            text("SELECT version_num FROM alembic_version"))]
    from alembic.script import ScriptDirectory

    with migrated_app.app_context():
        config = migrated_app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert versions == heads


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET memo = 'rewritten' WHERE id = :entry_id",
    "DELETE FROM ledger_entries WHERE id = :entry_id",
    "UPDATE ledger_postings SET amount = 500 WHERE entry_id = :entry_id",
    "DELETE FROM ledger_postings WHERE entry_id = :entry_id",
])
def test_migrated_triggers_refuse_rewriting_history(migrated_app, statement):
    from web.extensions import db

    with migrated_app.app_context():
        entry_id = post_one_entry(db.session)
        db.session.remove()
        with db.engine.connect() as connection:
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(statement), {"entry_id": entry_id})
            connection.rollback()
            memo, amount = connection.execute(text(
                "SELECT e.memo, p.amount FROM ledger_entries e JOIN ledger_postings p "
                "ON p.entry_id = e.id WHERE e.id = :entry_id AND p.amount > 0"),
                {"entry_id": entry_id}).one()
    assert (memo, amount) == (None, 5)


def test_a_migrated_database_serves_the_ledger(migrated_app):
    from web.extensions import db

    with migrated_app.app_context():
        entry_id = post_one_entry(db.session)
        assert ledger.balance(db.session, "volunteer:1:wallet").posted == 5
        ledger.seal_all(db.session)
        report = ledger.verify(db.session)
        assert report.ok, report.problems
        assert report.entries == 1
        assert ledger.get_entry(db.session, entry_id).kind == "manual_award"
        db.session.remove()


def test_downgrade_to_base_removes_everything(migrated_app):
    import flask_migrate

    from web.extensions import db

    with migrated_app.app_context():
        post_one_entry(db.session)
        db.session.remove()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert tables <= {"alembic_version"}
            if connection.dialect.name == "postgresql":
                functions = connection.execute(text(
                    "SELECT proname FROM pg_proc WHERE proname LIKE 'ledger_%'")).all()
                assert functions == []
            else:
                triggers = connection.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
                assert triggers == []
        # And up again: the migrations replay on the emptied database.
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert schema_differences(connection) == []


# --- Drift: the migrations and the code install the same database objects (PostgreSQL) ---

SCHEMA_OBJECTS = """
SELECT 'function ' || p.oid::regprocedure::text, pg_get_functiondef(p.oid)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public'
UNION ALL
SELECT 'trigger ' || t.tgname || ' on ' || c.relname, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND NOT t.tgisinternal
UNION ALL
SELECT 'index ' || indexname, indexdef
  FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'alembic_version'
"""


def schema_objects(connection) -> dict[str, str]:
    """Every function, trigger and index in schema public, by name, with its definition as
    PostgreSQL prints it back."""
    return dict(connection.execute(text(SCHEMA_OBJECTS)).all())


def drift(migrated: dict[str, str], created: dict[str, str]) -> list[str]:
    """The objects one side lacks or defines differently, by name."""
    return sorted(name for name in migrated.keys() | created.keys()
                  if migrated.get(name) != created.get(name))


@pytest.fixture(scope="module")
def migrated_and_created(tmp_path_factory):
    """Two PostgreSQL databases: one built by every migration, one the way the tests build
    theirs (``create_all`` and the ``ddl.install`` entry points)."""
    from tests.databases import create_schema

    server_url = postgres_or_skip()
    instance = tmp_path_factory.mktemp("drift") / "instance"
    with pytest.MonkeyPatch.context() as monkeypatch, logging_restored(), \
            postgres_database(server_url, "drift_migrated") as migrated_url, \
            postgres_database(server_url, "drift_created") as created_url:
        monkeypatch.setenv("JINDOU_INSTANCE_PATH", str(instance))
        close_app(migrated_app_on(migrated_url))
        engine = create_engine(created_url)
        create_schema(engine)
        engine.dispose()
        yield migrated_url, created_url


@pytest.mark.postgres
def test_migrations_install_exactly_the_functions_triggers_and_indexes_of_the_code(
        migrated_and_created):
    migrated_url, created_url = migrated_and_created
    migrated, created = (_objects_of(url) for url in (migrated_url, created_url))
    assert drift(migrated, created) == []
    assert {"function ledger_post(jsonb)", "function merchants_redeem_voucher(jsonb)",
            "trigger ledger_entries_append_only on ledger_entries",
            "index ix_ledger_postings_account_id_created_at"} <= migrated.keys()


@pytest.mark.postgres
def test_a_function_edited_by_hand_is_reported_by_name(migrated_and_created):
    migrated_url, created_url = migrated_and_created
    created = _objects_of(created_url)
    engine = create_engine(migrated_url)
    with engine.connect() as connection:
        definition = connection.execute(text(
            "SELECT pg_get_functiondef('ledger_seal(int, boolean)'::regprocedure)")).scalar()
        edited = definition.replace("RETURN cardinality(ids);", "RETURN cardinality(ids) + 1;")
        assert edited != definition
        connection.execute(text(edited))
        try:
            assert drift(schema_objects(connection), created) == [
                "function ledger_seal(integer,boolean)"]
        finally:
            connection.rollback()
        assert drift(schema_objects(connection), created) == []
    engine.dispose()


def _objects_of(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        objects = schema_objects(connection)
    engine.dispose()
    return objects
