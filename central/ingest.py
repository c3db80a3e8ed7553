"""Storing a device's batch: one transaction, every record exactly once, conflicts kept for audit.

:func:`prepare` checks the batch outside any transaction (shape, device, commune, record fields).
:func:`store` then runs in one transaction: it first raises the device's counter (the replay guard — the
row lock also serialises batches of one device), then per record type looks up which ids are already
stored, inserts the new ones (COPY on PostgreSQL) and compares content only for the ids it already had:
equal → "already had" (a harmless resend), different → rejected and kept in ``quarantine``.

The server reads a batch with :func:`prepare_body`: a clean batch — nearly every one — is read typed
(:mod:`sync.typed_batch`, :func:`prepare_typed`) and stored by :func:`_insert_typed`, each type by one COPY of
rows made straight from the typed records, the reports' share (``BatchShare``) worked out while PostgreSQL
takes the ratings. Should a record decline there (a check only the reference reading answers), the batch
meet an id already stored (a resend) or the database refuse a row, that savepoint is rolled back and the
batch is stored the reference way above: same rows, same answers, same quarantine (tests/central/
test_typed_batch.py keeps the two ways equal).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError

from central import fleet_versions
from central.models import MAIN_SITE, RECORD_MODELS, DeviceStatus, Quarantine, SyncLog
from central.reports.localtime import DEFAULT_LOCAL_TIME, LocalTime
from central.reports.rollups import BatchShare, Presses, apply_batch, queue_parents
from central.reports.services_rollup import several_field_completions, several_fields
from common.errors import ConflictError, ForbiddenError, KioskError, ValidationError
from common.safe_text import storable, text_problem
from sync import protocol, record_checks, typed_batch
from sync.record_schema import FIELDS, INT32, MAX_OBJECT_DEPTH, correct_time, unknown_type

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
    #: The records read typed (:func:`prepare_typed`): stored the fast way while every one of them is clean.
    typed: dict[str, list[Any]] | None = None
    #: The same batch prepared the reference way (:func:`prepare`), for when a typed record declines.
    reference: Callable[[], Prepared] | None = None


@dataclass
class BatchResult:
    sync_id: str
    server_time: datetime
    clock_offset: float
    accepted: list[str] = field(default_factory=list)
    already_had: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    #: Whether the batch was stored the typed way (sync.typed_batch), else the reference way.
    typed: bool = False

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
    sent_at, clock_synced, records = _check_envelope(envelope, device_id, commune_code, max_records)
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
            reason = f"invalid: {unknown_type(kind)}"
            prepared.invalid.append((kind[:32], record_id, reason, record))
            continue
        prepared.raw.setdefault(kind, []).append((record_id, record))
    return prepared


def prepare_body(text: bytes, device_id: str, commune_code: str, max_records: int) -> Prepared:
    """Prepare a batch's JSON text as `POST /api/v1/sync` does: read typed when it is clean
    (:func:`sync.typed_batch.read`, :func:`prepare_typed`), else the reference way (:func:`prepare`). Raises
    protocol.ProtocolError for a body that is not a batch."""
    typed = typed_batch.read(text)
    if typed is not None:
        return prepare_typed(typed, device_id, commune_code, max_records)
    return prepare(protocol.parse_batch(text), device_id, commune_code, max_records)


def prepare_typed(batch: typed_batch.TypedBatch, device_id: str, commune_code: str, max_records: int) -> Prepared:
    """:func:`prepare` for a batch read by :func:`sync.typed_batch.read` (the same checks of its envelope); its
    records stay typed, and :attr:`Prepared.reference` prepares it the reference way should one decline."""
    sent_at, clock_synced, records = _check_envelope(batch.envelope, device_id, commune_code, max_records)
    status = _status(batch.envelope.get("status") or {})
    prepared = Prepared(sent_at, clock_synced, status, count=len(records), check_text=False, typed=batch.by_kind)

    def reference() -> Prepared:
        return prepare(protocol.parse_batch(batch.text), device_id, commune_code, max_records)

    prepared.reference = reference
    return prepared


def _check_envelope(envelope: dict, device_id: str, commune_code: str, max_records: int) -> tuple[datetime, bool, list]:
    try:
        sent_at, clock_synced, records = protocol.check_envelope(envelope)
    except protocol.ProtocolError as exc:
        raise ValidationError(str(exc), {"field": exc.field} if exc.field else None) from None
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
    return sent_at, clock_synced, records


def _status(status: dict) -> dict[str, Any]:
    unsynced = status.get("unsynced")

    def text(key: str) -> str | None:
        value = status.get(key)
        return value[:32] if isinstance(value, str) and text_problem(value) is None else None

    return {
        "unsynced": unsynced if type(unsynced) is int and 0 <= unsynced <= INT32 else None,
        "printer": text("printer"),
        "software_version": text("version"),
        "upgrade": fleet_versions.upgrade_columns(status.get("upgrade")),
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
    local_time: LocalTime = DEFAULT_LOCAL_TIME,
) -> BatchResult:
    """Store a prepared batch in the caller's transaction; its records are stored with the kiosk's site, and
    added to the rollups of their local day in ``local_time`` (the server's, ``Central.local_time``)."""
    offset = (now - prepared.sent_at).total_seconds()
    state: dict[str, Any] = dict(last_sync_at=now, clock_offset=offset, clock_synced=prepared.clock_synced)
    state.update({k: v for k, v in prepared.status.items() if v is not None and k != "upgrade"})
    state.update(prepared.status.get("upgrade") or {})  # the last upgrade whole, or as it was
    if not prepared.clock_synced:
        state["unsynced_offset"] = offset
    row = claim_counter(conn, commune_code, device_id, counter, state)
    # Records made while the clock was unsynchronised are shifted by the offset seen now if the clock is
    # still unsynchronised, else by the offset seen at the last sync made while it was (best estimate).
    correction = row.unsynced_offset
    result = BatchResult(str(uuid.uuid4()), now, offset)
    server_columns = {
        "commune_code": commune_code,
        "device_id": device_id,
        "received_at": now,
        "sync_id": result.sync_id,
        "site_code": site_code,
    }
    resent = False
    if prepared.typed is not None:  # a clean batch: its typed records go straight in, unless one declines
        server_row = tuple(server_columns[name] for name in typed_batch.SERVER_COLUMNS)
        share = _gather(conn, prepared.typed, commune_code, device_id, site_code, local_time)
        stored, resent = _insert_typed(conn, prepared.typed, server_row, correction, share)
        if stored is not None:
            result.typed = True
            for rows in stored.values():
                result.accepted.extend(rows.ids())
            share.write(conn)
        else:
            prepared = prepared.reference()
    if not result.typed:
        _store_reference(
            conn, prepared, server_columns, correction, result, first_try=not resent, local_time=local_time
        )
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


def _store_reference(
    conn: Connection,
    prepared: Prepared,
    server_columns: dict[str, Any],
    correction: float | None,
    result: BatchResult,
    first_try: bool,
    local_time: LocalTime,
) -> None:
    """Store a batch prepared the reference way: its new records, its conflicts and refusals in quarantine,
    and their share of the rollups (``first_try``: see :func:`_insert_new`)."""
    commune_code, device_id, now = server_columns["commune_code"], server_columns["device_id"], result.server_time
    quarantine: list[dict[str, Any]] = []
    inserted: dict[str, list[dict[str, Any]]] = {}
    presses = Presses()
    stored_before, refused = _insert_new(
        conn, commune_code, device_id, prepared, server_columns, correction, presses, first_try
    )
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
        apply_batch(conn, commune_code, device_id, inserted, server_columns["site_code"], presses, local_time)


def _sent_columns(kind: str) -> Iterable[str]:
    return [f.name for f in FIELDS[kind] if f.name != "id"]


def _quarantine_row(commune_code, device_id, kind, record_id, reason, raw, now, result) -> dict[str, Any]:
    """The quarantine row of a refused record: what made it unstorable is written out as text, so that
    keeping it for audit can never fail the way storing it did (NUL, NaN, huge numbers, deep nesting)."""
    return {
        "commune_code": commune_code,
        "device_id": device_id,
        "record_id": record_id,
        "content_hash": protocol.content_hash(storable(raw, MAX_OBJECT_DEPTH + 2)),
        "kind": storable(kind)[:32],
        "reason": storable(reason)[:500],
        "payload": storable(raw, MAX_OBJECT_DEPTH + 2),
        "received_at": now,
        "sync_id": result.sync_id,
    }


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _checked(prepared: Prepared, kind: str, server_columns: dict[str, Any], correction: float | None, presses: Presses):
    """The column values of ``kind``'s records, each checked as it is read (for COPY to stream them); a record
    whose fields fail, or whose time corrected by the clock offset (:func:`sync.record_schema.correct_time`)
    falls outside the years a record may have, goes to ``prepared.invalid``, one that passes to
    ``prepared.valid`` (a rating is also counted for the rollups: this work overlaps the database's). The
    generator itself never raises, so a failed COPY can always read it to the end."""
    valid, invalid = prepared.valid.setdefault(kind, []), prepared.invalid
    count = presses.add if kind == "rating" else None
    parse, check_text = record_checks.checker(kind), prepared.check_text
    for record_id, raw in prepared.raw.get(kind, []):
        try:
            values = parse(raw, check_text)
            shift, when = correct_time(values["device_time"], values["clock_synced"], correction)
        except (ValueError, OverflowError) as exc:
            invalid.append((kind, record_id, f"invalid: {exc}", raw))
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
    first_try: bool = True,
) -> tuple[dict[str, set[str]], list[tuple[str, str, str, dict]]]:
    """Check and insert the records not stored yet; returns, per type, the ids that were already stored, and the
    records the database refused (kind, id, reason, raw) — quarantined by the caller, never a failed batch.

    First delivery is the common case, so every record is checked and inserted in one pass under one savepoint
    (COPY takes the rows as they are checked); only if that meets a stored id (a resend) are the stored ids
    looked up and the rest inserted. Batches of one device are serialised by the counter row lock, and other
    devices' rows have other keys, so nothing can slip in between the lookup and the insert. If the database
    refuses the rows for another reason (a value that passed every check but not the database), they are
    inserted one by one and the refused ones set aside: one bad record never costs the others. ``first_try``
    false skips that first pass (the typed way in already met a stored id).
    """
    kinds = list(prepared.raw)
    streams = {kind: _checked(prepared, kind, server_columns, correction, presses) for kind in kinds}
    try:
        if not first_try:
            raise _Resent
        with conn.begin_nested():
            for kind in kinds:
                _insert(conn, RECORD_MODELS[kind].__table__, streams[kind])
        return {}, []
    except (*_UNIQUE_VIOLATIONS, _Resent):
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


