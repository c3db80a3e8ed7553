"""What text and JSON values every database of ours can store: the rules both ends of the wire share.

PostgreSQL refuses NUL in text and NaN or Infinity in JSON; no UTF-8 encoder takes a lone surrogate;
SQLite and PostgreSQL integers stop at 64 bits. The device refuses such input at the door
(``common.web.input_guard``); the central server checks every record against the same rules and quarantines the
ones that break them (``sync.protocol``), so one bad value never blocks the rest of a kiosk's records.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: C0 controls except tab, line feed and carriage return; DEL and the C1 controls; lone UTF-16 surrogates.
BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
INT64 = 2**63 - 1


class Unreadable:
    """Stands in for a value a JSON parser met but must not hand on (a 5,000-digit number, NaN): the
    check that walks the parsed tree then names the field it was in."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __str__(self) -> str:
        return self.what


def parse_int(text: str) -> int | Unreadable:
    """``parse_int`` for ``json.loads``: past 19 digits a marker, not a (slow, unstorable) Python int."""
    digits = len(text.lstrip("-"))
    return int(text) if digits <= 19 else Unreadable(f"a number of {digits} digits (too large to store)")


def describe_char(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone surrogate U+{code:04X} (not valid Unicode)"
    return f"the control character U+{code:04X}"


def text_problem(value: str) -> tuple[int, str] | None:
    """(position, description) of the first character no database of ours can store, or None."""
    bad = BAD_CHAR.search(value)
    return (bad.start(), describe_char(bad.group())) if bad else None


def json_problem(value: Any, max_depth: int, path: str = "") -> tuple[str, str, str] | None:
    """(field path, what is wrong, reason code) of the first value in a parsed JSON tree that cannot be stored.

    None when every value can be stored. Reason codes: ``too_deep``, ``bad_number``, ``bad_character``.

    Checks nesting depth, non-finite numbers, integers past 64 bits, and bad characters in keys and text;
    iterative, so a deep tree cannot exhaust the stack.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > max_depth:
            return where, f"nesting deeper than {max_depth} levels", "too_deep"
        if isinstance(item, str):
            found = text_problem(item)
            if found:
                return where, found[1], "bad_character"
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -INT64 <= item <= INT64:
                return where, "an integer too large to store", "bad_number"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return where, f"the number {item} (not a number JSON allows)", "bad_number"
        elif isinstance(item, Unreadable):
            return where, item.what, "bad_number"
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                if not isinstance(key, str):
                    return name, "a key that is not text", "bad_key"
                found = text_problem(key)
                if found:
                    return storable(name[:80]), found[1], "bad_character"
                stack.append((child, name, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
        else:
            return where, f"a value of type {type(item).__name__}", "bad_value"
    return None


def storable(value: Any, max_depth: int = 8) -> Any:
    """A copy of a JSON tree that any database accepts: bad characters, non-finite numbers, huge integers
    and anything deeper than ``max_depth`` written out as plain text (for keeping refused records for audit)."""
    if isinstance(value, str):
        return BAD_CHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -INT64 <= value <= INT64 else f"{str(value)[:30]}… ({len(str(value))} digits)"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Unreadable):
        return str(value)
    if max_depth <= 0:
        return "… (nested too deeply)"
    if isinstance(value, dict):
        return {storable(str(k)): storable(v, max_depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v, max_depth - 1) for v in value]
    return storable(str(value))
