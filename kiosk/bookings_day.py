"""The day's bookings as the office sees them on `/admin/bookings` (issue 25): each booking of the kiosk's list for
today and tomorrow with where it stands, and the day's counts. Read from the kiosk's own copy of the list and its
check-ins (``kiosk.bookings``), so it works offline.

Where a booking stands (``state``):

* ``expected`` — not checked in, and its time plus ``booking_grace_minutes`` has not passed;
* ``no_show`` — not checked in, and that time has passed (a citizen who still comes checks in as a walk-in);
* ``checked_in`` — checked in on time, its ticket waiting (``held`` while the clerk holds it);
* ``serving`` — its ticket is being served; ``served`` — served; ``absent`` — called, and did not come;
* ``late`` — checked in past its grace: a walk-in ticket (not called ahead).

The list carries the booking code and the citizen's name: it is for the admin's pages only, never for the
screens the public sees (ticket screen, board, phone page) nor the clerk console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from kiosk.bookings import grace_end
from kiosk.clock import Clock, from_naive_utc
from kiosk.storage import read_transaction, stored_time

STATES = ("expected", "checked_in", "held", "serving", "served", "absent", "late", "no_show")
_TICKET_STATES = {"waiting": "checked_in", "held": "held", "called": "serving", "done": "served", "no_show": "absent"}


@dataclass
class BookingRow:
    """One booking and where it stands; times local "HH:MM"."""

    code: str
    at: str
    service: str
    service_name: str
    name: str
    state: str
    #: Until when it may check in as booked (its time plus the grace); later it is a no-show.
    until: str
    checked_in_at: str | None = None
    ticket: str | None = None
    counter: int | None = None


@dataclass
class BookingDay:
    """A day's bookings, by booked time, and how many are booked, arrived (on time or late) and missed."""

    day: date
    rows: list[BookingRow] = field(default_factory=list)

    def count(self, *states: str) -> int:
        return sum(1 for row in self.rows if row.state in states)

    def counts(self) -> dict[str, int]:
        arrived = ("checked_in", "held", "serving", "served", "absent", "late")
        return {
            "booked": len(self.rows),
            "arrived": self.count(*arrived),
            "late": self.count("late"),
            "served": self.count("served"),
            "expected": self.count("expected"),
            "no_show": self.count("no_show"),
        }


def state_of(row: dict[str, Any], until: datetime, now_local: datetime) -> str:
    """Where one booking stands (see the module's list); ``until`` its grace's end (:func:`kiosk.bookings.grace_end`),
    ``now_local`` naive local time."""
    if row["outcome"] == "late":
        return "late"
    if row["outcome"] is not None:
        return _TICKET_STATES.get(row["status"] or "waiting", "checked_in")
    return "no_show" if now_local > until else "expected"


def bookings_days(engine: Any, clock: Clock, grace_minutes: float) -> list[BookingDay]:
    """Today's and tomorrow's bookings on the kiosk's list (the business day of the kiosk's clock)."""
    now_local = clock.local().replace(tzinfo=None)
    today = now_local.date()
    days = {today: BookingDay(today), today + timedelta(days=1): BookingDay(today + timedelta(days=1))}
    with read_transaction(engine) as r:
        found = r.rows(_BOOKINGS)
    for row in found:
        at = stored_time(row["at"])
        day = days.get(at.date())
        if day is None:
            continue  # a list of another day (the kiosk has not synced since): not this page's
        checked, until = stored_time(row["checked_in_at"]), grace_end(at, float(grace_minutes))
        day.rows.append(
            BookingRow(
                code=row["code"],
                at=at.strftime("%H:%M"),
                service=row["service_code"],
                service_name=row["service_name"] or row["service_code"],
                name=row["name"] or "",
                state=state_of(row, until, now_local),
                until=until.strftime("%H:%M"),
                checked_in_at=clock.local(from_naive_utc(checked)).strftime("%H:%M") if checked else None,
                ticket=row["display_number"],
                counter=row["counter_number"],
            )
        )
    return list(days.values())


def days_json(days: list[BookingDay]) -> dict[str, Any]:
    """The days as `/admin/bookings.json` gives them to the office's tools."""
    return {
        "days": [
            {"day": d.day.isoformat(), "counts": d.counts(), "bookings": [vars(row) for row in d.rows]} for d in days
        ]
    }


_BOOKINGS = (
    "SELECT b.code, b.service_code, s.name AS service_name, b.at, b.name, c.checked_in_at, c.outcome, "
    "t.display_number, ts.status, ts.counter_number FROM bookings b "
    "LEFT JOIN services s ON s.code = b.service_code LEFT JOIN booking_checkins c ON c.code = b.code "
    "LEFT JOIN tickets t ON t.id = c.ticket_id LEFT JOIN ticket_state ts ON ts.ticket_id = c.ticket_id "
    "ORDER BY b.at, b.code"
)
