"""Database objects the ORM does not describe: the append-only guards on history (both
databases) and PostgreSQL's one-round-trip writers (``ledger_post``, ``ledger_post_many``,
``ledger_pay_out``) and sealer (``ledger_seal``).

Their SQL lives in ``ledger/sql/``, one file per version, never edited once released
(``ledger.sql_files``). Each migration installs the files of the versions it introduces;
``install`` gives a database made by ``create_all`` (tests, benches) the newest of each, which
is what a database that ran every migration has (the migration-drift test holds the two to it).
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

from . import sql_files

APPEND_ONLY_TABLES = ("ledger_entries", "ledger_postings", "ledger_chain")

# The newest version of each file, in an order that installs: the trigger function before its
# triggers, ledger_latest_standing_credit before the writers that call it.
POSTGRES_CURRENT = (
    ("ledger_refuse_change", 1),
    ("ledger_append_only", 1),
    ("ledger_seal", 1),
    ("ledger_latest_standing_credit", 1),
    ("ledger_post", 3),
    ("ledger_post_many", 2),
    ("ledger_pay_out", 4),
)
SQLITE_CURRENT = (("ledger_append_only_sqlite", 1),)


def has_stored_functions(bind) -> bool:
    """Whether this database keeps the money's rules in its stored functions (PostgreSQL)
    rather than in the ORM path every other database takes (SQLite). The one place that
    choice is made: ``install`` installs the functions by it, and each rule that exists twice
    picks its half by it (``service._execute``, ``_post_plans`` and ``post_each``,
    ``chain.seal``, ``payout.pay_out``, ``merchants.vouchers.redeem_voucher``)."""
    return bind.dialect.name == "postgresql"


def install(connection: Connection) -> None:
    """The newest version of every guard and writer: what a database made by ``create_all``
    needs. On SQLite only the append-only triggers (it writes through the ORM)."""
    if has_stored_functions(connection):
        current = POSTGRES_CURRENT
    elif connection.dialect.name == "sqlite":
        current = SQLITE_CURRENT
    else:
        return
    for name, version in current:
        sql_files.execute(connection, name, version)


def uninstall_v1(connection: Connection) -> None:
    """Drops the append-only guards (and on PostgreSQL the writers of version 1's names), as
    migration 0001's downgrade does; tests that tamper with history on purpose use it."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP FUNCTION IF EXISTS ledger_post_many(jsonb)"))
        connection.execute(text("DROP FUNCTION IF EXISTS ledger_post(jsonb)"))
        for table in APPEND_ONLY_TABLES:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
        connection.execute(text("DROP FUNCTION IF EXISTS ledger_refuse_change()"))
    elif connection.dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
