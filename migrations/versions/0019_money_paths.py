"""money that reaches people: ledger_pay_out version 4 (one lock order: accounts in id order,
as ledger_post takes them), the year-end bonus crediting after publication,
payout runs (payment details, owed items, runs, lines), and causes' beneficiaries and
releases, and fund sources

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from ledger import sql_files

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
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


    # Payout runs: payees' payment details, owed items, runs and their lines.
    op.create_table('payment_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_type', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('masked_name', sa.String(length=60), nullable=False),
    sa.Column('masked_account', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('alipay', 'wechat', 'bank')", name=op.f('ck_payment_details_channel')),
    sa.CheckConstraint("owner_type IN ('volunteer', 'merchant')", name=op.f('ck_payment_details_owner_type')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payment_details_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_details'))
    )
    with op.batch_alter_table('payment_details', schema=None) as batch_op:
        batch_op.create_index('ix_payment_details_owner', ['owner_type', 'owner_id'], unique=False)

    op.create_table('payout_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('up_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('prepared_by_id', sa.Integer(), nullable=False),
    sa.Column('prepared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('prepared', 'approved', 'closed')", name=op.f('ck_payout_runs_status')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_payout_runs_approved_by_id_users')),
    sa.ForeignKeyConstraint(['prepared_by_id'], ['users.id'], name=op.f('fk_payout_runs_prepared_by_id_users')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_payout_runs_programme_id_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_runs'))
    )
    with op.batch_alter_table('payout_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_runs_programme_id'), ['programme_id'], unique=False)

    op.create_table('payout_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('payee_type', sa.String(length=16), nullable=False),
    sa.Column('payee_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('memo', sa.String(length=120), nullable=False),
    sa.Column('owed_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('paid_entry_id', sa.BigInteger(), nullable=True),
    sa.Column('paid_reference', sa.String(length=120), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure', sa.String(length=200), nullable=True),
    sa.CheckConstraint("kind IN ('cash_out', 'bonus', 'settlement')", name=op.f('ck_payout_items_kind')),
    sa.CheckConstraint("status IN ('owed', 'in_run', 'paid')", name=op.f('ck_payout_items_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payout_items_amount_positive')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_payout_items_programme_id_programmes')),
    sa.ForeignKeyConstraint(['run_id'], ['payout_runs.id'], name=op.f('fk_payout_items_run_id_payout_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_items')),
    sa.UniqueConstraint('source', name='uq_payout_items_source')
    )
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.create_index('ix_payout_items_payee', ['payee_type', 'payee_id'], unique=False)
        batch_op.create_index('ix_payout_items_programme_status', ['programme_id', 'status'], unique=False)

    op.create_table('payout_run_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('details_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'paid', 'failed')", name=op.f('ck_payout_run_lines_status')),
    sa.ForeignKeyConstraint(['details_id'], ['payment_details.id'], name=op.f('fk_payout_run_lines_details_id_payment_details')),
    sa.ForeignKeyConstraint(['item_id'], ['payout_items.id'], name=op.f('fk_payout_run_lines_item_id_payout_items')),
    sa.ForeignKeyConstraint(['run_id'], ['payout_runs.id'], name=op.f('fk_payout_run_lines_run_id_payout_runs')),
    sa.ForeignKeyConstraint(['settled_by_id'], ['users.id'], name=op.f('fk_payout_run_lines_settled_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_run_lines')),
    sa.UniqueConstraint('run_id', 'item_id', name='uq_payout_run_lines_run_item')
    )
    with op.batch_alter_table('payout_run_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_run_lines_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_run_lines_run_id'), ['run_id'], unique=False)

    # Donations that arrive: a cause's beneficiary, what was released and returned; releases.
    op.create_table('cause_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cause_id', sa.Integer(), nullable=False),
    sa.Column('amount_points', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("status IN ('requested', 'confirmed')", name=op.f('ck_cause_releases_status')),
    sa.CheckConstraint('amount_points > 0', name=op.f('ck_cause_releases_amount_positive')),
    sa.ForeignKeyConstraint(['cause_id'], ['donation_causes.id'], name=op.f('fk_cause_releases_cause_id_donation_causes')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_cause_releases_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_cause_releases_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_cause_releases_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cause_releases'))
    )
    with op.batch_alter_table('cause_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cause_releases_cause_id'), ['cause_id'], unique=False)

    with op.batch_alter_table('donation_causes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('beneficiary_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('beneficiary_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('released_points', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('returned_points', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_donation_causes_beneficiary_id_users'), 'users', ['beneficiary_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_donation_causes_pool_accounted'),
                                         'released_points + returned_points <= raised_points')

    # Several fund sources per programme.
    op.create_table('fund_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('sponsor', sa.String(length=120), nullable=False),
    sa.Column('earmarks', sa.JSON(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_fund_sources_created_by_id_users')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_fund_sources_programme_id_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_sources')),
    sa.UniqueConstraint('programme_id', 'code', name='uq_fund_sources_code')
    )
    with op.batch_alter_table('fund_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_sources_programme_id'), ['programme_id'], unique=False)

    with op.batch_alter_table('card_funding_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fund_source', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('card_funding_sessions', schema=None) as batch_op:
        batch_op.drop_column('fund_source')
    with op.batch_alter_table('fund_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_sources_programme_id'))

    op.drop_table('fund_sources')
    with op.batch_alter_table('donation_causes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_donation_causes_pool_accounted'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_donation_causes_beneficiary_id_users'), type_='foreignkey')
        batch_op.drop_column('returned_points')
        batch_op.drop_column('released_points')
        batch_op.drop_column('beneficiary_name')
        batch_op.drop_column('beneficiary_id')

    with op.batch_alter_table('cause_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cause_releases_cause_id'))

    op.drop_table('cause_releases')
    with op.batch_alter_table('payout_run_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_run_lines_run_id'))
        batch_op.drop_index(batch_op.f('ix_payout_run_lines_item_id'))

    op.drop_table('payout_run_lines')
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.drop_index('ix_payout_items_programme_status')
        batch_op.drop_index('ix_payout_items_payee')

    op.drop_table('payout_items')
    with op.batch_alter_table('payout_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_runs_programme_id'))

    op.drop_table('payout_runs')
    with op.batch_alter_table('payment_details', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_details_owner')

    op.drop_table('payment_details')
    op.drop_table('ranking_bonus_crediting')
    if op.get_bind().dialect.name == 'postgresql':
        sql_files.execute(op.get_bind(), 'ledger_pay_out', 3)
