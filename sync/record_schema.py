"""The records a kiosk sends, declared once: the fields of each type and the rules a record's values keep.

A record type is a list of :class:`Field` (name, kind, text limit, optional): the fields every record carries
(:data:`COMMON_FIELDS`), then the type's own (:data:`RECORD_FIELDS`); :data:`FIELDS` has both, in order. Every
way of reading or writing a record is made from this declaration: the checker of each type
(:mod:`sync.record_checks`, generated), the typed records and row builders of the server's fast way in
(:mod:`sync.typed_batch`), a device row's wire form (:func:`sync.protocol.to_wire`). The fields match the device
tables in ``kiosk.models`` and the server's in ``central.models`` (tests/sync keeps them in step).

The rules the server applies to a stored record live here too: :func:`correct_time` (the clock correction of
a time the device's clock did not have right) and :func:`press_key` (which presses the reports count together).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

#: Field kinds (small numbers: the generated checkers compare them and write them into their code).
TEXT, INT, BOOL, UUID, DATE, DATETIME, OBJECT, SEQ = range(8)
#: What a value of each kind must be, as a refusal says it (``{}``: the field's text limit).
WANTED = {
    TEXT: "text of at most {} characters",
    INT: "a whole number",
    BOOL: "true or false",
    UUID: "a lower-case UUID",
    DATE: "a date YYYY-MM-DD",
    DATETIME: "an ISO 8601 time",
    OBJECT: "an object",
    SEQ: "a positive whole number",
}

#: Times a record may carry (device time, business day, the batch's sent_at): outside, it is quarantined.
EARLIEST = datetime(2020, 1, 1)
LATEST = datetime(2101, 1, 1)
#: Deepest nesting of an object field (a clerk action's detail).
MAX_OBJECT_DEPTH = 8
#: Bounds of an INT field, and of a SEQ field (which is also above zero).
INT32 = 2**31 - 1
INT64 = 2**63 - 1
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Field(NamedTuple):
    """One field of a record type."""

    name: str
    code: int  # its kind: TEXT, INT, …
    limit: int = 0  # the most characters of a TEXT field
    optional: bool = False  # may be null or left out
    #: Added after the first release: sent only when it holds a value (older servers refuse unknown fields).
    later: bool = False


#: The fields every record carries (besides ``type``).
COMMON_FIELDS: tuple[Field, ...] = (
    Field("id", UUID),
    Field("seq", SEQ),
    Field("device_time", DATETIME),
    Field("clock_synced", BOOL),
)
#: Each record type's own fields.
RECORD_FIELDS: dict[str, tuple[Field, ...]] = {
    "ticket": (
        Field("service_code", TEXT, 16),
        Field("business_day", DATE),
        Field("number", INT),
        Field("display_number", TEXT, 16),
        Field("priority", BOOL),
        Field("channel", TEXT, 16),
        # true for a booked citizen's ticket (checked in by booking code); left out for a walk-in, so a server of
        # an earlier release still takes the ticket
        Field("booked", BOOL, optional=True, later=True),
        # the booking code a ticket was checked in with (booked or late: issue 25), so that the central server
        # counts the day's bookings never checked in (booked no-shows); left out for a walk-in
        Field("booking_code", TEXT, 40, optional=True, later=True),
    ),
    "rating": (
        Field("level", TEXT, 32),
        Field("points", INT),
        Field("channel", TEXT, 16),
        Field("panel", TEXT, 64),
        Field("counted", BOOL),
        Field("flag", TEXT, 64, optional=True),
        Field("counter_number", INT, optional=True),
        Field("ticket_id", UUID, optional=True),
        Field("clerk_id", UUID, optional=True),
        Field("service_code", TEXT, 16, optional=True),
        # the dossier codes (mã hồ sơ) of the rated ticket, separated by spaces; left out of the record when
        # there are none, so a server of the first release still takes the rating
        Field("dossier_codes", TEXT, 550, optional=True, later=True),
        # a visit of several fields (issue 25): the fields served, in order, separated by spaces ("HT CT"); the
        # rating counts once for each of them. Left out for a visit of one field (older servers take the rest)
        Field("services", TEXT, 60, optional=True, later=True),
    ),
    "indicator_answer": (
        Field("rating_id", UUID),
        Field("indicator", TEXT, 16),
        Field("level", TEXT, 32),
        Field("points", INT),
    ),
    "comment": (
        Field("rating_id", UUID, optional=True),
        Field("counter_number", INT, optional=True),
        Field("text", TEXT, 10_000),
        Field("contact", TEXT, 64, optional=True),
        # "suggestion": left in the suggestion box (hòm thư góp ý), not with a rating; left out of the record for a
        # comment made with a rating, so a server of an earlier release still takes those
        Field("source", TEXT, 16, optional=True, later=True),
    ),
    "clerk_action": (
        Field("action", TEXT, 16),
        Field("counter_number", INT, optional=True),
        Field("clerk_id", UUID, optional=True),
        Field("ticket_id", UUID, optional=True),
        Field("detail", OBJECT, optional=True),
    ),
}
#: Every field of each record type, the common ones first: the columns its checker returns, in order.
FIELDS: dict[str, tuple[Field, ...]] = {kind: COMMON_FIELDS + own for kind, own in RECORD_FIELDS.items()}
#: The keys a record of each type may have.
ALLOWED_KEYS: dict[str, frozenset[str]] = {
    kind: frozenset(["type", *(f.name for f in fields)]) for kind, fields in FIELDS.items()
}


def unknown_type(kind: Any) -> str:
    """What is wrong with a record of a type that is not declared."""
    return f"unknown record type {kind!r}; use {', '.join(RECORD_FIELDS)}"


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 time as a naive UTC datetime (an aware one converted), or None when it is not one."""
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: a time no UTC year holds (9999-12-31T23:59-14:00)
        return None
    return moment


