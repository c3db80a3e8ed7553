"""The reference the generated record checkers (sync.record_checks) must equal: one plain loop over the field
list of sync.record_schema, one test per field kind. Slow, and plain to read."""

from __future__ import annotations

from datetime import date
from typing import Any

from common.safe_text import BAD_CHAR, describe_char, json_problem
from sync.record_schema import (
    ALLOWED_KEYS,
    BOOL,
    DATE,
    DATETIME,
    EARLIEST,
    FIELDS,
    INT,
    INT32,
    INT64,
    LATEST,
    MAX_OBJECT_DEPTH,
    SEQ,
    TEXT,
    UUID,
    UUID_RE,
    WANTED,
    parse_datetime,
    unknown_type,
)


def parse_record_reference(record: dict, check_text: bool = True) -> dict[str, Any]:
    """sync.record_checks.parse_record as one loop over the field list."""
    kind = record["type"]
    fields = FIELDS.get(kind)
    if fields is None:
        raise ValueError(unknown_type(kind))
    if not ALLOWED_KEYS[kind].issuperset(record):
        extra = sorted(set(record) - ALLOWED_KEYS[kind])
        raise ValueError(f"unknown field(s) {', '.join(extra)} for a {kind}")
    values: dict[str, Any] = {}
    for name, code, limit, optional, _later in fields:
        value = record.get(name)
        if value is None:
            ok = optional
        elif code == TEXT:
            ok = type(value) is str and len(value) <= limit
            if ok and check_text and BAD_CHAR.search(value):
                raise ValueError(f"field {name} contains {describe_char(BAD_CHAR.search(value).group())}")
        elif code == UUID:
            ok = type(value) is str and UUID_RE.match(value) is not None
        elif code == INT:
            ok = type(value) is int and -INT32 <= value <= INT32
        elif code == BOOL:
            ok = type(value) is bool
        elif code == DATETIME:
            value = parse_datetime(value)
            ok = value is not None
            if ok and not EARLIEST <= value < LATEST:
                raise ValueError(f"field {name} is {value:%Y-%m-%d}, outside {EARLIEST.year}–{LATEST.year - 1}")
        elif code == SEQ:
            ok = type(value) is int and 0 < value <= INT64
        elif code == DATE:
            try:
                value, ok = date.fromisoformat(value), True
            except (TypeError, ValueError):
                ok = False
            if ok and not EARLIEST.date() <= value < LATEST.date():
                raise ValueError(f"field {name} is {value}, outside {EARLIEST.year}–{LATEST.year - 1}")
        else:
            ok = type(value) is dict
            problem = json_problem(value, MAX_OBJECT_DEPTH, name) if ok else None
            if problem:
                raise ValueError(f"field {problem[0]} holds {problem[1]}")
        if not ok:
            raise ValueError(f"field {name} must be {WANTED[code].format(limit)}")
        values[name] = value
    return values
