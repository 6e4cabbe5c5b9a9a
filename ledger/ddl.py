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

# Every history table, in ONE place: (table, guard, argument) for ledger_guard_history
# (sql/ledger_guard_history.v1.sql). TRUNCATE is refused on each; 'append_only' refuses UPDATE
# and DELETE too; 'fixed_after_creation' refuses them after the creating transaction (the
# argument: 'id', or 'parent_table:column' for rows created with their parent); 'no_truncate'
# leaves row changes
# to the table's own rules. Other packages' tables are named as text (the ledger imports none
# of them); a table that does not exist is skipped. A new history table joins here, and a
# migration runs install_history_guards again (it is idempotent).
HISTORY_TABLES = (
    ("ledger_entries", "append_only", None),
    ("ledger_postings", "append_only", None),
    ("ledger_chain", "append_only", None),
    ("ledger_tree_nodes", "append_only", None),
    ("ledger_signed_heads", "append_only", None),
    ("ranking_snapshots", "fixed_after_creation", "id"),
    ("ranking_rows", "fixed_after_creation", "ranking_snapshots:snapshot_id"),
    ("settlements", "no_truncate", None),
    ("cash_out_requests", "no_truncate", None),
)
# Append-only tables whose guards another package installs: the audit log of administrative
# changes (volunteers/sql/audit_append_only.v1.sql refuses UPDATE, DELETE and TRUNCATE). The
# app role gets no UPDATE or DELETE on them either.
GUARDED_ELSEWHERE = ("audit_events",)

# The newest version of each file, in an order that installs: the trigger function before its
# triggers, ledger_latest_standing_credit before the writers that call it.
POSTGRES_CURRENT = (
    ("ledger_refuse_change", 1),
    ("ledger_append_only", 1),
    ("ledger_seal", 2),
    ("ledger_latest_standing_credit", 1),
    ("ledger_post", 3),
    ("ledger_post_many", 2),
    ("ledger_pay_out", 4),
    ("ledger_fixed_after_creation", 1),
    ("ledger_guard_history", 1),
    ("ledger_account_fixed", 1),
    ("ledger_account_fixed_trigger", 1),
)
SQLITE_CURRENT = (("ledger_append_only_sqlite", 1), ("ledger_history_sqlite", 1))


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
    if has_stored_functions(connection):
        install_history_guards(connection)


def install_history_guards(connection: Connection) -> None:
    """The guards of every table of ``HISTORY_TABLES`` that exists (PostgreSQL)."""
    for table, how, argument in HISTORY_TABLES:
        if connection.execute(text("SELECT to_regclass(:table)"), {"table": table}).scalar():
            connection.execute(text("SELECT ledger_guard_history(:table, :how, :argument)"),
                               {"table": table, "how": how, "argument": argument})


def uninstall_history_guards(connection: Connection) -> None:
    """What ``install_history_guards`` and the account guard made (migration 0018's
    downgrade)."""
    for table, _how, _argument in HISTORY_TABLES:
        if not connection.execute(text("SELECT to_regclass(:table)"), {"table": table}).scalar():
            continue
        for suffix in ("_no_truncate", "_created"):
            connection.execute(text(f'DROP TRIGGER IF EXISTS "{table}{suffix}" ON "{table}"'))
        if table not in APPEND_ONLY_TABLES:
            connection.execute(text(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"'))
    connection.execute(text("DROP TRIGGER IF EXISTS ledger_accounts_fixed ON ledger_accounts"))
    for function in ("ledger_guard_history(text, text, text)", "ledger_fixed_after_creation()",
                     "ledger_account_fixed()"):
        connection.execute(text(f"DROP FUNCTION IF EXISTS {function}"))


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


def roles_sql(tables, *, owner: str, app: str, database: str | None = None,
              create: bool = True) -> list[str]:
    """The SQL of least privilege (``jindou db roles``): ``owner`` owns the schema and runs
    the migrations; ``app``, which the application connects as, owns nothing. It may read
    every table and add rows to every one; UPDATE and DELETE only where rows may change
    (append-only history gets neither, settlements and cash-outs no DELETE); EXECUTE on the
    functions. Not being the owner, it can neither TRUNCATE, ALTER TABLE nor DISABLE TRIGGER.
    Run it again after each migration (new tables get their grants)."""
    guards = {table: how for table, how, _argument in HISTORY_TABLES}
    guards.update({table: "append_only" for table in GUARDED_ELSEWHERE})
    statements = []
    if create:
        statements += [
            f'CREATE ROLE "{owner}" LOGIN',
            f'CREATE ROLE "{app}" LOGIN NOINHERIT',
        ]
    if database:
        statements += [f'ALTER DATABASE "{database}" OWNER TO "{owner}"',
                       f'GRANT CONNECT ON DATABASE "{database}" TO "{app}"']
    statements += [
        f'ALTER SCHEMA public OWNER TO "{owner}"',
        'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
        f'GRANT USAGE ON SCHEMA public TO "{app}"',
    ]
    for table in sorted(tables):
        how = guards.get(table)
        if how == "append_only":
            rights = "SELECT, INSERT"
        elif how == "no_truncate":
            rights = "SELECT, INSERT, UPDATE"
        else:  # mutable, or fixed after its creating transaction (its trigger guards it)
            rights = "SELECT, INSERT, UPDATE, DELETE"
        statements += [f'ALTER TABLE "{table}" OWNER TO "{owner}"',
                       f'REVOKE ALL ON "{table}" FROM "{app}"',
                       f'GRANT {rights} ON "{table}" TO "{app}"']
    statements += [
        # The owner replaces the functions and bumps alembic_version in later migrations.
        "DO $$ DECLARE f regprocedure; BEGIN FOR f IN SELECT p.oid::regprocedure FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' LOOP"
        f" EXECUTE format('ALTER FUNCTION %s OWNER TO %I', f, '{owner}'); END LOOP;"
        " IF to_regclass('alembic_version') IS NOT NULL THEN"
        f" EXECUTE format('ALTER TABLE alembic_version OWNER TO %I', '{owner}'); END IF; END $$",
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app}"',
        f'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO "{app}"',
    ]
    return [statement + ";" for statement in statements]
