"""Storing a device's batch: one transaction, every record exactly once, conflicts kept for audit.

:func:`prepare` checks the batch outside any transaction (shape, device, commune, record fields).
:func:`store` then runs in one transaction: it first raises the device's counter (the replay guard — the
row lock also serialises batches of one device), then per record type looks up which ids are already
stored, inserts the new ones (COPY on PostgreSQL) and compares content only for the ids it already had:
equal → "already had" (a harmless resend), different → rejected and kept in ``quarantine``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError

from kiosk.errors import ConflictError, ForbiddenError, KioskError, ValidationError
from kiosk.safe_text import storable, text_problem
from sync import protocol
from sync.central.models import MAIN_SITE, RECORD_MODELS, DeviceStatus, Quarantine, SyncLog
from sync.reports.rollups import Presses, apply_batch

try:  # COPY goes through the psycopg connection itself, so its error is not wrapped by SQLAlchemy
    from psycopg import DataError as _PgDataError
    from psycopg.errors import UniqueViolation

    _UNIQUE_VIOLATIONS: tuple[type[Exception], ...] = (IntegrityError, UniqueViolation)
    _DATABASE_ERRORS: tuple[type[Exception], ...] = (DataError, _PgDataError, OverflowError, ValueError)
except ImportError:  # SQLite-only installation
    _UNIQUE_VIOLATIONS = (IntegrityError,)
    _DATABASE_ERRORS = (DataError, OverflowError, ValueError)

log = logging.getLogger(__name__)

#: Ids per lookup statement (well under SQLite's and PostgreSQL's bound-parameter limits).
CHUNK = 2000


class TooLarge(KioskError, ValueError):
    status = 413
    code = "too_large"


class StaleCounter(ConflictError):
    """The request's counter is not above the last one accepted: a replay, or a second client racing."""

    code = "stale_counter"


@dataclass
class Prepared:
    """A checked batch, ready to store: its records by type, their fields checked by :func:`store`."""

    sent_at: datetime
    clock_synced: bool
    status: dict[str, Any]
    #: Records of a known type, as sent: (id, raw record).
    raw: dict[str, list[tuple[str, dict]]] = field(default_factory=dict)
    #: Records whose fields passed (filled by store): (id, column values, raw record).
    valid: dict[str, list[tuple[str, dict[str, Any], dict]]] = field(default_factory=dict)
    invalid: list[tuple[str, str, str, dict]] = field(default_factory=list)  # kind, id, reason, raw
    count: int = 0
    #: Whether the records' text may hold an unstorable character (a decoded batch knows: protocol.Batch).
    check_text: bool = True


@dataclass
class BatchResult:
    sync_id: str
    server_time: datetime
    clock_offset: float
    accepted: list[str] = field(default_factory=list)
    already_had: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "v": protocol.PROTOCOL_VERSION,
            "sync_id": self.sync_id,
            "server_time": self.server_time.isoformat(),
            "clock_offset": round(self.clock_offset, 3),
            "accepted": self.accepted,
            "already_had": self.already_had,
            "rejected": self.rejected,
        }


def prepare(envelope: dict, device_id: str, commune_code: str, max_records: int) -> Prepared:
    """Check a decoded batch against the signing device; per-record faults become rejections."""
    try:
        sent_at, clock_synced, records = protocol.check_envelope(envelope)
    except protocol.ProtocolError as exc:
        raise ValidationError(str(exc)) from None
    if envelope["device"] != device_id:
        raise ForbiddenError(f"The batch names device {envelope['device']!r} but is signed by device {device_id}.")
    if envelope["commune"] != commune_code:
        raise ForbiddenError(
            f"Device {device_id} belongs to commune {commune_code} and may not send records of commune "
            f"{envelope['commune']!r}: set this kiosk's commune_code to {commune_code}.",
            {"commune": commune_code},
        )
    if len(records) > max_records:
        raise TooLarge(
            f"The batch has {len(records)} records; the limit is {max_records}. Send smaller batches.",
            {"limit": "records", "max_records": max_records},
        )
    check_text = getattr(envelope, "suspicious", True)  # a decoded batch knows whether its text needs it
    status = _status(envelope.get("status") or {})
    prepared = Prepared(sent_at, clock_synced, status, count=len(records), check_text=check_text)
    seen: set[str] = set()
    for record in records:
        try:
            kind, record_id = protocol.record_key(record)
        except protocol.ProtocolError as exc:
            raise ValidationError(str(exc)) from None
        if record_id in seen:
            raise ValidationError(f"Record {record_id} appears twice in the batch.")
        seen.add(record_id)
        if kind not in RECORD_MODELS:
            reason = f"invalid: unknown record type {kind!r}; use {', '.join(protocol.RECORD_FIELDS)}"
            prepared.invalid.append((kind[:32], record_id, reason, record))
            continue
        prepared.raw.setdefault(kind, []).append((record_id, record))
    return prepared


