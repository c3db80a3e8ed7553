"""booked no-shows: tickets.booking_code (the code a ticket was checked in with); ticket_fields by counter and end

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booking_code', sa.String(length=40), nullable=True))
    op.create_index('ix_ticket_fields_counter_finished', 'ticket_fields', ['counter_number', 'finished_at'])


def downgrade() -> None:
    op.drop_index('ix_ticket_fields_counter_finished', table_name='ticket_fields')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('booking_code')
