"""Stamping records made on the device: UUID, sequence number, wall-clock time, clock-sync flag."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from kiosk.clock import Clock, to_naive_utc
from kiosk.models import DeviceRecord, new_uuid

R = TypeVar("R", bound=DeviceRecord)

SEQ_KEY = "seq"


_NEXT_SEQ_SQL = "UPDATE device_state SET value = CAST(value AS INTEGER) + 1 WHERE key = ? RETURNING value"
_NEXT_SEQ = text("UPDATE device_state SET value = CAST(value AS INTEGER) + 1 WHERE key = :key RETURNING value")


def next_seq(session: Session | Connection) -> int:
    """Hand out the next per-device sequence number inside the caller's transaction."""
    value = session.execute(_NEXT_SEQ, {"key": SEQ_KEY}).scalar()
    if value is None:
        session.execute(text("INSERT INTO device_state (key, value) VALUES (:key, '1')"), {"key": SEQ_KEY})
        return 1
    return int(value)


def db_time(moment: datetime) -> str:
    """A naive-UTC time in SQLAlchemy's SQLite storage format (so raw and ORM writes compare as text)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return db_time(value)
    if isinstance(value, bool):
        return int(value)
    return value


class DirectWriter:
    """Writes through the SQLite driver on one kept-open pooled connection: the hot path of a press.

    The connection comes from the engine, so it has the same pragmas (WAL, synchronous=FULL, busy
    timeout, foreign keys). Values are stored as SQLAlchemy's SQLite dialect stores them (times as text,
    booleans as 0/1), so the ORM reads them back unchanged. Not thread-safe: callers hold a lock.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dbapi: Any = None

    @contextmanager
    def transaction(self) -> Iterator[DirectWriter]:
        if self._dbapi is None:
            self._dbapi = self.engine.raw_connection()
        self._dbapi.execute("BEGIN IMMEDIATE")
        try:
            yield self
            self._dbapi.execute("COMMIT")
        except BaseException:
            try:
                self._dbapi.execute("ROLLBACK")
            except Exception:  # the connection is unusable: drop it so no lock is kept
                self.close()
            raise

    def row(self, sql: str, params: tuple = ()) -> dict | None:
        cursor = self._dbapi.execute(sql, params)
        found = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], found, strict=True)) if found else None

    def scalars(self, sql: str, params: tuple = ()) -> list:
        return [r[0] for r in self._dbapi.execute(sql, params).fetchall()]

    def insert(self, table: str, values: dict) -> None:
        self._dbapi.execute(_insert_sql(table, tuple(values)), tuple(_param(v) for v in values.values()))

    def next_seq(self) -> int:
        found = self._dbapi.execute(_NEXT_SEQ_SQL, (SEQ_KEY,)).fetchone()
        if found is None:
            self._dbapi.execute("INSERT INTO device_state (key, value) VALUES (?, '1')", (SEQ_KEY,))
            return 1
        return int(found[0])

    def close(self) -> None:
        if self._dbapi is not None:
            try:
                self._dbapi.invalidate()
            except Exception:  # noqa: BLE001
                pass
            self._dbapi = None


def stamp_values(writer: DirectWriter, clock: Clock) -> dict:
    """The stamped columns of a record written by a :class:`DirectWriter`."""
    return {
        "id": new_uuid(),
        "seq": writer.next_seq(),
        "device_time": to_naive_utc(clock.now()),
        "clock_synced": clock.synced(),
    }


def stamp(session: Session, record: R, clock: Clock) -> R:
    """Fill the columns every synced record carries and add it to the session."""
    if not record.id:
        record.id = new_uuid()
    record.seq = next_seq(session)
    record.device_time = to_naive_utc(clock.now())
    record.clock_synced = clock.synced()
    session.add(record)
    return record