def _status(status: dict) -> dict[str, Any]:
    unsynced = status.get("unsynced")

    def text(key: str) -> str | None:
        value = status.get(key)
        return value[:32] if isinstance(value, str) and text_problem(value) is None else None

    return {
        "unsynced": unsynced if type(unsynced) is int and 0 <= unsynced <= protocol.INT32 else None,
        "printer": text("printer"),
        "software_version": text("version"),
    }


def claim_counter(conn: Connection, commune_code: str, device_id: str, counter: int, values: dict[str, Any]) -> Any:
    """Raise the device's last counter to ``counter`` (with ``values``), or StaleCounter if not above it."""
    table = DeviceStatus.__table__
    row = conn.execute(
        update(table)
        .where(table.c.commune_code == commune_code, table.c.device_id == device_id, table.c.last_counter < counter)
        .values(last_counter=counter, **values)
        .returning(table.c.unsynced_offset)
    ).first()
    if row is None:
        last = conn.execute(
            select(table.c.last_counter).where(table.c.commune_code == commune_code, table.c.device_id == device_id)
        ).scalar()
        raise StaleCounter(
            f"Counter {counter} of device {device_id} is not above the last accepted ({last}): "
            "a replayed request is refused; a kiosk retries with a higher counter.",
            {"reason": "stale_counter", "last_counter": last},
        )
    return row


def store(
    conn: Connection,
    prepared: Prepared,
    commune_code: str,
    device_id: str,
    counter: int,
    now: datetime,
    remote_addr: str | None = None,
    site_code: str = MAIN_SITE,
) -> BatchResult:
    """Store a prepared batch in the caller's transaction; its records are stored with the kiosk's site."""
    offset = (now - prepared.sent_at).total_seconds()
    state: dict[str, Any] = dict(last_sync_at=now, clock_offset=offset, clock_synced=prepared.clock_synced)
    state.update({k: v for k, v in prepared.status.items() if v is not None})
    if not prepared.clock_synced:
        state["unsynced_offset"] = offset
    row = claim_counter(conn, commune_code, device_id, counter, state)
    # Records made while the clock was unsynchronised are shifted by the offset seen now if the clock is
    # still unsynchronised, else by the offset seen at the last sync made while it was (best estimate).
    correction = row.unsynced_offset
    result = BatchResult(str(uuid.uuid4()), now, offset)
    quarantine: list[dict[str, Any]] = []
    inserted: dict[str, list[dict[str, Any]]] = {}
    server_columns = {
        "commune_code": commune_code,
        "device_id": device_id,
        "received_at": now,
        "sync_id": result.sync_id,
        "site_code": site_code,
    }
    presses = Presses()
    stored_before, refused = _insert_new(conn, commune_code, device_id, prepared, server_columns, correction, presses)
    for kind, record_id, reason, raw in refused:  # a record the database itself would not take
        prepared.invalid.append((kind, record_id, reason, raw))
        prepared.valid[kind] = [item for item in prepared.valid[kind] if item[0] != record_id]
    for kind, items in prepared.valid.items():
        table = RECORD_MODELS[kind].__table__
        existing = stored_before.get(kind, set())
        new_rows = [values for record_id, values, _raw in items if record_id not in existing]
        result.accepted.extend(values["id"] for values in new_rows)
        if new_rows:
            inserted[kind] = new_rows
        if existing:
            stored = _stored_rows(conn, table, commune_code, device_id, list(existing))
            for record_id, values, raw in items:
                if record_id not in existing:
                    continue
                differs = [name for name in _sent_columns(kind) if stored[record_id][name] != values[name]]
                if not differs:
                    result.already_had.append(record_id)
                    continue
                reason = (
                    f"conflict: a {kind} with this id and different content ({', '.join(differs)}) is already "
                    "stored; kept for audit, not overwritten"
                )
                row = _quarantine_row(commune_code, device_id, kind, record_id, reason, raw, now, result)
                quarantine.append(row)
                # A conflict (a restored or cloned kiosk) is not settled: it stays on the kiosk, whose sync keeps
                # saying so until someone looks.
                result.rejected.append({"id": record_id, "type": kind, "reason": row["reason"], "settled": False})
    for kind, record_id, reason, raw in prepared.invalid:
        row = _quarantine_row(commune_code, device_id, kind, record_id, reason, raw, now, result)
        quarantine.append(row)
        # A record that can never be stored is settled: kept here in quarantine (on the fleet page, with its
        # reason) and never sent again, so it cannot hold up the kiosk's later records.
        result.rejected.append({"id": record_id, "type": row["kind"], "reason": row["reason"], "settled": True})
    if quarantine:
        insert_ignore(conn, Quarantine.__table__, quarantine)
    if inserted:  # the reports' rollups and ticket facts, in this same transaction (docs/reports.md)
        apply_batch(conn, commune_code, device_id, inserted, site_code, presses)
    conn.execute(
        insert(SyncLog.__table__).values(
            commune_code=commune_code,
            device_id=device_id,
            id=result.sync_id,
            kind="sync",
            counter=counter,
            received_at=now,
            device_sent_at=prepared.sent_at,
            clock_synced=prepared.clock_synced,
            clock_offset=offset,
            accepted=len(result.accepted),
            already_had=len(result.already_had),
            rejected=len(result.rejected),
            protocol=protocol.PROTOCOL_VERSION,
            remote_addr=(remote_addr or "")[:64] or None,
        )
    )
    return result


