"""fast redemption: the ledger's one-round-trip sealer ``ledger_seal`` and the merchants'
one-round-trip redemption ``merchants_redeem_voucher`` (PostgreSQL only; nothing on SQLite)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:00:00.000000

"""
from alembic import op

from ledger import ddl
from merchants import ddl as merchants_ddl

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    ddl.install_seal_v1(op.get_bind())
    merchants_ddl.install_v1(op.get_bind())


def downgrade():
    merchants_ddl.uninstall_v1(op.get_bind())
    ddl.uninstall_seal_v1(op.get_bind())
