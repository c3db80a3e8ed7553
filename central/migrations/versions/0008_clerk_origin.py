"""clerk origin: which kiosk first brought a clerk (NULL: the central pages, import-config, or before this revision)

Once a commune has several kiosks, a kiosk's upload may change only the clerks it brought itself
(``central.clerk_ownership``). Clerks stored before this revision have no origin: they count as the central
server's, so no kiosk can deactivate them or change their PIN; the central pages still can.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clerks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_device_id', sa.Uuid(as_uuid=False), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clerks', schema=None) as batch_op:
        batch_op.drop_column('origin_device_id')