def _sent_columns(kind: str) -> Iterable[str]:
    return [name for name in {**protocol.COMMON_FIELDS, **protocol.RECORD_FIELDS[kind]} if name != "id"]


def _quarantine_row(commune_code, device_id, kind, record_id, reason, raw, now, result) -> dict[str, Any]:
    """The quarantine row of a refused record: what made it unstorable is written out as text, so that
    keeping it for audit can never fail the way storing it did (NUL, NaN, huge numbers, deep nesting)."""
    return {
        "commune_code": commune_code,
        "device_id": device_id,
        "record_id": record_id,
        "content_hash": protocol.content_hash(storable(raw, protocol.MAX_OBJECT_DEPTH + 2)),
        "kind": storable(kind)[:32],
        "reason": storable(reason)[:500],
        "payload": storable(raw, protocol.MAX_OBJECT_DEPTH + 2),
        "received_at": now,
        "sync_id": result.sync_id,
    }


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _checked(prepared: Prepared, kind: str, server_columns: dict[str, Any], correction: float | None, presses: Presses):
    """The column values of ``kind``'s records, each checked as it is read (for COPY to stream them); a record
    whose fields fail, or whose time corrected by the clock offset falls outside the years a record may have,
    goes to ``prepared.invalid``, one that passes to ``prepared.valid`` (a rating is also counted for the
    rollups: this work overlaps the database's). The generator itself never raises, so a failed COPY can
    always read it to the end."""
    valid, invalid = prepared.valid.setdefault(kind, []), prepared.invalid
    count = presses.add if kind == "rating" else None
    parse, check_text = protocol.parser(kind), prepared.check_text
    earliest, latest = protocol.EARLIEST, protocol.LATEST
    for record_id, raw in prepared.raw.get(kind, []):
        try:
            values = parse(raw, check_text)
            # (a time the offset does not shift was checked by the parser: it is within the years)
            shift = None if correction is None or values["clock_synced"] else correction
            when = values["device_time"] if shift is None else values["device_time"] + timedelta(seconds=shift)
        except (ValueError, OverflowError) as exc:
            invalid.append((kind, record_id, f"invalid: {exc}", raw))
            continue
        if shift is not None and not earliest <= when < latest:
            reason = (
                f"invalid: device time {values['device_time']:%Y-%m-%d %H:%M} corrected by the clock offset "
                f"({shift:+.0f} s) falls outside {earliest.year}–{latest.year - 1}"
            )
            invalid.append((kind, record_id, reason, raw))
            continue
        values.update(server_columns)
        values["clock_offset"] = shift
        values["corrected_time"] = when
        valid.append((record_id, values, raw))
        if count is not None:
            count(values)
        yield values


