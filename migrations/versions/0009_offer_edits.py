"""offers: who last edited an offer and when, and who withdrew it and when

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00.000000

Named 0009 because another branch may add 0008 on top of 0007: whichever merges second
points its ``down_revision`` at the other (the columns added here touch nothing else).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = ("updated_at", "updated_by", "withdrawn_at", "withdrawn_by")


def upgrade():
    # Plain ADD COLUMN (nullable, no foreign key) works in place on SQLite and PostgreSQL.
    op.add_column('offers', sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('offers', sa.Column('updated_by', sa.String(length=64), nullable=True))
    op.add_column('offers', sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('offers', sa.Column('withdrawn_by', sa.String(length=64), nullable=True))


def downgrade():
    # SQLite 3.35 and later drop a column in place; no copy of the table is needed.
    for name in reversed(COLUMNS):
        op.drop_column('offers', name)
