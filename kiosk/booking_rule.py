"""The calling rule with bookings in play: who "next" calls at a counter (``kiosk.counters``) and who the
"ahead" play-out (``kiosk.ahead``) lets each counter call, in one place.

Among the waiting tickets of the fields a counter handles there are three lines:

* **due bookings** — checked-in bookings whose booked time has come, earliest booked time first;
* **walk-ins** — every other ticket, priority first, then issue order (the rule without bookings);
* **early bookings** — checked-in bookings whose time has not come yet, earliest booked time first.

"Next" takes a due booking, unless the counter's previous call was itself a booking and walk-ins are waiting:
then it takes the first walk-in. So a booking whose time has come goes ahead of the walk-ins of its field, but
while walk-ins wait at most every other call at a counter goes to a booking — walk-ins are never starved. With
no walk-in and no due booking waiting, an early booking is called (it is served as a walk-in would be rather
than leave the counter idle). A late arrival (past ``booking_grace_minutes``) was checked in as a walk-in.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.models import ClerkAction, Ticket, TicketState

T = TypeVar("T")


def choose(due: T | None, walk_in: T | None, early: T | None, last_was_booking: bool) -> T | None:
    """The head a counter calls among the heads of its three lines (see the module's rule)."""
    if due is not None and (walk_in is None or not last_was_booking):
        return due
    if walk_in is not None:
        return walk_in
    return early


def last_call_was_booking(s: Session, counter: int) -> bool:
    """Whether the latest ticket this counter called was a checked-in booking."""
    due = s.execute(
        select(TicketState.due_at)
        .join(ClerkAction, ClerkAction.ticket_id == TicketState.ticket_id)
        .where(ClerkAction.action == "call", ClerkAction.counter_number == counter)
        .order_by(ClerkAction.seq.desc())
        .limit(1)
    ).first()
    return due is not None and due[0] is not None


def next_waiting(s: Session, codes: list[str], day, counter: int, now: datetime) -> TicketState | None:
    """The waiting ticket "next" calls at ``counter`` among the fields ``codes`` of the queue of ``day``;
    ``now`` is naive UTC."""
    base = (
        select(TicketState)
        .join(Ticket, Ticket.id == TicketState.ticket_id)
        .where(TicketState.status == "waiting", TicketState.service_code.in_(codes), TicketState.queue_day == day)
        .limit(1)
    )
    walk_in = s.scalars(base.where(TicketState.due_at.is_(None)).order_by(TicketState.priority.desc(), Ticket.seq))
    walk_in = walk_in.first()
    due = s.scalars(base.where(TicketState.due_at <= now).order_by(TicketState.due_at, Ticket.seq)).first()
    if due is None and walk_in is not None:
        return walk_in  # the usual case: no booking is due
    early = None
    if due is None:
        early = s.scalars(base.where(TicketState.due_at > now).order_by(TicketState.due_at, Ticket.seq)).first()
    return choose(due, walk_in, early, due is not None and last_call_was_booking(s, counter))
