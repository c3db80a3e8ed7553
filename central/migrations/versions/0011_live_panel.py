"""live panel: each kiosk's latest panel snapshot, a commune's alert thresholds

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('panel_snapshots',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('panel', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'device_id', name=op.f('pk_panel_snapshots'))
    )
    op.create_table('panel_thresholds',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('wait_minutes', sa.Float(), nullable=False),
    sa.Column('pause_minutes', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('commune_code', name=op.f('pk_panel_thresholds'))
    )


def downgrade() -> None:
    op.drop_table('panel_thresholds')
    op.drop_table('panel_snapshots')
