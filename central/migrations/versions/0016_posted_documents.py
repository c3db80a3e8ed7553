"""posted documents (niêm yết): a commune's rules, fee table, forms (PDF) and notices; the PDFs by checksum

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('posted_documents',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('province_code', sa.String(length=16), nullable=True),
    sa.Column('commune_code', sa.String(length=16), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('shown_from', sa.Date(), nullable=True),
    sa.Column('shown_to', sa.Date(), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posted_documents'))
    )
    op.create_index(op.f('ix_posted_documents_commune_code'), 'posted_documents', ['commune_code'], unique=False)
    op.create_index(op.f('ix_posted_documents_province_code'), 'posted_documents', ['province_code'], unique=False)
    op.create_table('posted_files',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_posted_files'))
    )


def downgrade() -> None:
    op.drop_table('posted_files')
    op.drop_index(op.f('ix_posted_documents_province_code'), table_name='posted_documents')
    op.drop_index(op.f('ix_posted_documents_commune_code'), table_name='posted_documents')
    op.drop_table('posted_documents')
