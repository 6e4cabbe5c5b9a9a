"""job_runs: a row per periodic job, claimed by one conditional UPDATE per run, so that two
``jindou worker`` processes never run the same due job twice in one interval

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 03:00:00.000000

Numbered after 0011; if another branch adds its own 0012 first, whichever merges second
points its ``down_revision`` at the other (this table touches nothing else).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_runs',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_by', sa.String(length=120), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs')),
    )


def downgrade():
    op.drop_table('job_runs')
