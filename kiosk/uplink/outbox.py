"""The device's outbox: records the server has not yet named, in sequence order; the request counter.

The device database is SQLite (see kiosk/db.py). Nothing is copied into a queue table: a record is pending until its id is in ``synced_records``, which is
written only after the server's signed answer names it (accepted or already had). So a sync that dies
at any point resumes by itself, and a record is never marked sent on hope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, select, union_all

from kiosk import device_state
from kiosk.models import RECORD_TYPES, SyncedRecord
from kiosk.storage import db_time, write_transaction

#: A counter floor the server reports is believed only below this (an unsigned 409 must not wreck it).
MAX_COUNTER = 10**15


def reserve_counters(engine: Engine, n: int = 1, floor: int = 0) -> range:
    """``n`` request counters above every one reserved before (and above ``floor``), committed before use."""
    with write_transaction(engine) as scalars:
        high = device_state.add(scalars, device_state.SYNC_COUNTER, n, floor)
    return range(high - n + 1, high + 1)


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