def correct_time(device_time: datetime, clock_synced: bool, correction: float | None) -> tuple[float | None, datetime]:
    """The shift applied to a record's device time and the corrected time the server stores.

    ``correction`` is the clock offset (seconds) the server measured of the device while its clock was not
    synchronised, None when it never was; a time the device's clock had right is not shifted. Raises ValueError
    (saying so) when the shifted time falls outside the years a record may have, OverflowError past any date.
    """
    if correction is None or clock_synced:
        return None, device_time
    when = device_time + timedelta(seconds=correction)
    if not EARLIEST <= when < LATEST:
        raise ValueError(
            f"device time {device_time:%Y-%m-%d %H:%M} corrected by the clock offset ({correction:+.0f} s) "
            f"falls outside {EARLIEST.year}–{LATEST.year - 1}"
        )
    return correction, when


def press_key(
    corrected_time: datetime,
    service_code: str | None,
    counter_number: int | None,
    clerk_id: str | None,
    level: str,
    counted: bool,
    points: int,
    channel: str,
) -> tuple:
    """The key a press is counted under in the reports: presses with the same key add to the same rollup rows,
    all counted or all flagged (a press the abuse filter flagged is kept, not counted). It is the hour of the
    press's corrected time, then its values of :data:`PRESS_FIELDS`; :func:`press_values` reads it back."""
    t = corrected_time
    return (t.year, t.month, t.day, t.hour, service_code, counter_number, clerk_id, level, counted, points, channel)


#: The rating fields :func:`press_key` takes after the corrected time, in its order.
PRESS_FIELDS = ("service_code", "counter_number", "clerk_id", "level", "counted", "points", "channel")


def press_values(key: tuple) -> dict[str, Any]:
    """A press key as a rating's values: ``corrected_time`` (the start of its hour) and :data:`PRESS_FIELDS`."""
    return {"corrected_time": datetime(*key[:4]), **dict(zip(PRESS_FIELDS, key[4:], strict=True))}
