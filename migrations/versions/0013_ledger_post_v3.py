"""ledger_post version 3: a retry racing its first attempt answers the first entry
('existing') instead of 'settled' when both carry one idempotency key (PostgreSQL only)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:00:00.000000

"""
from alembic import op

from ledger import sql_files

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        sql_files.execute(op.get_bind(), 'ledger_post', 3)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        sql_files.execute(op.get_bind(), 'ledger_post', 2)
