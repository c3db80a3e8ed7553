"""What the clerk console marks on a ticket besides its number and field: a booking checked in at the kiosk
(``kiosk.bookings``) with its booked time — on time (it goes ahead at that time, ``kiosk.booking_rule``) or late
(past the grace: served as a walk-in) — and the fields of a visit of several (``kiosk.fields``).

Only the clerk's own view carries these marks (``QueueService.counter_view``); the public board, the phone page
and the ticket screen never show a booking's code or the citizen's name, and neither does the console.
"""

from __future__ import annotations

from typing import Any

from kiosk.clock import Clock, from_naive_utc
from kiosk.storage import ReadTransaction, stored_time


def booking_marks(r: ReadTransaction, clock: Clock, ticket_ids: list[str]) -> dict[str, dict[str, Any]]:
    """``{ticket_id: {"at": "09:30", "late": bool}}`` for the tickets of checked-in bookings among ``ticket_ids``.
    The booked time comes from the kiosk's list, or from the ticket's due time when the list no longer has it."""
    if not ticket_ids:
        return {}
    marks = ",".join("?" * len(ticket_ids))
    found: dict[str, dict[str, Any]] = {}
    for row in r.rows(_BOOKINGS.format(marks=marks), tuple(ticket_ids)):
        at = stored_time(row["at"])
        if at is None and row["due_at"] is not None:
            at = clock.local(from_naive_utc(stored_time(row["due_at"]))).replace(tzinfo=None)
        found[row["ticket_id"]] = {"at": at.strftime("%H:%M") if at else None, "late": row["outcome"] == "late"}
    return found


def field_marks(r: ReadTransaction, ticket_ids: list[str]) -> dict[str, list[str]]:
    """``{ticket_id: [field code, …]}``: the fields still to serve of each visit of several fields (the field the
    ticket waits in first); visits of one field are left out."""
    if not ticket_ids:
        return {}
    marks = ",".join("?" * len(ticket_ids))
    found: dict[str, list[str]] = {}
    for row in r.rows(_FIELDS.format(marks=marks), tuple(ticket_ids)):
        found.setdefault(row["ticket_id"], []).append(row["service_code"])
    return {ticket_id: codes for ticket_id, codes in found.items() if len(codes) > 1}


def mark_items(r: ReadTransaction, clock: Clock, items: list[dict[str, Any]]) -> None:
    """Add ``booking`` (or None) and ``fields_left`` (codes still to serve; empty for one field) to each ticket item
    of the console's view, in place."""
    ids = [item["id"] for item in items]
    bookings, fields = booking_marks(r, clock, ids), field_marks(r, ids)
    for item in items:
        item["booking"] = bookings.get(item["id"])
        item["fields_left"] = fields.get(item["id"], [])


_BOOKINGS = (
    "SELECT c.ticket_id, c.outcome, b.at, ts.due_at FROM booking_checkins c "
    "LEFT JOIN bookings b ON b.code = c.code LEFT JOIN ticket_state ts ON ts.ticket_id = c.ticket_id "
    "WHERE c.ticket_id IN ({marks})"
)
_FIELDS = (
    "SELECT ticket_id, service_code FROM ticket_fields WHERE ticket_id IN ({marks}) AND status = 'waiting' "
    "ORDER BY ticket_id, position"
)
