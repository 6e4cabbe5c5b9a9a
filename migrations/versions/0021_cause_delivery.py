"""Donations that arrive, delivered: a cause names how its pool is delivered (points, a
merchant voucher for the goods, or cash), the offer whose vouchers a release buys, and the
organiser's photos confirming the goods were delivered.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cause_delivery_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cause_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cause_id'], ['donation_causes.id'], name=op.f('fk_cause_delivery_photos_cause_id_donation_causes')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_cause_delivery_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cause_delivery_photos'))
    )
    with op.batch_alter_table('cause_delivery_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cause_delivery_photos_cause_id'), ['cause_id'], unique=False)

    with op.batch_alter_table('donation_causes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery', sa.String(length=8), server_default='points', nullable=False))
        batch_op.add_column(sa.Column('offer_id', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_donation_causes_delivery'),
                                         "delivery IN ('points', 'voucher', 'cash')")
        batch_op.create_check_constraint(op.f('ck_donation_causes_voucher_offer'),
                                         "delivery != 'voucher' OR offer_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('donation_causes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_donation_causes_voucher_offer'), type_='check')
        batch_op.drop_constraint(op.f('ck_donation_causes_delivery'), type_='check')
        batch_op.drop_column('offer_id')
        batch_op.drop_column('delivery')

    with op.batch_alter_table('cause_delivery_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cause_delivery_photos_cause_id'))

    op.drop_table('cause_delivery_photos')
