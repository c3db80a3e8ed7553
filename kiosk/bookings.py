"""Bookings on the kiosk: the reception point's list taken down at sync (replaced whole, or not at all), and the
check-in by code (``POST /api/checkin {"code"}``) that issues a ticket marked as booked.

A booking checks in on its day. Up to ``booking_grace_minutes`` after its time it is *booked*: its ticket carries
the booked time and goes ahead of walk-ins from then on (``kiosk.booking_rule``); earlier it waits for its time
(or is called as a walk-in would be when nobody else waits). Past the grace the booking is a no-show: the citizen
who comes anyway checks in as a walk-in (the ticket is not marked). A code checks in once. The citizen's name is
kept for the admin's list of the day (``kiosk.bookings_day``) and never shown elsewhere nor printed. Works offline: only the list on the kiosk is read.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from common.booking_rules import MAX_BOOKINGS, check_booking, normal_code
from common.errors import ConflictError, NotFoundError, ValidationError, refused_as
from kiosk.clock import to_naive_utc
from kiosk.down_list import checked_list
from kiosk.models import BookingCheckin, BookingList, KioskBooking
from kiosk.storage import transaction

log = logging.getLogger(__name__)
_checkin_lock = threading.Lock()


class BookingsRefused(ValidationError):
    """The reception point's list of bookings is malformed: the kiosk keeps the list it had."""

    code = "bookings_refused"


def current_version(session: Session) -> str | None:
    row = session.get(BookingList, 1)
    return row.version if row else None


def grace_end(at: datetime, grace_minutes: float) -> datetime:
    """Until when a booking of local time ``at`` checks in as booked (``booking_grace_minutes`` later); after it, a
    citizen checks in late (as a walk-in) and a booking not checked in is a no-show."""
    return at + timedelta(minutes=grace_minutes)


def check_document(doc: Any) -> list[dict[str, Any]]:
    """The bookings of a document from the central server, checked; BookingsRefused naming the first fault."""
    return checked_list(doc, "bookings", MAX_BOOKINGS, check_booking, BookingsRefused, "Booking")


def store_document(sessions: Any, doc: Any, now: datetime) -> bool:
    """Replace the kiosk's bookings with the document's, in one transaction; False when that version is held.
    Check-ins are kept (a booking checked in stays so when the list changes)."""
    items = check_document(doc)
    with transaction(sessions) as session:
        if current_version(session) == doc["version"]:
            return False
        session.execute(delete(KioskBooking))
        session.add_all(
            KioskBooking(
                code=b["code"],
                site_code=b["site"],
                service_code=b["service"],
                at=datetime.fromisoformat(b["at"]),
                name=b["name"],
            )
            for b in items
        )
        session.merge(BookingList(id=1, version=doc["version"], received_at=now))
    log.info("bookings: %d taken (version %s)", len(items), doc["version"][:12])
    return True


def check_in(kiosk: Any, code: Any) -> dict[str, Any]:
    """Check a booking in by its code and issue its ticket (printed like any other); the ticket's answer with
    ``booking: {"code", "at", "late"}``. 404 for a code not on the kiosk's list, 409 for one of another day or
    checked in already."""
    from kiosk.queue_service import take_ticket

    if not isinstance(code, str) or not code.strip():
        raise ValidationError('Give the booking code: {"code": "..."}.', {"field": "code"})
    code = normal_code(code)
    now = kiosk.clock.now()
    local = kiosk.clock.local(now).replace(tzinfo=None)
    grace = int(kiosk.settings["booking_grace_minutes"])
    with _checkin_lock:
        with transaction(kiosk.sessions) as session:
            booking = session.get(KioskBooking, code)
            if booking is None:
                raise refused_as(NotFoundError, "code", "The booking code %(code)s is not on this kiosk's list.",
                                 code=code)  # fmt: skip
            if booking.at.date() != local.date():
                raise refused_as(ConflictError, "code", "Booking %(code)s is for %(day)s, not today.",
                                 code=code, day=booking.at.strftime("%d/%m/%Y"))  # fmt: skip
            if session.get(BookingCheckin, code) is not None:
                raise refused_as(ConflictError, "code", "Booking %(code)s has already checked in.", code=code)
            late = local > grace_end(booking.at, grace)
            service, at = booking.service_code, booking.at
            session.add(
                BookingCheckin(code=code, checked_in_at=to_naive_utc(now), outcome="late" if late else "booked")
            )
        due = None if late else to_naive_utc(at.replace(tzinfo=kiosk.clock.tz))
        try:
            answer = take_ticket(kiosk.queue, kiosk.printing, service, False, "touch", due=due, booking=code)
        except Exception:
            with transaction(kiosk.sessions) as session:  # no ticket: the code may check in again
                session.execute(delete(BookingCheckin).where(BookingCheckin.code == code))
            raise
        with transaction(kiosk.sessions) as session:
            session.get(BookingCheckin, code).ticket_id = answer["id"]
    return {**answer, "booking": {"code": code, "at": at.strftime("%H:%M"), "late": late}}
