"""money that reaches people: ledger_pay_out version 4 (one lock order: accounts in id order,
as ledger_post takes them), and the year-end bonus crediting after publication

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07 04:00:00.000000

"""
import sqlalchemy as sa
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
    op.create_table(
        'ranking_bonus_crediting',
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=120), nullable=False),
        sa.Column('reserved_fen', sa.BigInteger(), nullable=False),
        sa.Column('reserve_entry_id', sa.BigInteger(), nullable=True),
        sa.Column('last_position', sa.Integer(), nullable=False),
        sa.Column('credited_through', sa.Integer(), nullable=False),
        sa.Column('credited_count', sa.Integer(), nullable=False),
        sa.Column('credited_fen', sa.BigInteger(), nullable=False),
        sa.Column('bonus_count', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('credited_fen >= 0 AND credited_fen <= reserved_fen',
                           name=op.f('ck_ranking_bonus_crediting_credited_within_reserved')),
        sa.ForeignKeyConstraint(['snapshot_id'], ['ranking_snapshots.id'],
                                name=op.f('fk_ranking_bonus_crediting_snapshot_id_ranking_snapshots')),
        sa.PrimaryKeyConstraint('snapshot_id', name=op.f('pk_ranking_bonus_crediting')),
    )
    # Snapshots published before: their bonuses were paid at publication, from the fund.
    op.execute("""
        INSERT INTO ranking_bonus_crediting (snapshot_id, account, reserved_fen,
               reserve_entry_id, last_position, credited_through, credited_count,
               credited_fen, bonus_count, started_at, finished_at)
        SELECT s.id, '', s.bonus_total_fen, NULL, coalesce(r.last, 0), coalesce(r.last, 0),
               coalesce(r.paid, 0), s.bonus_total_fen, coalesce(r.paid, 0), s.published_at,
               s.published_at
          FROM ranking_snapshots s
          LEFT JOIN (SELECT snapshot_id, max(position) AS last,
                            count(CASE WHEN bonus_fen > 0 THEN 1 END) AS paid
                       FROM ranking_rows WHERE tier IS NOT NULL GROUP BY snapshot_id) r
            ON r.snapshot_id = s.id
    """)


def downgrade():
    op.drop_table('ranking_bonus_crediting')
    if op.get_bind().dialect.name == 'postgresql':
        sql_files.execute(op.get_bind(), 'ledger_pay_out', 3)
