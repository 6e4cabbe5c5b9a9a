"""Database objects of the people's package that the ORM does not describe: the audit log's
append-only guards (both databases). Their SQL lives in ``volunteers/sql/``, one file per
version, never edited once released (``ledger.sql_files``)."""

from sqlalchemy import text
from sqlalchemy.engine import Connection

from ledger import sql_files

POSTGRES_CURRENT = (("audit_refuse_change", 1), ("audit_append_only", 1))
SQLITE_CURRENT = (("audit_append_only_sqlite", 1),)


def install(connection: Connection) -> None:
    """The newest version of each guard: what a database that ran every migration has."""
    if connection.dialect.name == "postgresql":
        current = POSTGRES_CURRENT
    elif connection.dialect.name == "sqlite":
        current = SQLITE_CURRENT
    else:
        return
    for name, version in current:
        sql_files.execute(connection, name, version, package="volunteers")


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events"))
        connection.execute(text("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events"))
        connection.execute(text("DROP FUNCTION IF EXISTS audit_refuse_change()"))
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
