"""posted documents (niêm yết): the commune's rules, fee table, forms and notices, taken down at sync

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('posted_documents',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('shown_from', sa.Date(), nullable=True),
    sa.Column('shown_to', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posted_documents'))
    )
    op.create_table('posted_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posted_list'))
    )


def downgrade() -> None:
    op.drop_table('posted_list')
    op.drop_table('posted_documents')
