"""At each sync, the reception point's bookings of today and tomorrow (``sync.bookings_document``): taken like the
procedures (:mod:`kiosk.uplink.down_document`), stored only when the central server has another version.
"""

from __future__ import annotations

from typing import Any

from kiosk.bookings import BookingsRefused, current_version, store_document
from kiosk.uplink.down_document import take_document
from sync.bookings_document import BOOKINGS_PATH


def take_bookings(client: Any) -> bool | None:
    """Ask the central server for this reception point's bookings; True when a new list was stored, False when the
    kiosk already held it, None when the server has none to give (an earlier release) or the list was refused."""
    return take_document(client, BOOKINGS_PATH, "bookings", current_version, store_document, BookingsRefused)
