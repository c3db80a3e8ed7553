"""booked no-shows: tickets.booking_code (the code a kiosk's ticket was checked in with)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booking_code', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('booking_code')
