"""information point: the commune's procedures (taken down at sync for the lookup screen); comments.source (suggestions)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('procedures',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('papers', sa.JSON(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('fee', sa.String(length=300), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('result_at', sa.Text(), nullable=False),
    sa.Column('search', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_procedures'))
    )
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_procedures_service_code'), ['service_code'], unique=False)
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=True))
    op.create_table('procedure_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_list'))
    )


def downgrade() -> None:
    op.drop_table('procedure_list')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_procedures_service_code'))
    op.drop_table('procedures')
