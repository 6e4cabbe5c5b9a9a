"""A verifiable ledger: the RFC 6962 Merkle tree over the sealed entries (ledger_tree_nodes,
built here for the entries already sealed), the heads the ledger signed
(ledger_signed_heads), ledger_seal version 2, which appends to the tree as it seals, the
read-only auditor role, and history guards on every path: TRUNCATE refused on every history
table, ranking snapshots and their rows append-only, accounts' code, unit, kind and
no_overdraft fixed (issue 14)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 04:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from ledger import ddl, merkle, sql_files

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5000
AUDITOR_ROLES = ('volunteer', 'organiser', 'reviewer', 'merchant', 'admin', 'auditor')


def upgrade():
    op.create_table(
        'ledger_tree_nodes',
        sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('level', 'idx', name=op.f('pk_ledger_tree_nodes')),
    )
    op.create_table(
        'ledger_signed_heads',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('tree_size', sa.BigInteger(), nullable=False),
        sa.Column('root_hash', sa.String(length=64), nullable=False),
        sa.Column('entry_id', sa.BigInteger(), nullable=True),
        sa.Column('at', sa.String(length=40), nullable=False),
        sa.Column('key_id', sa.String(length=64), nullable=False),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_signed_heads')),
    )
    op.create_index(op.f('ix_ledger_signed_heads_tree_size'), 'ledger_signed_heads',
                    ['tree_size'], unique=False)
    _build_tree(op.get_bind())
    _role_check(AUDITOR_ROLES)
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        for name in ('ledger_seal', 'ledger_fixed_after_creation', 'ledger_guard_history',
                     'ledger_account_fixed', 'ledger_account_fixed_trigger'):
            sql_files.execute(connection, name, 2 if name == 'ledger_seal' else 1)
        ddl.install_history_guards(connection)
    elif connection.dialect.name == 'sqlite':
        sql_files.execute(connection, 'ledger_history_sqlite', 1)


def _build_tree(connection):
    """The tree over the entries sealed before this migration, in the chain's order."""
    nodes = sa.table('ledger_tree_nodes', sa.column('level'), sa.column('idx'),
                     sa.column('hash', sa.LargeBinary))
    edge, size, after = [], 0, 0
    while True:
        rows = connection.execute(sa.text(
            "SELECT c.seq, c.entry_id, e.hash FROM ledger_chain c "
            "JOIN ledger_entries e ON e.id = c.entry_id WHERE c.seq > :after "
            "ORDER BY c.seq LIMIT :limit"), {"after": after, "limit": BACKFILL_BATCH}).all()
        if not rows:
            return
        made = merkle.append(size, edge, [merkle.entry_leaf(row.entry_id, row.hash)
                                          for row in rows])
        inner = [dict(level=level, idx=idx, hash=h) for level, idx, h in made if level > 0]
        if inner:  # leaves are derived from the chain, not stored
            connection.execute(nodes.insert(), inner)
        size += len(rows)
        after = rows[-1].seq


def _role_check(roles):
    """The read-only ``auditor`` role joins role_grants' check (SQLite rebuilds the table)."""
    listed = ", ".join(f"'{role}'" for role in roles)
    with op.batch_alter_table('role_grants') as batch:
        batch.drop_constraint(op.f('ck_role_grants_role'), type_='check')
        batch.create_check_constraint('role', f"role IN ({listed})")


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        ddl.uninstall_history_guards(connection)
        sql_files.execute(connection, 'ledger_seal', 1)
    elif connection.dialect.name == 'sqlite':
        for table in ('ledger_tree_nodes', 'ledger_signed_heads'):
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_update')
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_delete')
        op.execute('DROP TRIGGER IF EXISTS ledger_accounts_fixed')
    op.execute("DELETE FROM role_grants WHERE role = 'auditor'")
    _role_check(AUDITOR_ROLES[:-1])
    op.drop_index(op.f('ix_ledger_signed_heads_tree_size'), table_name='ledger_signed_heads')
    op.drop_table('ledger_signed_heads')
    op.drop_table('ledger_tree_nodes')
