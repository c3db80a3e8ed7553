"""The rules a booking (lịch hẹn) keeps, wherever it comes from: a file imported at the central server, a
provincial booking system's push (``POST /api/v1/bookings``), or the signed document a kiosk receives.

A booking is ``{"code", "site", "service", "at", "name"}``: ``code`` the booking code the citizen was given (the
one typed at the kiosk), ``site`` the reception point (the main one, ``TT``, when absent), ``service`` the field (lĩnh vực,
``HT``), ``at`` the booked local time ``YYYY-MM-DDTHH:MM`` (the commune's time zone), ``name`` the citizen's name
or empty — confidential, like a comment's contact: never shown on a kiosk's screen nor in a report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from common.catalog_rules import MAIN_SITE
from common.procedure_rules import SERVICE_RE, Problem, bounded_text

#: Booking codes: letters, digits and dashes, read or typed (upper case is kept; lower case is folded).
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
SITE_RE = re.compile(r"^[A-Z0-9_-]{1,16}$")
#: The most bookings one import or one push may hold, and one kiosk's document.
MAX_BOOKINGS = 5000
FIELDS = ("code", "site", "service", "at", "name")
TIME_FORMAT = "%Y-%m-%dT%H:%M"

__all__ = ["CODE_RE", "FIELDS", "MAX_BOOKINGS", "Problem", "check_booking", "normal_code", "parse_at"]


def normal_code(value: Any) -> str:
    """A booking code as typed or scanned, folded: upper case, without spaces."""
    return re.sub(r"\s+", "", str(value or "")).upper()[:40]


def parse_at(value: Any, field: str = "at") -> datetime:
    """The booked local time of ``YYYY-MM-DDTHH:MM`` (a space for the ``T`` and ``:SS`` are taken too)."""
    text = bounded_text(value, field, 25).replace(" ", "T")
    for form in (TIME_FORMAT, TIME_FORMAT + ":%S"):
        try:
            return datetime.strptime(text, form).replace(second=0)
        except ValueError:
            continue
    raise Problem(field, f"{text!r} is not a time such as 2026-12-07T09:30")


def check_booking(row: Any) -> dict[str, Any]:
    """The booking of one row, checked and normalised; Problem naming the field at fault."""
    if not isinstance(row, Mapping):
        raise Problem("row", "must be an object with code, site, service, at and name")
    unknown = sorted(str(k) for k in row if k not in FIELDS)
    if unknown:
        raise Problem(unknown[0], f"is not a field of a booking (the fields are {', '.join(FIELDS)})")
    code = normal_code(bounded_text(row.get("code"), "code", 40))
    if not CODE_RE.match(code):
        raise Problem("code", "must be 3 to 32 letters, digits or dashes")
    site = bounded_text(row.get("site"), "site", 16, required=False).upper() or MAIN_SITE
    if not SITE_RE.match(site):
        raise Problem("site", "must be a reception point's code (letters, digits, _ or -)")
    service = bounded_text(row.get("service"), "service", 16).upper()
    if not SERVICE_RE.match(service):
        raise Problem("service", "must be a field's code such as HT")
    at = parse_at(row.get("at"))
    name = bounded_text(row.get("name"), "name", 100, required=False)
    return {"code": code, "site": site, "service": service, "at": at.strftime(TIME_FORMAT), "name": name}
