"""counter QR: merchants' counter codes, cashier charges, counter payments, their daily
tallies and the programmes' limits; a redemption may stand without a voucher

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:57:00.010556

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # A payment of an open amount is a redemption without a voucher and without a till user.
    # First, before anything refers to the table SQLite's batch mode copies.
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.alter_column('voucher_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('staff_user_id',
               existing_type=sa.INTEGER(),
               nullable=True)

    op.create_table('counter_limits',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('open_amount_max_points', sa.Integer(), nullable=False),
    sa.Column('volunteer_daily_payments', sa.Integer(), nullable=False),
    sa.Column('volunteer_daily_points', sa.Integer(), nullable=False),
    sa.Column('merchant_daily_payments', sa.Integer(), nullable=False),
    sa.Column('merchant_daily_points', sa.Integer(), nullable=False),
    sa.Column('unusual_factor', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint('open_amount_max_points > 0', name=op.f('ck_counter_limits_open_amount_positive')),
    sa.CheckConstraint('unusual_factor > 1', name=op.f('ck_counter_limits_unusual_factor_above_one')),
    sa.CheckConstraint('volunteer_daily_payments > 0 AND volunteer_daily_points > 0 AND merchant_daily_payments > 0 AND merchant_daily_points > 0', name=op.f('ck_counter_limits_daily_positive')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_counter_limits_programme_id_programmes')),
    sa.PrimaryKeyConstraint('programme_id', name=op.f('pk_counter_limits'))
    )
    op.create_table('counter_days',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_counter_days_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('merchant_id', 'day', name=op.f('pk_counter_days'))
    )
    op.create_table('counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reissued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reissued_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint('generation > 0', name=op.f('ck_counters_generation_positive')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_counters_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counters'))
    )
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counters_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('counter_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('amount_points', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_points > 0', name=op.f('ck_counter_charges_amount_positive')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_counter_charges_counter_id_counters')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_counter_charges_created_by_id_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_counter_charges_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_charges'))
    )
    with op.batch_alter_table('counter_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counter_charges_counter_id'), ['counter_id'], unique=False)

    op.create_table('counter_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('charge_id', sa.Integer(), nullable=True),
    sa.Column('redemption_id', sa.Integer(), nullable=False),
    sa.Column('amount_points', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('confirmation_code', sa.String(length=8), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('flags', sa.String(length=120), nullable=True),
    sa.CheckConstraint('amount_points > 0', name=op.f('ck_counter_payments_amount_positive')),
    sa.ForeignKeyConstraint(['charge_id'], ['counter_charges.id'], name=op.f('fk_counter_payments_charge_id_counter_charges')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_counter_payments_counter_id_counters')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_counter_payments_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_counter_payments_offer_id_offers')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_counter_payments_redemption_id_redemptions')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['users.id'], name=op.f('fk_counter_payments_volunteer_id_users')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_counter_payments_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_payments')),
    sa.UniqueConstraint('charge_id', name=op.f('uq_counter_payments_charge_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_counter_payments_idempotency_key')),
    sa.UniqueConstraint('redemption_id', name=op.f('uq_counter_payments_redemption_id'))
    )
    with op.batch_alter_table('counter_payments', schema=None) as batch_op:
        batch_op.create_index('ix_counter_payments_merchant_day_volunteer', ['merchant_id', 'day', 'volunteer_id'], unique=False)
        batch_op.create_index('ix_counter_payments_merchant_id_id', ['merchant_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_counter_payments_volunteer_id'), ['volunteer_id'], unique=False)

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column('accepts_open_amount', sa.Boolean(), server_default='0', nullable=False))

    # ### end Alembic commands ###


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.alter_column('staff_user_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('voucher_id',
               existing_type=sa.INTEGER(),
               nullable=False)

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('accepts_open_amount')
        batch_op.drop_column('opening_hours')

    with op.batch_alter_table('counter_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_payments_volunteer_id'))
        batch_op.drop_index('ix_counter_payments_merchant_id_id')
        batch_op.drop_index('ix_counter_payments_merchant_day_volunteer')

    op.drop_table('counter_payments')
    with op.batch_alter_table('counter_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counter_charges_counter_id'))

    op.drop_table('counter_charges')
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counters_merchant_id'))

    op.drop_table('counters')
    op.drop_table('counter_days')
    op.drop_table('counter_limits')
    # ### end Alembic commands ###
