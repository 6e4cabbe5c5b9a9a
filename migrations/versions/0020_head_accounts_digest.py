"""signed heads commit to the accounts' fixed fields: ledger_signed_heads gains
accounts_through and accounts_digest (NULL in heads signed before), so that an account's kind
or no_overdraft changed with the guard trigger switched off fails ``verify --anchor``

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 05:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ledger_signed_heads',
                  sa.Column('accounts_through', sa.BigInteger(), nullable=True))
    op.add_column('ledger_signed_heads',
                  sa.Column('accounts_digest', sa.String(length=64), nullable=True))


def downgrade():
    # A plain DROP COLUMN (SQLite >= 3.35 has it): a batch copy would lose the table's
    # append-only triggers.
    op.drop_column('ledger_signed_heads', 'accounts_digest')
    op.drop_column('ledger_signed_heads', 'accounts_through')
