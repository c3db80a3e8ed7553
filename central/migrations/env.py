"""Alembic environment of the central database (run by `kiosk-central init` and at server start-up)."""

from alembic import context
from sqlalchemy import create_engine

from central import (  # noqa: F401  (their tables share this metadata: one history)
    booking_models,
    panel_models,
    posted_models,  # noqa: F401  (posted documents)
    procedure_models,
    remote_models,  # noqa: F401  (remote settings and diagnostics)
    report_models,
)
from central.models import CentralBase

config = context.config
target_metadata = CentralBase.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _migrate(connection)
        return
    _migrate(connection)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


run()
