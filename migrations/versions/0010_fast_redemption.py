"""fast redemption: the ledger's one-round-trip sealer ``ledger_seal`` and the merchants'
one-round-trip redemption ``merchants_redeem_voucher`` (PostgreSQL only; nothing on SQLite)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from ledger import sql_files

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        sql_files.execute(connection, 'ledger_seal', 1)
        # It calls the ledger's ledger_post, installed before it.
        sql_files.execute(connection, 'merchants_redeem_voucher', 1, package='merchants')


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        connection.execute(sa.text('DROP FUNCTION IF EXISTS merchants_redeem_voucher(jsonb)'))
        connection.execute(sa.text('DROP FUNCTION IF EXISTS ledger_seal(int, boolean)'))
