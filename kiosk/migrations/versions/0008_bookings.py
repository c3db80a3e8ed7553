"""bookings: the reception point's bookings taken down at sync, check-ins, tickets.booked, ticket_state.due_at

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bookings',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('site_code', sa.String(length=16), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_bookings'))
    )
    op.create_table('booking_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_list'))
    )
    op.create_table('booking_checkins',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('ticket_id', sa.String(length=36), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_booking_checkins_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_booking_checkins'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked', sa.Boolean(), nullable=True))
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.drop_column('due_at')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('booked')
    op.drop_table('booking_checkins')
    op.drop_table('booking_list')
    op.drop_table('bookings')
