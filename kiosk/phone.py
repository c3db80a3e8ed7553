"""The citizen's phone page of a ticket (``/t/<token>``): what it shows, and rating from it.

The token is printed only inside the ticket's QR code (``ticket_state.token``, never synced, never in an
event): whoever holds the paper ticket may follow that number and rate that visit — nobody else. A
citizen may rate from the phone once the clerk has completed the ticket, for the rest of that business
day ("rate later" after leaving); the rating is ``channel = phone`` and counts once per ticket like any
other (a second one is kept, flagged ``duplicate_ticket``, not counted: kiosk.ratings).

:meth:`PhoneService.states` reads the state of many tickets at once (one query for the tickets, one for
the waiting lines they are in): the live hub calls it for every phone concerned by a queue event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from common.errors import ConflictError, NotFoundError
from kiosk.ahead import Place
from kiosk.clock import from_naive_utc
from kiosk.queue_service import QueueService
from kiosk.ratings import RatingService, RecordedRating
from kiosk.storage import read_scalars, read_transaction

#: What a token looks like (kiosk.tickets.new_token): anything else is not looked up at all.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


class PhoneService:
    def __init__(self, queue: QueueService, ratings: RatingService) -> None:
        self.queue = queue
        self.ratings = ratings

    def find(self, token: str) -> str | None:
        """The id of the ticket whose page this token opens; None for a token that does not exist."""
        if not isinstance(token, str) or not TOKEN_RE.match(token):
            return None
        found = read_scalars(self.queue.engine, "SELECT ticket_id FROM ticket_state WHERE token = ?", (token,))
        return found[0] if found else None

    def state(self, ticket_id: str) -> dict[str, Any]:
        found = self.states([ticket_id]).get(ticket_id)
        if found is None:
            raise NotFoundError(f"Ticket {ticket_id} does not exist on this kiosk.")
        return found

    def states(self, ticket_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """What each ticket's page shows now: number, field, status, place in line, estimated wait, counter."""
        ids = sorted(set(ticket_ids))
        if not ids:
            return {}
        today = self.queue.tickets.roll_day()  # a day that just closed is closed for its tickets too
        marks = ",".join("?" * len(ids))
        with read_transaction(self.queue.engine) as r:
            rows = r.rows(_STATES.format(marks=marks), tuple(ids))
            days = {str(row["queue_day"]) for row in rows if row["status"] == "waiting"}
            places: dict[str, Place] = {}
            for day in sorted(days):  # one play-out of each queue (kiosk.ahead) for every phone in it
                places.update(self.queue.line.read(r, date.fromisoformat(day)))
        return {row["ticket_id"]: self._state(row, places.get(row["ticket_id"]), today) for row in rows}

    def _state(self, row: dict[str, Any], place: Place | None, today: date) -> dict[str, Any]:
        day = row["queue_day"]
        day = date.fromisoformat(day) if isinstance(day, str) else day
        status = row["status"]
        if status == "waiting" and day is not None and day < today:
            status = "closed"  # its day's queue has closed: it will not be called (kiosk.queue_day)
        waiting = status == "waiting" and place is not None
        ahead = place.ahead if waiting else None
        position = ahead + 1 if ahead is not None else None
        issued = row["device_time"]
        if isinstance(issued, str):
            issued = datetime.fromisoformat(issued)
        issued = self.queue.clock.local(from_naive_utc(issued)) if issued is not None else None
        rated = bool(row["rated"])
        return {
            "number": row["display_number"],
            "service": row["service_code"],
            "service_name": row["service_name"] or row["service_code"],
            "status": status,
            "position": position,
            "ahead": ahead,
            "wait_minutes": place.wait_minutes if waiting else 0,
            "counter": row["counter_number"] if status != "waiting" else None,
            # a counter's own name, when it says more than its number ("Quầy 1" does not)
            "counter_name": row["counter_name"]
            if status != "waiting" and row["counter_name"] not in (None, "", f"Quầy {row['counter_number']}")
            else None,
            "calls": int(row["calls"] or 0),
            "issued_at": issued.strftime("%H:%M") if issued else None,
            "day": day.isoformat() if day else None,
            "today": day == today,
            "rated": rated,
            "can_rate": status == "done" and not rated and day == today,
        }

    def rate(
        self,
        ticket_id: str,
        level: Any,
        criteria: Any = None,
        comment: Any = None,
        contact: Any = None,
        address: str | None = None,
    ) -> RecordedRating:
        """Store the phone's rating of its ticket (channel phone). ConflictError before the ticket is completed
        or after its business day; a ticket already rated gets a second rating kept but not counted."""
        state = self.state(ticket_id)
        if state["status"] != "done":
            raise ConflictError(
                f"Ticket {state['number']} has not been served yet; rate it once the clerk has finished.",
                {"reason": "not_served", "status": state["status"]},
            )
        if not state["today"]:
            raise ConflictError(
                f"Ticket {state['number']} was for {state['day']}; a ticket can be rated on its own day only.",
                {"reason": "day_over", "day": state["day"]},
            )
        return self.ratings.record(
            level,
            "phone",
            ticket_id=ticket_id,
            criteria=criteria,
            comment=comment,
            contact=contact,
            panel=f"phone:{ticket_id}",
            also=(f"addr:{address}",) if address else (),
        )


_STATES = (
    "SELECT ts.ticket_id, ts.status, ts.service_code, ts.counter_number, ts.queue_day, t.display_number, "
    "t.device_time, s.name AS service_name, c.name AS counter_name, "
    "(SELECT COUNT(*) FROM clerk_actions ca WHERE ca.ticket_id = ts.ticket_id "
    "AND ca.action IN ('call', 'recall')) AS calls, "
    "EXISTS (SELECT 1 FROM ratings r WHERE r.ticket_id = ts.ticket_id AND r.counted) AS rated "
    "FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id "
    "LEFT JOIN services s ON s.code = ts.service_code LEFT JOIN counters c ON c.number = ts.counter_number "
    "WHERE ts.ticket_id IN ({marks})"
)
