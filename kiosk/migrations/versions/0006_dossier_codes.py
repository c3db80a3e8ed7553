"""dossier codes: the codes a clerk attaches to the ticket being served, and the rating that carries them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier_codes', sa.String(length=550), nullable=True))
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier_codes', sa.String(length=550), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket_state', schema=None) as batch_op:
        batch_op.drop_column('dossier_codes')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_column('dossier_codes')