def _insert_new(
    conn: Connection,
    commune_code: str,
    device_id: str,
    prepared: Prepared,
    server_columns: dict[str, Any],
    correction: float | None,
    presses: Presses,
) -> tuple[dict[str, set[str]], list[tuple[str, str, str, dict]]]:
    """Check and insert the records not stored yet; returns, per type, the ids that were already stored, and the
    records the database refused (kind, id, reason, raw) — quarantined by the caller, never a failed batch.

    First delivery is the common case, so every record is checked and inserted in one pass under one savepoint
    (COPY takes the rows as they are checked); only if that meets a stored id (a resend) are the stored ids
    looked up and the rest inserted. Batches of one device are serialised by the counter row lock, and other
    devices' rows have other keys, so nothing can slip in between the lookup and the insert. If the database
    refuses the rows for another reason (a value that passed every check but not the database), they are
    inserted one by one and the refused ones set aside: one bad record never costs the others.
    """
    kinds = list(prepared.raw)
    streams = {kind: _checked(prepared, kind, server_columns, correction, presses) for kind in kinds}
    try:
        with conn.begin_nested():
            for kind in kinds:
                _insert(conn, RECORD_MODELS[kind].__table__, streams[kind])
        return {}, []
    except _UNIQUE_VIOLATIONS:
        log.info("device %s resent records; storing only the new ones", device_id)
    except _DATABASE_ERRORS as exc:
        log.warning("device %s: the database refused a batch (%s); storing its records one by one", device_id, exc)
    for stream in streams.values():  # the records the failed attempt did not reach are checked all the same
        for _values in stream:
            pass
    presses.alike.clear()  # only the records not stored before count
    existing, refused = {}, []
    for kind in kinds:
        table, items = RECORD_MODELS[kind].__table__, prepared.valid[kind]
        existing[kind] = _existing_ids(conn, table, commune_code, device_id, [i for i, _v, _r in items])
        fresh = [item for item in items if item[0] not in existing[kind]]
        if not fresh:
            continue
        bad = _insert_guarded(conn, table, fresh)
        refused.extend((kind, *item) for item in bad)
        if kind == "rating":
            dropped = {record_id for record_id, _reason, _raw in bad}
            for record_id, values, _raw in fresh:
                if record_id not in dropped:
                    presses.add(values)
    return existing, refused


def _insert_guarded(conn: Connection, table: Table, items: list[tuple[str, dict, dict]]) -> list[tuple[str, str, dict]]:
    """Insert new rows; those the database refuses come back as (id, reason, raw), the rest are stored."""
    refusals = _DATABASE_ERRORS + _UNIQUE_VIOLATIONS  # these rows are new: a constraint refusing them is a rule
    try:
        with conn.begin_nested():
            _insert(conn, table, [values for _id, values, _raw in items])
        return []
    except refusals:
        pass
    refused = []
    for record_id, values, raw in items:
        try:
            with conn.begin_nested():
                _insert(conn, table, [values])
        except refusals as exc:
            first = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
            refused.append((record_id, f"invalid: the database refused it ({first})", raw))
    return refused


def _existing_ids(conn: Connection, table: Table, commune_code: str, device_id: str, ids: list[str]) -> set[str]:
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.execute(
            f"SELECT id::text FROM {table.name} WHERE commune_code = %s AND device_id = %s AND id = ANY(%s::uuid[])",
            (commune_code, device_id, ids),
        )
        return {r[0] for r in cursor}
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(
            conn.execute(
                select(table.c.id).where(
                    table.c.commune_code == commune_code, table.c.device_id == device_id, table.c.id.in_(chunk)
                )
            ).scalars()
        )
    return found


def _stored_rows(conn: Connection, table: Table, commune_code: str, device_id: str, ids: list[str]) -> dict:
    rows = {}
    for chunk in _chunks(ids):
        query = select(table).where(
            table.c.commune_code == commune_code, table.c.device_id == device_id, table.c.id.in_(chunk)
        )
        rows.update({r.id: r._mapping for r in conn.execute(query)})
    return rows


def _insert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert rows known to be new: COPY on PostgreSQL (the fastest path into a table, taking the rows as they
    come), executemany elsewhere."""
    if conn.dialect.name != "postgresql":
        rows = list(rows)
        if rows:
            conn.execute(insert(table), rows)
        return
    columns = [c.name for c in table.columns]
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        if json_columns:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c], ensure_ascii=False) if c in json_columns and row[c] is not None else row[c]
                        for c in columns
                    ]
                )
        else:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on PostgreSQL or SQLite."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    conn.execute(dialect_insert(table).on_conflict_do_nothing(), rows)
