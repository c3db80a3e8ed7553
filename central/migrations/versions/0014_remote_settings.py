"""remote settings and diagnostics: versions of each kiosk's remote settings, what it applied, its bundles

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 22:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'remote_settings',
        sa.Column('commune_code', sa.String(length=16), nullable=False),
        sa.Column('device_id', sa.Uuid(as_uuid=False), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.Column('saved_at', sa.DateTime(), nullable=False),
        sa.Column('saved_by', sa.String(length=200), nullable=False),
        sa.Column('user_id', sa.Uuid(as_uuid=False), nullable=True),
        sa.PrimaryKeyConstraint('commune_code', 'device_id', 'version', name=op.f('pk_remote_settings')),
    )
    op.create_table(
        'remote_state',
        sa.Column('commune_code', sa.String(length=16), nullable=False),
        sa.Column('device_id', sa.Uuid(as_uuid=False), nullable=False),
        sa.Column('applied_version', sa.Integer(), nullable=True),
        sa.Column('refused_version', sa.Integer(), nullable=True),
        sa.Column('refused', sa.String(length=500), nullable=True),
        sa.Column('restart_pending', sa.Boolean(), nullable=True),
        sa.Column('reported_at', sa.DateTime(), nullable=True),
        sa.Column('diagnostics_asked_at', sa.DateTime(), nullable=True),
        sa.Column('diagnostics_asked_by', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('commune_code', 'device_id', name=op.f('pk_remote_state')),
    )
    op.create_table(
        'diagnostic_bundles',
        sa.Column('commune_code', sa.String(length=16), nullable=False),
        sa.Column('device_id', sa.Uuid(as_uuid=False), nullable=False),
        sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('asked_by', sa.String(length=200), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('commune_code', 'device_id', 'id', name=op.f('pk_diagnostic_bundles')),
    )


def downgrade() -> None:
    op.drop_table('diagnostic_bundles')
    op.drop_table('remote_state')
    op.drop_table('remote_settings')
