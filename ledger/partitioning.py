"""The journal's postings partitioned by month (PostgreSQL declarative partitioning).

``ledger_postings`` is the largest table (two or more rows per entry, 4M+ a day for a
province, docs/scale.md) and the one statements, ``balance_at`` and the year-end totals read
by account and time. Partitioned by ``created_at`` month, an old month is detached and archived
as one table, a month's index stays small, and a read by time touches only its months. Nothing
in the ledger changes: ``ledger_post`` and ``ledger_post_many`` insert into the parent and
PostgreSQL routes each row; no other table points at a posting, so no foreign key needs the
postings' primary key, which on a partitioned table must hold the partition key:
``(id, created_at)``. History stays append-only: the row triggers of
``ledger_append_only.v1.sql`` on the parent apply to every partition (PostgreSQL 13+).

``ledger_entries`` stays one table here: its idempotency key, ``pending_id`` and
``reverses_id`` are unique across all time, which PostgreSQL's partitioned unique indexes
cannot say without the partition key (docs/scale.md says what partitioning it would take).

Used by the partitioned-journal tests (``JINDOU_TEST_PARTITIONED_JOURNAL=1``) and, for a
production database, by a DBA following docs/scale.md; ``create_all`` and the migrations make
the plain table.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

TABLE = "ledger_postings"

# The columns, checks and indexes of ``models.Posting`` (the migration-drift test holds the
# plain table to the model; this holds the partitioned one to the same names).
PARENT = f"""
CREATE TABLE {TABLE} (
    id BIGSERIAL NOT NULL,
    entry_id BIGINT NOT NULL REFERENCES ledger_entries (id),
    account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
    unit VARCHAR(8) NOT NULL,
    amount BIGINT NOT NULL,
    posted_after BIGINT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_{TABLE} PRIMARY KEY (id, created_at),
    CONSTRAINT ck_{TABLE}_amount_non_zero CHECK (amount <> 0),
    CONSTRAINT ck_{TABLE}_unit CHECK (unit IN ('POINT', 'CNY'))
) PARTITION BY RANGE (created_at)
"""
INDEXES = (
    f"CREATE INDEX ix_{TABLE}_entry_id ON {TABLE} (entry_id)",
    f"CREATE INDEX ix_{TABLE}_account_id_id ON {TABLE} (account_id, id)",
    f"CREATE INDEX ix_{TABLE}_account_id_created_at ON {TABLE} (account_id, created_at)",
)


def month_name(month: date) -> str:
    return f"{TABLE}_{month:%Y_%m}"


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s, both included."""
    found, month = [], date(first.year, first.month, 1)
    while month <= last:
        found.append(month)
        month = next_month(month)
    return found


def add_month(connection: Connection, month: date) -> None:
    """The partition of ``month`` (UTC month bounds), if missing. Create next month's ahead
    of time (a job, or cron): a row that finds no month lands in the default partition."""
    connection.execute(text(
        f"CREATE TABLE IF NOT EXISTS {month_name(month)} PARTITION OF {TABLE} "
        f"FOR VALUES FROM ('{month:%Y-%m-%d} 00:00+00') "
        f"TO ('{next_month(month):%Y-%m-%d} 00:00+00')"))


def create_partitioned_postings(connection: Connection, first: date, last: date) -> None:
    """``ledger_postings`` as a table partitioned by month, with a partition per month from
    ``first`` to ``last`` and a default one for anything outside them. Run where
    ``create_all`` would create the plain table, before ``ddl.install`` (its triggers)."""
    connection.execute(text(PARENT))
    for statement in INDEXES:
        connection.execute(text(statement))
    for month in months(first, last):
        add_month(connection, month)
    connection.execute(text(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT"))


def partitions(connection: Connection) -> list[str]:
    """The partitions of ``ledger_postings`` (empty when it is a plain table)."""
    return list(connection.execute(text(
        "SELECT child.relname FROM pg_inherits "
        "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
        "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
        "WHERE parent.relname = :table ORDER BY child.relname"), {"table": TABLE}).scalars())
