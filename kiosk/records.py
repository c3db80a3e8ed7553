"""Stamping records made on the device: UUID, sequence number, wall-clock time, clock-sync flag."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from kiosk import device_state
from kiosk.clock import Clock, to_naive_utc
from kiosk.models import DeviceRecord, new_uuid
from kiosk.storage import DirectWriter, Scalars, driver_scalars

R = TypeVar("R", bound=DeviceRecord)


def reserve_seqs(scalars: Scalars, count: int = 1) -> int:
    """Take ``count`` consecutive device sequence numbers in the caller's transaction; returns the first."""
    return device_state.add(scalars, device_state.SEQ, count) - count + 1


def next_seq(session: Session) -> int:
    """Hand out the next per-device sequence number inside the session's transaction."""
    return reserve_seqs(driver_scalars(session))


def stamp_values(writer: DirectWriter, clock: Clock) -> dict:
    """The stamped columns of a record written by a :class:`kiosk.storage.DirectWriter`."""
    return {
        "id": new_uuid(),
        "seq": reserve_seqs(writer.scalars),
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
