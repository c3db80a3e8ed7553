"""A clean batch read straight into typed records: the fast way in for the batches nearly every kiosk sends.

:func:`read` parses a batch's JSON with msgspec into one typed record per element of ``records``, checking
in C what the reference checkers (:mod:`sync.record_checks`) check in Python: the record types and their fields
(no unknown field, text lengths, whole numbers within bounds, true/false, lower-case UUIDs). The per-type
row builders (:func:`row_builder`) then do the remaining checks — times and days read by the same
``fromisoformat`` as the reference, their years, a clock correction, a clerk action's detail — while they
make the database rows. Both the types and the builders are made from the fields of :mod:`sync.record_schema`.

It is only a faster way to the same answer. Whenever the batch or a record is anything but clean —
a field that fails, an escape (``\\u``), a character no database of ours can store, a number past 64 bits,
JSON that only Python's json reads (NaN, a surrogate), a type named twice differently, a record id seen
twice — :func:`read` returns ``None`` or a row builder raises :class:`Declined`, and the server reads the
batch the reference way
(:func:`sync.protocol.parse_batch`, :func:`central.ingest.prepare`), which gives every answer and
message exactly as before: a refused field still quarantines only its record. A test keeps both ways equal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Annotated, Any

import msgspec

from sync import protocol
from sync.record_checks import CHECK_NAMES
from sync.record_schema import (
    BOOL,
    DATE,
    DATETIME,
    FIELDS,
    INT,
    INT32,
    INT64,
    OBJECT,
    PRESS_FIELDS,
    SEQ,
    TEXT,
    UUID,
    correct_time,
    press_key,
)

#: Columns the server adds to every record's own (their values come with the batch: see row_builder).
SERVER_COLUMNS = ("commune_code", "device_id", "received_at", "sync_id", "site_code")


class Declined(Exception):
    """A record needs the reference checks (its message, its quarantine): read the batch the reference way."""


def _field_type(code: int, limit: int) -> Any:
    if code == TEXT:
        return Annotated[str, msgspec.Meta(max_length=limit)]
    if code == INT:
        return Annotated[int, msgspec.Meta(ge=-INT32, le=INT32)]
    if code == SEQ:
        return Annotated[int, msgspec.Meta(gt=0, le=INT64)]
    if code == BOOL:
        return bool
    if code == UUID:  # its form is checked for the whole batch at once (_uuids_ok): a pattern here costs more
        return Annotated[str, msgspec.Meta(min_length=36, max_length=36)]
    if code in (DATE, DATETIME):
        return str  # read by date/datetime.fromisoformat in the row builder, as the reference does
    if code == OBJECT:
        return dict
    raise AssertionError(code)


def _record_struct(kind: str) -> type[msgspec.Struct]:
    fields = []
    for name, code, limit, optional, _later in FIELDS[kind]:
        kind_type = _field_type(code, limit)
        fields.append((name, kind_type | None, None) if optional else (name, kind_type))
    # gc=False: a record holds text, numbers and at most a parsed JSON object, never itself: the garbage
    # collector need not track the thousands a batch brings (fewer collections while a batch is read)
    return msgspec.defstruct(
        f"Typed_{kind}", fields, tag=kind, tag_field="type", forbid_unknown_fields=True, kw_only=True, gc=False
    )


RECORD_STRUCTS: dict[str, type[msgspec.Struct]] = {kind: _record_struct(kind) for kind in FIELDS}
_KIND_OF = {struct: kind for kind, struct in RECORD_STRUCTS.items()}
_Record = RECORD_STRUCTS["ticket"]
for _struct in list(RECORD_STRUCTS.values())[1:]:
    _Record = _Record | _struct  # type: ignore[assignment]


class _Envelope(msgspec.Struct):
    """The envelope's own fields are left untyped: :func:`sync.protocol.check_envelope` checks them."""

    records: list[_Record]  # type: ignore[valid-type]
    v: Any = None
    device: Any = None
    commune: Any = None
    sent_at: Any = None
    clock_synced: Any = None
    status: Any = None


_DECODER = msgspec.json.Decoder(_Envelope)


@dataclass
class TypedBatch:
    """A batch read by :func:`read`: its envelope (as a dict, records included) and its records by type."""

    envelope: dict[str, Any]
    by_kind: dict[str, list[Any]]
    #: The batch's JSON text, for reading it the reference way when a record declines.
    text: bytes


def read(text: bytes) -> TypedBatch | None:
    """The batch's typed records, or ``None`` when it must be read the reference way (see the module)."""
    # any \u escape (a kiosk writes none), or a character no database of ours can store
    if protocol.has_escape(text) or protocol.may_hold_unstorable(text):
        return None
    try:
        # (a record naming its type twice is refused unless both agree; a number past 64 bits in a clerk
        # action's detail is declined by its row builder, one too long to read here by msgspec)
        batch = _DECODER.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, ValueError):
        return None
    records = batch.records
    by_kind: dict[str, list[Any]] = {}
    add = {}
    for struct, kind in _KIND_OF.items():
        add[struct] = by_kind.setdefault(kind, []).append
    for record in records:
        add[type(record)](record)
    if len({record.id for record in records}) != len(records):  # the reference way refuses it, saying which
        return None
    if not all(_uuids_ok(kind, kind_records) for kind, kind_records in by_kind.items() if kind_records):
        return None
    envelope = {
        "v": batch.v,
        "device": batch.device,
        "commune": batch.commune,
        "sent_at": batch.sent_at,
        "clock_synced": batch.clock_synced,
        "status": batch.status,
        "records": records,
    }
    # the types in the order the batch first names them, as the reference way stores them
    ordered = {_KIND_OF[struct]: by_kind[_KIND_OF[struct]] for struct in dict.fromkeys(map(type, records))}
    return TypedBatch(envelope, ordered, text)


