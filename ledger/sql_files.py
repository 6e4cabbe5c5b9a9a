"""The SQL that guards the money, read from the ``.sql`` files beside the code.

Each stored function version lives in its own file, ``<package>/sql/<name>.v<version>.sql``
(``ledger/sql/ledger_post.v2.sql``), and is never edited once released: a change is a new
version in a new file, installed by a new migration. A migration names the files of the
versions it introduces, so it installs today what it installed when it was written.

A file holds one or more statements, each ending with ``;`` at the end of a line; comment
lines and blank lines between statements are not sent. A function's body is quoted with
``$$`` (the only dollar quote the splitter knows), and what lies inside is sent as written.

To change a function: copy its newest file to the next version and edit the copy; point
``POSTGRES_CURRENT`` (``ledger/ddl.py`` or ``merchants/ddl.py``) at it; add a migration whose
upgrade executes the new file and whose downgrade executes the previous one; and add the new
file's digest to ``RELEASED`` in ``tests/test_sql_files.py``. The migration-drift test
(``tests/test_migrations.py``) fails until the migrations and ``POSTGRES_CURRENT`` agree.
"""

from __future__ import annotations

from importlib import resources

from sqlalchemy import text
from sqlalchemy.engine import Connection


def file_name(name: str, version: int) -> str:
    return f"{name}.v{version}.sql"


def read(name: str, version: int, package: str = "ledger") -> str:
    """The text of one version's file: ``read("ledger_post", 2)``."""
    return resources.files(f"{package}.sql").joinpath(file_name(name, version)).read_text(
        encoding="utf-8")


def statements(sql: str) -> list[str]:
    """The file's statements, in order, each as written and ending with its ``;``."""
    found: list[str] = []
    lines: list[str] = []
    quoted = False
    for line in sql.splitlines():
        if not lines and (not line.strip() or line.lstrip().startswith("--")):
            continue  # between statements
        lines.append(line)
        if line.count("$$") % 2:
            quoted = not quoted
        if not quoted and line.rstrip().endswith(";"):
            found.append("\n".join(lines).rstrip())
            lines = []
    if lines or quoted:
        raise ValueError("the SQL ends inside a statement: " + "\n".join(lines)[:200])
    return found


def execute(connection: Connection, name: str, version: int, package: str = "ledger") -> None:
    """Runs every statement of one version's file on ``connection``, in order."""
    for statement in statements(read(name, version, package)):
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(statement)
        else:
            connection.execute(text(statement))
