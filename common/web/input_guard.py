"""Hostile input stopped at the door: JSON bodies, form fields and query strings of every endpoint.

A value that could never be stored and synced everywhere is refused with a 400 naming the field, before any
view sees it. PostgreSQL refuses NUL in text and NaN in JSON, SQLite and Python refuse integers past 64 bits,
the JSON parser recurses once per nesting level, and a lone surrogate cannot be encoded as UTF-8: each of
these once turned a single bad request into a 500, or a stored record into one that blocked a kiosk's sync.

:func:`parse_json` is the one JSON parser of the device's API (``common.web.jsonapi.read_json``);
:func:`check_text` and :func:`install` cover the forms and query strings of both programs' pages.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from common.errors import KioskError
from common.safe_text import Unreadable, json_problem, text_problem

#: Deepest nesting a body may have; the largest real body (a rating with criteria) is 2 deep.
MAX_DEPTH = 8
#: Longest integer accepted (digits): 10^15 is past any counter, number or count the kiosk stores.
MAX_INT_DIGITS = 15
#: Largest number a route's <int:…> part may be (a counter, a service position): past it the URL is a 404.
MAX_ROUTE_INT = 2**31 - 1


class BadBody(KioskError, ValueError):
    status = 400
    code = "bad_body"


def _parse_int(text: str) -> int | Unreadable:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return Unreadable(f"a number of {digits} digits (at most {MAX_INT_DIGITS} are accepted)")
    return int(text)


def _parse_float(text: str) -> float | Unreadable:
    value = float(text)
    return Unreadable(f"the number {text[:20]} (too large to store)") if math.isinf(value) else value


def _parse_constant(name: str) -> Unreadable:
    return Unreadable(f"{name} (not a number JSON allows)")


def check_text(value: str, field: str) -> None:
    """Raise BadBody (400) when ``value`` holds a character no database of ours can store."""
    found = text_problem(value)
    if found:
        raise BadBody(
            f"Field {field} contains {found[1]}, which the kiosk cannot store; remove it and send again.",
            {"field": field, "reason": "bad_character", "position": found[0]},
        )


def check_value(value: Any) -> None:
    """Refuse a parsed body with nesting past MAX_DEPTH, a refused number, or a bad character in a key or text."""
    found = json_problem(value, MAX_DEPTH)
    if found is None:
        return
    field, what, reason = found
    field = field or "(the body)"
    if reason == "bad_character":
        message = f"Field {field} contains {what}, which the kiosk cannot store; remove it and send again."
    elif reason == "too_deep":
        message = f"The body is nested more than {MAX_DEPTH} levels deep at {field}."
    else:
        message = f"Field {field} holds {what}."
    raise BadBody(message, {"field": field, "reason": reason})


def parse_json(raw: bytes) -> Any:
    """The JSON value of a request body, checked by :func:`check_value`; BadBody (400) with the reason otherwise."""
    try:
        text = raw.decode("utf-8")  # also refuses surrogates encoded as UTF-8 bytes
    except UnicodeDecodeError as exc:
        raise BadBody("The body is not valid UTF-8 text.", {"position": exc.start, "reason": "encoding"}) from exc
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        raise BadBody(
            f"The body is nested too deeply; at most {MAX_DEPTH} levels are accepted.",
            {"field": "(the body)", "reason": "too_deep", "max_depth": MAX_DEPTH},
        ) from None
    except json.JSONDecodeError as exc:
        raise BadBody(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.", {"reason": "syntax"}
        ) from exc
    except ValueError as exc:  # a number Python cannot read
        raise BadBody(f"The body holds a value that cannot be read: {exc}.", {"reason": "bad_number"}) from exc
    check_value(data)
    return data


class BoundedInt(IntegerConverter):
    """``<int:…>`` in a route, but a number past :data:`MAX_ROUTE_INT` does not match (404, not a 500 later)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ROUTE_INT if max is None else max)


def _check_form_and_query() -> None:
    for source, values in (("query", request.args), ("form", request.form if request.method != "GET" else None)):
        if not values:
            continue
        for key, value in values.items(multi=True):
            check_text(key, f"{source} parameter {key[:40]!r}")
            check_text(value, key[:40])


def install(app: Flask) -> None:
    """Bounded route integers and the check of every query string and form (call before adding routes)."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_check_form_and_query)
