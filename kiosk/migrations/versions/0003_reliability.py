"""reliability: the queue's own day on ticket_state (clock changes), one counted rating per ticket (index)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_day', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('provisional', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Every ticket so far waits in the queue of its own business day.
    op.execute(
        "UPDATE ticket_state SET queue_day = (SELECT business_day FROM tickets WHERE tickets.id = ticket_state.ticket_id)"
    )
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.alter_column('queue_day', existing_type=sa.Date(), nullable=False)
        batch_op.drop_index('ix_ticket_state_queue')
        batch_op.create_index('ix_ticket_state_queue', ['status', 'queue_day', 'service_code', 'priority'], unique=False)
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_ticket_id', ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_ticket_id')
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_state_queue')
        batch_op.create_index('ix_ticket_state_queue', ['status', 'service_code', 'priority', 'queued_at'], unique=False)
        batch_op.drop_column('provisional')
        batch_op.drop_column('queue_day')
