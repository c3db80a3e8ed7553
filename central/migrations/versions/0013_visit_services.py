"""several fields in one visit: ratings.services (the fields a rated visit was served in)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('services', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_column('services')
