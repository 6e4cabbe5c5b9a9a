"""users.large_text: the 适老化 large-text mode each person can switch on, kept on their account

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 04:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch copy of users would trip the foreign keys pointing at it.
    op.add_column('users', sa.Column('large_text', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade():
    op.drop_column('users', 'large_text')
