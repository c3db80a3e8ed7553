"""bookings: the bookings a commune takes in, the provinces' API tokens, tickets.booked

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bookings',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('site_code', sa.String(length=16), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'code', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_at'), ['at'], unique=False)
    op.create_table('booking_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('province_code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_booking_tokens_token_hash'))
    )
    with op.batch_alter_table('booking_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_tokens_province_code'), ['province_code'], unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('booked')
    op.drop_table('booking_tokens')
    op.drop_table('bookings')
