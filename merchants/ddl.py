"""Database objects of the merchant alliance that the ORM does not describe: PostgreSQL's
one-round-trip redemption ``merchants_redeem_voucher``. SQLite has none: it redeems through the
ORM (``vouchers.redeem_with_orm``), which writes the same rows.

Its SQL lives in ``merchants/sql/``, one file per version, never edited once released
(``ledger.sql_files``); each migration installs the files of the versions it introduces.
"""

from sqlalchemy.engine import Connection

from ledger import sql_files
from ledger.ddl import has_stored_functions

# The newest version of each file: what a database that ran every migration has.
POSTGRES_CURRENT = (("merchants_redeem_voucher", 1),)


def install(connection: Connection) -> None:
    """The newest ``merchants_redeem_voucher`` on PostgreSQL (it calls the ledger's
    ``ledger_post``, so the ledger's objects come first); nothing elsewhere."""
    if has_stored_functions(connection):
        for name, version in POSTGRES_CURRENT:
            sql_files.execute(connection, name, version, package="merchants")


# The name tests/databases.py and the benches call: it installs the newest versions too.
install_v1 = install
