"""The device's outbox: records the server has not yet named, in sequence order; the request counter.

Nothing is copied into a queue table: a record is pending until its id is in ``synced_records``, which is
written only after the server's signed answer names it (accepted or already had). So a sync that dies
at any point resumes by itself, and a record is never marked sent on hope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, select, text

from kiosk.models import RECORD_TYPES, DeviceState, SyncedRecord
from sync.central.ingest import insert_ignore

COUNTER_KEY = "sync_counter"
CONFIG_VERSION_KEY = "config_version"
#: A counter floor the server reports is believed only below this (an unsigned 409 must not wreck it).
MAX_COUNTER = 10**15

_NEXT_COUNTER = text(
    "UPDATE device_state SET value = CAST(MAX(CAST(value AS INTEGER), :floor) + 1 AS TEXT) "
    "WHERE key = :key RETURNING value"
)


def next_counter(engine: Engine, floor: int = 0) -> int:
    """A request counter above every one used before (and above ``floor``), committed before it is used."""
    with engine.begin() as conn:
        value = conn.execute(_NEXT_COUNTER, {"floor": floor, "key": COUNTER_KEY}).scalar()
        if value is None:
            value = floor + 1
            conn.execute(DeviceState.__table__.insert().values(key=COUNTER_KEY, value=str(value)))
        return int(value)


def pending(engine: Engine, after_seq: int, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """Up to ``limit`` unsent records with seq > ``after_seq``, as (type, columns), lowest seq first."""
    synced = SyncedRecord.__table__
    found: list[tuple[str, dict[str, Any]]] = []
    with engine.connect() as conn:
        for kind, model in RECORD_TYPES.items():
            table = model.__table__
            query = (
                select(table)
                .where(table.c.seq > after_seq, ~exists().where(synced.c.record_id == table.c.id))
                .order_by(table.c.seq)
                .limit(limit)
            )
            found.extend((kind, dict(row._mapping)) for row in conn.execute(query))
    found.sort(key=lambda item: item[1]["seq"])
    return found[:limit]


def mark_synced(engine: Engine, records: list[tuple[str, str, int]], now: datetime) -> None:
    """Remember (id, type, seq) records as stored at the server, in one transaction."""
    if not records:
        return
    rows = [{"record_id": i, "kind": k, "seq": s, "synced_at": now} for i, k, s in records]
    with engine.begin() as conn:
        insert_ignore(conn, SyncedRecord.__table__, rows)


def get_state(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(DeviceState.value).where(DeviceState.key == key)).scalar()


def set_state(engine: Engine, key: str, value: str) -> None:
    with engine.begin() as conn:
        insert_ignore(conn, DeviceState.__table__, [{"key": key, "value": value}])
        conn.execute(DeviceState.__table__.update().where(DeviceState.key == key).values(value=value))