#: Maps a lower-case hexadecimal digit to "x", "-" and line feed to themselves, any other byte to "?".
_UUID_SHAPE = bytes(120 if chr(i) in "0123456789abcdef" else i if chr(i) in "-\n" else 63 for i in range(256))
_ONE_UUID = b"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n"
_UUID_FIELDS = {
    kind: [(attrgetter(f.name), f.optional) for f in fields if f.code == UUID] for kind, fields in FIELDS.items()
}


def _uuids_ok(kind: str, records: list[Any]) -> bool:
    """Whether every UUID field of these records is a lower-case UUID (record_schema.UUID_RE; one ending in a line
    feed, which UUID_RE lets pass, is left to the reference way). Each value has 36 characters (msgspec
    checked), so the values joined, one per line, must have exactly the shape of as many UUIDs."""
    for get, optional in _UUID_FIELDS[kind]:
        values = list(filter(None, map(get, records))) if optional else list(map(get, records))
        if not values:
            continue
        joined = ("\n".join(values) + "\n").encode()
        if joined.translate(_UUID_SHAPE) != _ONE_UUID * len(values):
            return False
    return True


#: A row builder: (records, server column values, clock correction, Counter of presses or None) → rows.
RowBuilder = Callable[[list[Any], tuple, "float | None", "Counter | None"], Iterator[tuple]]


def row_columns(kind: str) -> tuple[str, ...]:
    """The columns of the rows :func:`row_builder` makes for ``kind``, in their order."""
    return (*(f.name for f in FIELDS[kind]), *SERVER_COLUMNS, "clock_offset", "corrected_time")


def _compile(kind: str) -> RowBuilder:
    """The row builder of one record type, written out field by field (it runs for every record received).

    It yields each record's row (:func:`row_columns`) as the server stores it, raising :class:`Declined` at the
    first record the reference checks would refuse; ``presses`` (ratings) counts the presses alike
    (:func:`sync.record_schema.press_key`) as :class:`central.reports.rollups.Presses` does."""
    server = [f"server{i}" for i in range(len(SERVER_COLUMNS))]  # the server's values, one local each
    lines = [
        "def rows(records, server, correction, presses):",
        f"    {', '.join(server)} = server",
        "    for r in records:",
    ]
    values = []
    for name, code, _limit, optional, _later in FIELDS[kind]:
        assert not (optional and code in (DATE, DATETIME)), "an optional time needs its None handled here"
        if code == DATETIME:
            lines += [
                "        try:",
                f"            {name} = fromisoformat(r.{name})",
                f"            if {name}.tzinfo is not None:",
                f"                {name} = {name}.astimezone(UTC).replace(tzinfo=None)",
                "        except (ValueError, OverflowError):",
                "            raise Declined from None",
                f"        if not EARLIEST <= {name} < LATEST:",
                "            raise Declined",
            ]
            values.append(name)
        elif code == DATE:
            lines += [
                "        try:",
                f"            {name} = date.fromisoformat(r.{name})",
                "        except ValueError:",
                "            raise Declined from None",
                f"        if not EARLIEST_DAY <= {name} < LATEST_DAY:",
                "            raise Declined",
            ]
            values.append(name)
        elif code == OBJECT:
            lines += [
                f"        {name} = r.{name}",
                f"        if {name} is not None and json_problem({name}, MAX_OBJECT_DEPTH, {name!r}):",
                "            raise Declined",
            ]
            values.append(name)
        else:
            values.append(f"r.{name}")
    lines += [
        "        try:",
        "            shift, when = correct_time(device_time, r.clock_synced, correction)",
        "        except (ValueError, OverflowError):",
        "            raise Declined from None",
    ]
    if kind == "rating":
        alike = ", ".join(f"r.{name}" for name in PRESS_FIELDS)
        lines += ["        if presses is not None:", f"            presses[press_key(when, {alike})] += 1"]
    lines.append(f"        yield ({', '.join([*values, *server])}, shift, when)")
    scope = {**CHECK_NAMES, "Declined": Declined, "correct_time": correct_time, "press_key": press_key}
    exec(compile("\n".join(lines), f"<row builder: {kind}>", "exec"), scope)  # noqa: S102 - our own field list
    return scope["rows"]


_BUILDERS: dict[str, RowBuilder] = {kind: _compile(kind) for kind in FIELDS}


def row_builder(kind: str) -> RowBuilder:
    return _BUILDERS[kind]
