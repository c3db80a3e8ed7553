"""Stamping records made on the device: UUID, sequence number, wall-clock time, clock-sync flag."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from kiosk.clock import Clock, to_naive_utc
from kiosk.models import DeviceRecord, DeviceState, new_uuid

R = TypeVar("R", bound=DeviceRecord)

SEQ_KEY = "seq"


def next_seq(session: Session) -> int:
    """Hand out the next per-device sequence number inside the caller's transaction."""
    value = session.execute(
        text("UPDATE device_state SET value = CAST(value AS INTEGER) + 1 WHERE key = :key RETURNING value"),
        {"key": SEQ_KEY},
    ).scalar()
    if value is None:
        session.add(DeviceState(key=SEQ_KEY, value="1"))
        session.flush()
        return 1
    return int(value)


def stamp(session: Session, record: R, clock: Clock) -> R:
    """Fill the columns every synced record carries and add it to the session."""
    if not record.id:
        record.id = new_uuid()
    record.seq = next_seq(session)
    record.device_time = to_naive_utc(clock.now())
    record.clock_synced = clock.synced()
    session.add(record)
    return record
