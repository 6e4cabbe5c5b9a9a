"""ranking rows without foreign keys or a volunteer index of their own: a million rows
checked one by one against ``ranking_snapshots`` and ``users`` cost more than ranking them;
the rows are written once, by one INSERT ... SELECT over ``users`` in the transaction that
creates their snapshot, and a volunteer's rows are found through the unique
(snapshot, volunteer) key; and ``ledger_pay_out`` version 3, which looks for refused payees
only when its upsert left one alone (PostgreSQL only)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 19:30:00.000000

"""
from alembic import op

from ledger import sql_files

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("fk_ranking_rows_snapshot_id_ranking_snapshots", "snapshot_id", "ranking_snapshots"),
    ("fk_ranking_rows_volunteer_id_users", "volunteer_id", "users"),
)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        sql_files.execute(op.get_bind(), 'ledger_pay_out', 3)
    with op.batch_alter_table('ranking_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ranking_rows_volunteer_id'))
        for name, _column, _table in FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_='foreignkey')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        sql_files.execute(op.get_bind(), 'ledger_pay_out', 2)
    with op.batch_alter_table('ranking_rows', schema=None) as batch_op:
        for name, column, table in FOREIGN_KEYS:
            batch_op.create_foreign_key(name, table, [column], ['id'])
        batch_op.create_index(batch_op.f('ix_ranking_rows_volunteer_id'), ['volunteer_id'],
                              unique=False)
