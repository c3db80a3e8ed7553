"""phone: ratings per channel (touch screen, button panel, phone) in their own rollup, filled from the records

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_channels',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('ratings', sa.BigInteger(), nullable=False),
    sa.Column('satisfied_plus', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('flagged', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'grain', 'start', 'service_code', 'channel', name=op.f('pk_rollup_channels'))
    )
    with op.batch_alter_table('rollup_channels', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_channels_grain_start', ['grain', 'start'], unique=False)
    # Left empty: revision 0007 (province) reshapes every rollup, this one included, and the server rebuilds them
    # all from the stored ratings when it next starts (central.reports.rebuild.ensure_built).


def downgrade() -> None:
    with op.batch_alter_table('rollup_channels', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_channels_grain_start')
    op.drop_table('rollup_channels')
