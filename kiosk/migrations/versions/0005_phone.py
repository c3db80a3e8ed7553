"""phone: the secret token of each ticket's phone page (/t/<token>), kept on the device only;
an index of clerk actions by ticket (the page counts its calls)

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ticket_state is local state (never synced), so the token never leaves the kiosk.
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(32), nullable=True))
        batch_op.create_index('ix_ticket_state_token', ['token'], unique=True)
    with op.batch_alter_table('clerk_actions', schema=None) as batch_op:
        batch_op.create_index('ix_clerk_actions_ticket_id', ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('clerk_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_clerk_actions_ticket_id')
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_state_token')
        batch_op.drop_column('token')
