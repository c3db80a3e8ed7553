"""central schema: communes, devices, users, per-commune configuration, device records, quarantine, sync log

Every growing table has commune_code first in its primary key (Citus distribution column); see
docs/scaling.md. Works on PostgreSQL (psycopg 3) and SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UUID = sa.Uuid(as_uuid=False)

RECORD_TABLES = {
    "tickets": lambda: [
        sa.Column("service_code", sa.String(16), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("display_number", sa.String(16), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
    ],
    "ratings": lambda: [
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("panel", sa.String(64), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("flag", sa.String(64), nullable=True),
        sa.Column("counter_number", sa.Integer(), nullable=True),
        sa.Column("ticket_id", UUID, nullable=True),
        sa.Column("clerk_id", UUID, nullable=True),
        sa.Column("service_code", sa.String(16), nullable=True),
    ],
    "indicator_answers": lambda: [
        sa.Column("rating_id", UUID, nullable=False),
        sa.Column("indicator", sa.String(16), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
    ],
    "comments": lambda: [
        sa.Column("rating_id", UUID, nullable=True),
        sa.Column("counter_number", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(64), nullable=True),
    ],
    "clerk_actions": lambda: [
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("counter_number", sa.Integer(), nullable=True),
        sa.Column("clerk_id", UUID, nullable=True),
        sa.Column("ticket_id", UUID, nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
    ],
}


def _record_columns() -> list:
    return [
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("device_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_time", sa.DateTime(), nullable=False),
        sa.Column("clock_synced", sa.Boolean(), nullable=False),
        sa.Column("corrected_time", sa.DateTime(), nullable=False),
        sa.Column("clock_offset", sa.Float(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("sync_id", UUID, nullable=False),
    ]


def upgrade() -> None:
    # Reference tables.
    op.create_table(
        "communes",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("district_code", sa.String(16), nullable=True),
        sa.Column("province_code", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_communes"),
    )
    op.create_index("ix_communes_district_code", "communes", ["district_code"])
    op.create_table(
        "devices",
        sa.Column("id", UUID, nullable=False),
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("secret_fingerprint", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commune_code"], ["communes.code"], name="fk_devices_commune_code_communes"),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
    )
    op.create_index("ix_devices_commune_code", "devices", ["commune_code"])
    op.create_table(
        "users",
        sa.Column("id", UUID, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("commune_code", sa.String(16), nullable=True),
        sa.Column("district_code", sa.String(16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commune_code"], ["communes.code"], name="fk_users_commune_code_communes"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )

    # Per-commune tables (distributed by commune_code).
    op.create_table(
        "device_status",
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("device_id", UUID, nullable=False),
        sa.Column("last_counter", sa.BigInteger(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(), nullable=True),
        sa.Column("last_config_at", sa.DateTime(), nullable=True),
        sa.Column("clock_offset", sa.Float(), nullable=True),
        sa.Column("clock_synced", sa.Boolean(), nullable=True),
        sa.Column("unsynced_offset", sa.Float(), nullable=True),
        sa.Column("unsynced", sa.Integer(), nullable=True),
        sa.Column("printer", sa.String(32), nullable=True),
        sa.Column("software_version", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("commune_code", "device_id", name="pk_device_status"),
    )
    op.create_table(
        "services",
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(4), nullable=False),
        sa.Column("daily_max", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("commune_code", "code", name="pk_services"),
    )
    op.create_table(
        "counters",
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("commune_code", "number", name="pk_counters"),
    )
    op.create_table(
        "counter_services",
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("counter_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service_code", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("commune_code", "counter_number", "service_code", name="pk_counter_services"),
    )
    op.create_table(
        "clerks",
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("counter_number", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("commune_code", "id", name="pk_clerks"),
        sa.UniqueConstraint("commune_code", "code", name="uq_clerks_commune_code"),
    )
    op.create_table(
        "scale_levels",
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("commune_code", "key", name="pk_scale_levels"),
    )
    for table, columns in RECORD_TABLES.items():
        op.create_table(
            table,
            *columns(),
            *_record_columns(),
            sa.PrimaryKeyConstraint("commune_code", "device_id", "id", name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_commune_time", table, ["commune_code", "corrected_time"])
    op.create_table(
        "quarantine",
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("device_id", UUID, nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("sync_id", UUID, nullable=False),
        sa.PrimaryKeyConstraint("commune_code", "device_id", "record_id", "content_hash", name="pk_quarantine"),
    )
    op.create_table(
        "sync_log",
        sa.Column("commune_code", sa.String(16), nullable=False),
        sa.Column("device_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("device_sent_at", sa.DateTime(), nullable=True),
        sa.Column("clock_synced", sa.Boolean(), nullable=True),
        sa.Column("clock_offset", sa.Float(), nullable=True),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("already_had", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.Integer(), nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("commune_code", "device_id", "id", name="pk_sync_log"),
    )
    op.create_index("ix_sync_log_commune_received", "sync_log", ["commune_code", "received_at"])


def downgrade() -> None:
    op.drop_table("sync_log")
    op.drop_table("quarantine")
    for table in reversed(list(RECORD_TABLES)):
        op.drop_table(table)
    for table in ("scale_levels", "clerks", "counter_services", "counters", "services", "device_status"):
        op.drop_table(table)
    op.drop_table("users")
    op.drop_table("devices")
    op.drop_table("communes")
