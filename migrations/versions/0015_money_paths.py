"""money that reaches people: ledger_pay_out version 4 (one lock order: accounts in id order,
as ledger_post takes them), and the year-end bonus crediting after publication

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07 04:00:00.000000

"""
from alembic import op

from ledger import sql_files

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        sql_files.execute(op.get_bind(), 'ledger_pay_out', 4)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        sql_files.execute(op.get_bind(), 'ledger_pay_out', 3)
