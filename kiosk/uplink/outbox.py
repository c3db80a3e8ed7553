"""The device's outbox: records the server has not yet named, in sequence order; the request counter.

The device database is SQLite (see kiosk/db.py). Nothing is copied into a queue table: a record is pending until its id is in ``synced_records``, which is
written only after the server's signed answer names it (accepted or already had). So a sync that dies
at any point resumes by itself, and a record is never marked sent on hope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, select, text, union_all
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kiosk.models import RECORD_TYPES, DeviceState, SyncedRecord
from kiosk.records import db_time

COUNTER_KEY = "sync_counter"
#: A counter floor the server reports is believed only below this (an unsigned 409 must not wreck it).
MAX_COUNTER = 10**15

_RESERVE = text(
    "UPDATE device_state SET value = CAST(MAX(CAST(value AS INTEGER), :floor) + :n AS TEXT) "
    "WHERE key = :key RETURNING value"
)


def reserve_counters(engine: Engine, n: int = 1, floor: int = 0) -> range:
    """``n`` request counters above every one reserved before (and above ``floor``), committed before use."""
    with engine.begin() as conn:
        high = conn.execute(_RESERVE, {"floor": floor, "n": n, "key": COUNTER_KEY}).scalar()
        if high is None:
            high = floor + n
            conn.execute(DeviceState.__table__.insert().values(key=COUNTER_KEY, value=str(high)))
        return range(int(high) - n + 1, int(high) + 1)


def _unsent(table, after_seq: int):
    synced = SyncedRecord.__table__
    return (table.c.seq > after_seq) & ~exists().where(synced.c.record_id == table.c.id)


def pending(engine: Engine, after_seq: int, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """Up to ``limit`` unsent records with seq > ``after_seq``, as (type, columns), lowest seq first.

    First the seq of the ``limit``-th unsent record (over every record table, by the seq index alone),
    then each table's rows up to it: no table is read further than the batch needs.
    """
    tables = {kind: model.__table__ for kind, model in RECORD_TYPES.items()}
    seqs = union_all(*(select(t.c.seq).where(_unsent(t, after_seq)) for t in tables.values())).subquery()
    found: list[tuple[str, dict[str, Any]]] = []
    with engine.connect() as conn:
        last = conn.execute(select(seqs.c.seq).order_by(seqs.c.seq).offset(limit - 1).limit(1)).scalar()
        for kind, table in tables.items():
            query = select(table).where(_unsent(table, after_seq))
            if last is not None:
                query = query.where(table.c.seq <= last)
            found.extend((kind, dict(row._mapping)) for row in conn.execute(query))
    found.sort(key=lambda item: item[1]["seq"])
    return found


def mark_synced(engine: Engine, records: list[tuple[str, str, int]], now: datetime) -> None:
    """Remember (id, type, seq) records as stored at the server, in one transaction."""
    if not records:
        return
    stamp = db_time(now)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO synced_records (record_id, kind, seq, synced_at) VALUES (?, ?, ?, ?)",
            [(record_id, kind, seq, stamp) for record_id, kind, seq in records],
        )


def get_state(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(DeviceState.value).where(DeviceState.key == key)).scalar()


def set_state(engine: Engine, key: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sqlite_insert(DeviceState.__table__)
            .values(key=key, value=value)
            .on_conflict_do_update(index_elements=["key"], set_={"value": value})
        )
