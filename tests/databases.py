"""Real databases for the tests, built once per test run (per xdist worker) and backend:

- ``empty``: the schema only. A test runs on it inside a transaction that is rolled back.
- ``world``: the schema plus the shared world of ``tests.web_support.build_world``, built once.
  A test that asks for ``world`` runs on it, inside a transaction that is rolled back.
- ``scratch``: for tests marked ``commits`` (threads racing, a browser against a served app,
  sealing after a real commit): they commit for real, so they get a database of their own,
  emptied before each test (a fresh copy of the SQLite file, a TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import ledger
from ledger import ddl, partitioning
from merchants import ddl as merchants_ddl
from volunteers import ddl as volunteers_ddl

POSTGRES_SERVER_URLS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "postgresql+psycopg://root@127.0.0.1:5432/postgres",
)
POSTGRES_CONNECT_TIMEOUT_SECONDS = 3
BASES = ("empty", "world", "scratch")


def import_all_models() -> None:
    """Every package's tables join the shared metadata."""
    import activities  # noqa: F401
    import honours  # noqa: F401
    import jobs  # noqa: F401
    import merchants  # noqa: F401
    import payments  # noqa: F401
    import payouts  # noqa: F401
    import reports  # noqa: F401
    import volunteers  # noqa: F401


def postgres_server_url() -> str | None:
    """The first PostgreSQL server that answers: JINDOU_TEST_POSTGRES_URL, else the machine's."""
    configured = os.environ.get("JINDOU_TEST_POSTGRES_URL")
    for url in [configured] if configured else POSTGRES_SERVER_URLS:
        engine = create_engine(
            url, connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
        )
        try:
            with engine.connect():
                return url
        except Exception:
            continue
        finally:
            engine.dispose()
    return None


def postgres_or_skip() -> str:
    """The PostgreSQL server's URL; a skip when none answers, or a failure when
    JINDOU_REQUIRE_POSTGRES=1 (as CI sets)."""
    server_url = postgres_server_url()
    if server_url is None:
        message = "PostgreSQL does not answer on 127.0.0.1:5432"
        if os.environ.get("JINDOU_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " and JINDOU_REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip(message)
    return server_url


# Set by tests/test_ledger_partitioned.py for the test run it starts: ledger_postings is then
# made partitioned by month (ledger.partitioning) on PostgreSQL.
PARTITIONED_JOURNAL = "JINDOU_TEST_PARTITIONED_JOURNAL"
# A year of months (the service tests' clock starts in March 2024); any other moment, today's
# included, lands in the default partition. Few partitions keep the TRUNCATE of each racing
# test and the database's drop cheap.
PARTITIONED_MONTHS = (date(2024, 1, 1), date(2024, 12, 1))


def create_schema(engine) -> None:
    import_all_models()
    tables = ledger.Base.metadata.sorted_tables
    partitioned = (engine.dialect.name == "postgresql"
                   and os.environ.get(PARTITIONED_JOURNAL) == "1")
    if partitioned:
        tables = [table for table in tables if table.name != partitioning.TABLE]
    ledger.Base.metadata.create_all(engine, tables=tables)
    if partitioned:
        with engine.begin() as connection:
            partitioning.create_partitioned_postings(connection, *PARTITIONED_MONTHS)
    with engine.begin() as connection:
        ddl.install(connection)
        merchants_ddl.install_v1(connection)
        volunteers_ddl.install(connection)


class TestDatabase:
    """One backend for a test run: the ``empty``, ``world`` and ``scratch`` databases."""

    __test__ = False

    def __init__(self, kind: str, workdir: Path):
        self.kind = kind
        self.workdir = workdir
        self.server_url = None
        self.urls: dict[str, str] = {}
        self.engines: dict = {}
        self.tables: list[str] = []

    def start(self) -> None:
        if self.kind == "sqlite":
            self._start_sqlite()
        else:
            self._start_postgres()
        for base in ("empty", "world"):
            self.engines[base] = self.engine(self.urls[base])

    def _start_sqlite(self) -> None:
        self.template = self.workdir / "template.sqlite3"
        engine = self.engine(f"sqlite:///{self.template}")
        create_schema(engine)
        engine.dispose()
        for base in ("empty", "world"):
            path = self.workdir / f"{base}.sqlite3"
            shutil.copyfile(self.template, path)
            self.urls[base] = f"sqlite:///{path}"

    def _start_postgres(self) -> None:
        self.server_url = postgres_or_skip()
        prefix = f"jindou_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        names = {base: f"{prefix}_{base}" for base in BASES}
        self._admin(f'CREATE DATABASE "{names["empty"]}"')
        self.urls = {base: self._url(name) for base, name in names.items()}
        engine = self.engine(self.urls["empty"])
        create_schema(engine)
        with engine.connect() as connection:
            self.tables = [
                row[0] for row in connection.execute(text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ))
            ]
        engine.dispose()
        for base in ("world", "scratch"):
            self._admin(f'CREATE DATABASE "{names[base]}" TEMPLATE "{names["empty"]}"')

    def stop(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        if self.kind == "postgresql":
            for url in self.urls.values():
                self._admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def fresh_url(self) -> str:
        """An empty database that a ``commits`` test may commit to."""
        if self.kind == "sqlite":
            path = self.workdir / f"test-{uuid.uuid4().hex[:12]}.sqlite3"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        engine = self.engine(self.urls["scratch"])
        with engine.begin() as connection:
            # History refuses TRUNCATE (ledger.ddl.HISTORY_TABLES, the audit log): a test reset
            # runs as a replica, where no ordinary trigger fires (only a superuser may, as the
            # test server's user is).
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(
                "TRUNCATE " + ", ".join(f'"{table}"' for table in self.tables)
                + " RESTART IDENTITY CASCADE"
            ))
        engine.dispose()
        return self.urls["scratch"]

    @staticmethod
    def engine(url: str, **options):
        if url.startswith("postgresql"):
            options.setdefault("pool_size", 20)
            options.setdefault("max_overflow", 10)
        engine = create_engine(url, **options)
        ledger.configure_engine(engine)
        return engine

    def _url(self, name: str) -> str:
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()
