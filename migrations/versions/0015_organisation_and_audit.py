"""The organisation and its audit log: areas carry a closing date, a boundary and a centre;
users an external id (for re-imports); a merchant's staff an owner flag and an indexed phone (sign-in by phone); one-time
account codes (activation and reset); the areas a department serves; and the append-only
audit log of administrative changes with its triggers (volunteers/sql)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

from volunteers import ddl

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('boundary', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('centre_lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('centre_lng', sa.Float(), nullable=True))
    with op.batch_alter_table('merchant_staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_external_id'), ['external_id'])
        batch_op.create_index(batch_op.f('ix_users_phone'), ['phone'], unique=False)
    op.create_table(
        'account_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("purpose IN ('activation', 'reset')",
                           name=op.f('ck_account_codes_purpose')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_account_codes_created_by_id_users')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_account_codes_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_codes')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_account_codes_code_hash')),
    )
    with op.batch_alter_table('account_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_codes_user_id'), ['user_id'], unique=False)
    op.create_table(
        'role_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('awaiting_approval', 'granted', 'rejected')",
                           name=op.f('ck_role_requests_status')),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'],
                                name=op.f('fk_role_requests_area_id_areas')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_role_requests_decided_by_id_users')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_role_requests_requested_by_id_users')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_role_requests_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_role_requests')),
    )
    with op.batch_alter_table('role_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_requests_user_id'), ['user_id'], unique=False)
    op.create_table(
        'report_department_areas',
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'],
                                name=op.f('fk_report_department_areas_area_id_areas')),
        sa.ForeignKeyConstraint(
            ['department_id'], ['report_departments.id'],
            name=op.f('fk_report_department_areas_department_id_report_departments')),
        sa.PrimaryKeyConstraint('department_id', 'area_id',
                                name=op.f('pk_report_department_areas')),
    )
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_name', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('area_path', sa.String(length=600), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_audit_events_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_id_id', ['actor_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_area_path_id', ['area_path', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index('ix_audit_events_kind_id', ['kind', 'id'], unique=False)
    ddl.install(op.get_bind())


def downgrade():
    ddl.uninstall(op.get_bind())
    op.drop_table('audit_events')
    op.drop_table('report_department_areas')
    with op.batch_alter_table('role_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_requests_user_id'))
    op.drop_table('role_requests')
    with op.batch_alter_table('account_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_codes_user_id'))
    op.drop_table('account_codes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_phone'))
        batch_op.drop_constraint(batch_op.f('uq_users_external_id'), type_='unique')
        batch_op.drop_column('external_id')
    with op.batch_alter_table('merchant_staff', schema=None) as batch_op:
        batch_op.drop_column('owner')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_column('centre_lng')
        batch_op.drop_column('centre_lat')
        batch_op.drop_column('boundary')
        batch_op.drop_column('closed_at')
