"""What a rating may carry: indicator answers, a comment and a contact, checked before anything is stored.

The web API refuses hostile JSON at the door (``common.web.input_guard``); these checks hold for every caller of the
rating service, so text that could never be synced (a NUL, a control character, a lone surrogate) is never
stored whatever called it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from common.errors import ValidationError
from common.safe_text import text_problem
from kiosk.scale import INDICATOR_POINTS, INDICATORS

MAX_COMMENT = 2000
PHONE_RE = re.compile(r"^\+?[0-9][0-9 .\-]*[0-9]$")
#: Digits in a phone number: a hotline has 8 (1800 xxxx), a mobile 10, a landline 11, +84 numbers up to 12.
PHONE_DIGITS = (8, 15)


def clean_text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text.", {"field": field})
    problem = text_problem(value)
    if problem is not None:  # what could never be synced (PostgreSQL refuses NUL) is refused here
        raise ValidationError(
            f"{field} contains {problem[1]}, which the kiosk cannot store; remove it and send again.",
            {"field": field, "reason": "bad_character", "position": problem[0]},
        )
    value = unicodedata.normalize("NFC", value).strip()  # one spelling of "Nhân viên" whatever keyboard typed it
    if len(value) > limit:
        raise ValidationError(
            f"{field} is {len(value)} characters long; the limit is {limit}. Shorten it and send again.",
            {"field": field, "length": len(value), "limit": limit},
        )
    return value or None


def validate_criteria(criteria: Any) -> dict[str, str]:
    if criteria is None:
        return {}
    if not isinstance(criteria, Mapping):
        raise ValidationError('criteria must be an object such as {"time": "satisfied"}.', {"field": "criteria"})
    unknown = sorted(set(criteria) - set(INDICATORS))
    if unknown:
        raise ValidationError(
            f"Unknown indicator(s) {', '.join(unknown)}; use {', '.join(INDICATORS)}.",
            {"field": "criteria", "unknown": unknown},
        )
    for key, level in criteria.items():
        if not isinstance(level, str) or level not in INDICATOR_POINTS:
            raise ValidationError(
                f"Indicator {key} has level {level!r}; use {', '.join(INDICATOR_POINTS)}.",
                {"field": f"criteria.{key}"},
            )
    return dict(criteria)


def validate_contact(contact: Any) -> str | None:
    """A phone number (digits, optionally +, spaces, dots, dashes); ``detail.reason`` says what is wrong."""
    contact = clean_text(contact, "contact", 32)
    if contact is None:
        return None
    if not PHONE_RE.match(contact):
        raise ValidationError(
            "contact must be a phone number (digits, optionally +, spaces).", {"field": "contact", "reason": "format"}
        )
    digits = sum(ch.isdigit() for ch in contact)
    low, high = PHONE_DIGITS
    if not low <= digits <= high:
        reason = "too_short" if digits < low else "too_long"
        raise ValidationError(
            f"contact has {digits} digits; a phone number has {low} to {high}. Check it and send again.",
            {"field": "contact", "reason": reason, "digits": digits, "min": low, "max": high},
        )
    return contact
