"""services in the rollups: rollup_services (a visit's earlier fields and its rating's extra counts)

The new table is filled from the records by the rebuild the server makes the next time it starts
(``central.reports.rebuild.ensure_built``): emptying rollup_totals and ticket_facts here asks for it, and keeps the migration quick.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 01:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SUMS = ('services', 'timed', 'service_seconds', 'field_ratings', 'field_satisfied', 'field_points',
        'clerk_ratings', 'clerk_satisfied', 'clerk_points')


def upgrade() -> None:
    op.create_table('rollup_services',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('site_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('counter_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clerk_id', sa.Uuid(as_uuid=False), nullable=False),
    *(sa.Column(name, sa.BigInteger(), nullable=False) for name in SUMS),
    sa.PrimaryKeyConstraint('commune_code', 'site_code', 'grain', 'start', 'service_code', 'counter_number',
                            'clerk_id', name=op.f('pk_rollup_services'))
    )
    with op.batch_alter_table('rollup_services', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_services_grain_start', ['grain', 'start', 'service_code', 'commune_code'],
                              unique=False)
    op.execute('DELETE FROM rollup_totals')  # the next start rebuilds every rollup, this one with them
    op.execute('DELETE FROM ticket_facts')


def downgrade() -> None:
    with op.batch_alter_table('rollup_services', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_services_grain_start')
    op.drop_table('rollup_services')
