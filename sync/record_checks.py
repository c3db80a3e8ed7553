"""The checker of each record type, generated from its fields (:mod:`sync.record_schema`).

It runs for every record the server reads the reference way, so each type's checker is written out field by
field (:func:`compile_checker`) rather than looping over the fields with a test per kind. What it must answer —
the values, or the first bad field and the message naming it — is the plain loop over the field list kept in
tests/sync/reference_checker.py; a test gives both thousands of hostile records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
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
    unknown_type,
)

#: A record type's checker: (record, check_text) → its column values, or ValueError naming the first bad field.
Checker = Callable[[dict, bool], dict[str, Any]]


def parse_record(record: dict, check_text: bool = True) -> dict[str, Any]:
    """The record's column values, typed; raises ValueError naming the first bad field.

    ``check_text=False`` skips the search for unstorable characters (the batch's text has none: see
    :class:`sync.protocol.Batch`).
    """
    parse = _CHECKERS.get(record["type"])
    if parse is None:
        raise ValueError(unknown_type(record["type"]))
    return parse(record, check_text)


def checker(kind: str) -> Checker:
    """The checker :func:`parse_record` uses for records of ``kind`` (a known type), for a caller checking many."""
    return _CHECKERS[kind]


def refusal(name: str, code: int, limit: int) -> ValueError:
    """The error of a field whose value is not of its kind."""
    return ValueError(f"field {name} must be {WANTED[code].format(limit)}")


def out_of_years(name: str, value: date) -> ValueError:
    """The error of a time or day outside the years a record may have."""
    shown = f"{value:%Y-%m-%d}" if isinstance(value, datetime) else str(value)
    return ValueError(f"field {name} is {shown}, outside {EARLIEST.year}–{LATEST.year - 1}")


#: The names a generated checker reads times, days and objects with (also sync.typed_batch's row builders).
CHECK_NAMES: dict[str, Any] = {
    "fromisoformat": datetime.fromisoformat,
    "UTC": UTC,
    "date": date,
    "json_problem": json_problem,
    "EARLIEST": EARLIEST,
    "LATEST": LATEST,
    "EARLIEST_DAY": EARLIEST.date(),
    "LATEST_DAY": LATEST.date(),
    "MAX_OBJECT_DEPTH": MAX_OBJECT_DEPTH,
}


def compile_checker(kind: str) -> Checker:
    """The checker of one record type, written out field by field (it runs for every record received)."""
    lines = [
        "def parse(record, check_text):",
        "    if not allowed.issuperset(record):",
        "        extra = sorted(set(record) - allowed)",
        f"        raise ValueError(f'unknown field(s) {{\", \".join(extra)}} for a {kind}')",
        "    get = record.get",
    ]
    for number, (name, code, limit, optional, _later) in enumerate(FIELDS[kind]):
        fail = f"raise refusal({name!r}, {code}, {limit})"
        lines += [f"    value = get({name!r})", "    if value is None:", f"        {'pass' if optional else fail}"]
        lines += _value_check(name, code, limit, fail)
        lines.append(f"    f{number} = value")
    lines.append("    return {" + ", ".join(f"{f.name!r}: f{n}" for n, f in enumerate(FIELDS[kind])) + "}")
    scope = {
        **CHECK_NAMES,
        "allowed": ALLOWED_KEYS[kind],
        "refusal": refusal,
        "out_of_years": out_of_years,
        "bad_char": BAD_CHAR.search,
        "uuid_match": UUID_RE.match,
        "describe_char": describe_char,
        "INT32": INT32,
        "INT64": INT64,
    }
    exec(compile("\n".join(lines), f"<record checker: {kind}>", "exec"), scope)  # noqa: S102 - our own field list
    return scope["parse"]


def _value_check(name: str, code: int, limit: int, fail: str) -> list[str]:
    """The lines that check a present value of one field (``elif`` / ``else`` branches after its None test)."""
    if code == TEXT:
        return [
            f"    elif type(value) is not str or len(value) > {limit}:",
            f"        {fail}",
            "    elif check_text and bad_char(value):",
            f"        raise ValueError('field {name} contains ' + describe_char(bad_char(value).group()))",
        ]
    if code == UUID:
        return ["    elif type(value) is not str or uuid_match(value) is None:", f"        {fail}"]
    if code == INT:
        return ["    elif type(value) is not int or not -INT32 <= value <= INT32:", f"        {fail}"]
    if code == BOOL:
        return ["    elif type(value) is not bool:", f"        {fail}"]
    if code == SEQ:
        return ["    elif type(value) is not int or not 0 < value <= INT64:", f"        {fail}"]
    if code == DATETIME:
        return [
            "    elif type(value) is not str:",
            f"        {fail}",
            "    else:",
            "        try:",
            "            value = fromisoformat(value)",
            "        except ValueError:",
            f"            {fail}",
            "        if value.tzinfo is not None:",
            "            try:",
            "                value = value.astimezone(UTC).replace(tzinfo=None)",
            "            except OverflowError:",  # a time no UTC year holds: 9999-12-31T23:59:59-14:00
            f"                {fail}",
            "        if not EARLIEST <= value < LATEST:",
            f"            raise out_of_years({name!r}, value)",
        ]
    if code == DATE:
        return [
            "    else:",
            "        try:",
            "            value = date.fromisoformat(value)",
            "        except (TypeError, ValueError):",
            f"            {fail}",
            "        if not EARLIEST_DAY <= value < LATEST_DAY:",
            f"            raise out_of_years({name!r}, value)",
        ]
    return [  # OBJECT
        "    elif type(value) is not dict:",
        f"        {fail}",
        f"    elif problem := json_problem(value, MAX_OBJECT_DEPTH, {name!r}):",
        "        raise ValueError(f'field {problem[0]} holds {problem[1]}')",
    ]


_CHECKERS: dict[str, Checker] = {kind: compile_checker(kind) for kind in FIELDS}