class _Resent(Exception):
    """The batch holds records already stored (found by the typed way in)."""


class StoredRows(Sequence):
    """Rows just stored the typed way, kept as the tuples COPY took; read as dicts (column → value) by the
    rollups, which look at a few of them."""

    def __init__(self, columns: tuple[str, ...], rows: list[tuple]) -> None:
        self.columns, self.rows, self._id = columns, rows, columns.index("id")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:  # type: ignore[override]
        return dict(zip(self.columns, self.rows[index], strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        columns = self.columns
        return (dict(zip(columns, row, strict=True)) for row in self.rows)

    def ids(self) -> list[str]:
        return list(map(itemgetter(self._id), self.rows))

    def by_id(self, wanted: set[str] | None = None) -> dict[str, dict[str, Any]]:
        """Rows by id (only the ``wanted`` ones, when given)."""
        columns, rows = self.columns, dict(zip(self.ids(), self.rows, strict=True))
        if wanted is None:
            return {key: dict(zip(columns, row, strict=True)) for key, row in rows.items()}
        return {key: dict(zip(columns, rows[key], strict=True)) for key in wanted if key in rows}


def _gather(
    conn: Connection, typed: dict[str, list[Any]], commune_code: str, device_id: str, site: str, local_time: LocalTime
) -> BatchShare:
    """Read what the batch's share of the rollups needs of earlier batches (before its rows are stored)."""
    share = BatchShare(commune_code, device_id, site, local_time)
    share.gather(
        conn,
        {x.id for x in typed.get("rating", ())},
        {x.rating_id for x in typed.get("indicator_answer", ())},
        {x.id for x in typed.get("ticket", ())},
        queue_parents((x.ticket_id, x.action) for x in typed.get("clerk_action", ())),
        (x.ticket_id for x in typed.get("rating", ()) if several_fields(x.counted, x.services)),
        several_field_completions((x.ticket_id, x.action, x.detail) for x in typed.get("clerk_action", ())),
    )
    return share


#: The order the typed way stores the types in: the ratings (the most) last, so that the share of the rollups is
#: computed while the database takes them.
_TYPED_ORDER = ("comment", "indicator_answer", "ticket", "clerk_action", "rating")


def _insert_typed(
    conn: Connection,
    typed: dict[str, list[Any]],
    server_row: tuple,
    correction: float | None,
    share: BatchShare,
) -> tuple[dict[str, StoredRows] | None, bool]:
    """Store a clean batch's typed records under one savepoint, one COPY per type, and compute the batch's
    ``share`` of the rollups. Returns the stored rows by type, or ``None`` (nothing stored: the savepoint is rolled
    back) when a record declines (it needs the reference checks), the batch holds an id already stored (a resend:
    the second value says so), or the database refuses a row.

    The database takes a COPY's rows on its own core while this one makes the next ones, and the share is
    computed while it takes the last of the ratings (most of the rows; sent last for that)."""
    stored: dict[str, StoredRows] = {}
    presses = Presses()
    kinds = sorted(typed, key=_TYPED_ORDER.index)

    def compute() -> None:
        empty: list = []
        share.compute(
            stored.get("rating", empty),
            stored.get("indicator_answer", empty),
            stored.get("ticket", empty),
            stored.get("clerk_action", empty),
            presses,
        )

    try:
        with conn.begin_nested():
            for kind in kinds:
                alike = presses.alike if kind == "rating" else None
                rows = typed_batch.row_builder(kind)(typed[kind], server_row, correction, alike)
                stored[kind] = StoredRows(typed_batch.row_columns(kind), [])  # (filled as the rows are sent)
                last = kind == kinds[-1]
                _copy_rows(conn, RECORD_MODELS[kind].__table__, stored[kind], rows, compute if last else None)
        return stored, False
    except _UNIQUE_VIOLATIONS:
        resent = True
    except (typed_batch.Declined, *_DATABASE_ERRORS):
        resent = False
    return None, resent


def _copy_rows(
    conn: Connection, table: Table, stored: StoredRows, rows: Iterable[tuple], meanwhile: Callable[[], None] | None
) -> None:
    """COPY rows given as tuples in ``stored.columns`` order, keeping each in ``stored``; JSON columns are written
    as their JSON text, as :func:`_insert` does. ``meanwhile`` runs once every row is sent, while the database
    may still be taking them."""
    columns, keep = stored.columns, stored.rows.append
    if conn.dialect.name != "postgresql":
        for row in rows:
            keep(row)
        if meanwhile is not None:
            meanwhile()
        if stored.rows:
            conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in stored.rows])
        return
    json_at = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        write = copy.write_row
        if not json_at:
            for row in rows:
                keep(row)
                write(row)
        else:
            for row in rows:
                keep(row)
                values = list(row)
                for i in json_at:
                    if values[i] is not None:
                        values[i] = json.dumps(values[i], ensure_ascii=False)
                write(values)
        if meanwhile is not None:
            meanwhile()


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
