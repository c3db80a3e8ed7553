"""several fields in one visit: ticket_fields (a ticket's fields in order, each ended apart); ratings.services

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_fields',
    sa.Column('ticket_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('counter_number', sa.Integer(), nullable=True),
    sa.Column('called_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('dossier_codes', sa.String(length=550), nullable=True),
    sa.ForeignKeyConstraint(['service_code'], ['services.code'], name=op.f('fk_ticket_fields_service_code_services')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_fields_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', 'position', name=op.f('pk_ticket_fields'))
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('services', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_column('services')
    op.drop_table('ticket_fields')
