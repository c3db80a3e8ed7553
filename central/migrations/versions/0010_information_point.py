"""information point: the province's commune-level procedures, the ones a commune hides; comments.source (suggestions)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 20:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('procedures',
    sa.Column('province_code', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('papers', sa.JSON(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('fee', sa.String(length=300), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('result_at', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('province_code', 'code', name=op.f('pk_procedures'))
    )
    op.create_table('hidden_procedures',
    sa.Column('commune_code', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('hidden_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('commune_code', 'code', name=op.f('pk_hidden_procedures'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('source')
    op.drop_table('hidden_procedures')
    op.drop_table('procedures')
