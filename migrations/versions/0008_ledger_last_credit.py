"""ledger: yearly totals (points accounts only) keep the latest standing credit; ledger_pay_out

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:00:00

Adds ``ledger_account_totals.last_credit_at``, fills it from the journal and installs the
version 2 writers, which keep it as they post.
"""
import sqlalchemy as sa
from alembic import op

from ledger import sql_files

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ledger_account_totals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_credit_at', sa.DateTime(timezone=True), nullable=True))
    connection = op.get_bind()
    install_ledger_sql(connection)
    # Only points accounts keep yearly totals now (ledger.rules.TOTALLED_UNITS): a cache, so
    # the money accounts' rows simply go.
    connection.execute(sa.text(
        "DELETE FROM ledger_account_totals WHERE account_id IN"
        " (SELECT id FROM ledger_accounts WHERE unit <> 'POINT')"))
    if connection.dialect.name == 'postgresql':
        connection.execute(sa.text(
            "UPDATE ledger_account_totals"
            " SET last_credit_at = ledger_latest_standing_credit(account_id, year, kind)"
            " WHERE credited > 0"))
        return
    _backfill_one_by_one(connection)


def _backfill_one_by_one(connection):
    from ledger.models import AccountTotal
    from ledger.service import latest_standing_credit

    rows = connection.execute(sa.select(
        AccountTotal.account_id, AccountTotal.year, AccountTotal.kind,
    ).where(AccountTotal.credited > 0)).all()
    for account_id, year, kind in rows:
        connection.execute(sa.update(AccountTotal).where(
            AccountTotal.account_id == account_id, AccountTotal.year == year,
            AccountTotal.kind == kind,
        ).values(last_credit_at=latest_standing_credit(account_id, year, kind)))


def install_ledger_sql(connection):
    """ledger_latest_standing_credit, the version 2 writers ledger_post and ledger_post_many,
    and ledger_pay_out (version 2: it came with them), on PostgreSQL only."""
    if connection.dialect.name == 'postgresql':
        sql_files.execute(connection, 'ledger_latest_standing_credit', 1)
        sql_files.execute(connection, 'ledger_post', 2)
        sql_files.execute(connection, 'ledger_post_many', 2)
        sql_files.execute(connection, 'ledger_pay_out', 2)


def uninstall_ledger_sql(connection):
    """Back to version 1's writers."""
    if connection.dialect.name == 'postgresql':
        sql_files.execute(connection, 'ledger_post', 1)
        sql_files.execute(connection, 'ledger_post_many', 1)
        connection.execute(sa.text(
            'DROP FUNCTION IF EXISTS ledger_pay_out(jsonb, text[], bigint[], int[], bigint[])'))
        connection.execute(sa.text(
            'DROP FUNCTION IF EXISTS ledger_latest_standing_credit(bigint, int, text)'))


def downgrade():
    uninstall_ledger_sql(op.get_bind())
    with op.batch_alter_table('ledger_account_totals', schema=None) as batch_op:
        batch_op.drop_column('last_credit_at')
