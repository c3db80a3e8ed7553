"""fleet rings: each kiosk's last package upgrade (outcome, versions, time, why) as its sync batches report it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COLUMNS = (
    ('upgrade_outcome', sa.String(length=20)),
    ('upgrade_from', sa.String(length=32)),
    ('upgrade_to', sa.String(length=32)),
    ('upgrade_at', sa.DateTime()),
    ('upgrade_detail', sa.String(length=500)),
)


def upgrade() -> None:
    with op.batch_alter_table('device_status') as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('device_status') as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
