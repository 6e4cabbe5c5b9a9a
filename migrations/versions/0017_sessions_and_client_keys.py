"""Sessions that end: users.session_generation (a browser session is refused once its
user's generation moved on: sign-out, password change, suspension), and client_keys, the
revocable, scoped keys an Open311 client sends in a request body instead of an API token.

API tokens were already stored as SHA-256 digests and stay as they are; a token that was used
as an Open311 api_key keeps working on the API but no longer on Open311 (its owner makes a
client key: POST /api/v1/me/client-keys).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_generation', sa.Integer(), server_default='0',
                                   nullable=False))
    op.create_table(
        'client_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked', sa.Boolean(), nullable=False),
        sa.CheckConstraint("scope IN ('open311')", name=op.f('ck_client_keys_scope')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_client_keys_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_client_keys')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_client_keys_key_hash')),
    )
    op.create_index(op.f('ix_client_keys_user_id'), 'client_keys', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_client_keys_user_id'), table_name='client_keys')
    op.drop_table('client_keys')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_generation')
