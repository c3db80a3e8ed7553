"""The bookings document: a reception point's bookings of the coming days, on the wire, down to its kiosks.

Kept apart from the catalogue and the procedures (``sync.procedures_document``, which it follows): the server
answers ``POST /api/v1/kiosk-bookings {"have"}`` (signed like ``/api/v1/config``) with ``{"v", "commune",
"site", "version", "bookings": [{"code", "site", "service", "at", "name"}]}``, or ``{"v", "version",
"unchanged": true}`` when the kiosk holds that version already. ``at`` is the booked local time
``YYYY-MM-DDTHH:MM``; ``name`` is confidential (the kiosk stores it and never shows it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from common.booking_rules import TIME_FORMAT

BOOKINGS_PATH = "/api/v1/kiosk-bookings"


def entry(b: Any) -> dict[str, Any]:
    """A booking on the wire, from a row of the server's or the kiosk's table (same columns)."""
    return {
        "code": b.code,
        "site": b.site_code,
        "service": b.service_code,
        "at": b.at.strftime(TIME_FORMAT),
        "name": b.name,
    }


def version(bookings: list[dict[str, Any]]) -> str:
    """A stable SHA-256 of a list of bookings, in its order: the document's version."""
    return hashlib.sha256(json.dumps(bookings, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
