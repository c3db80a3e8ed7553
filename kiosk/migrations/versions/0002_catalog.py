"""catalog: the questions of the detailed form; "config_version" becomes "catalog_version"

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('questions',
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_questions'))
    )
    op.execute("UPDATE device_state SET key = 'catalog_version' WHERE key = 'config_version'")


def downgrade() -> None:
    op.execute("UPDATE device_state SET key = 'config_version' WHERE key = 'catalog_version'")
    op.drop_table('questions')
