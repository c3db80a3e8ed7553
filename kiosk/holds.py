"""Hold and pick: the clerk puts the ticket being served aside, or calls a particular ticket from the line.

* **Hold** (giữ chỗ): the ticket being served steps aside with a reason (:data:`REASONS`: a missing paper, a
  photocopy…); its status becomes ``held`` at that counter for ``hold_minutes`` (a ``hold`` clerk action whose
  detail holds the reason and the deadline). A held ticket is in nobody's line: it is ahead of no one
  (kiosk.ahead reads only waiting tickets) and "next" never calls it.
* **Return**: the clerk of that counter calls it back with one press (:meth:`HoldDesk.call` with its id); a
  ``call`` action marked ``{"held": true}``. Another counter may not take it.
* **Expiry**: a hold past its deadline ends as a no-show (a ``no_show`` action marked ``{"expired_hold": true}``),
  counted with the other no-shows. Holds are looked at whenever the queue is read or changed (:meth:`expire`).
* **Pick**: a waiting ticket of a field the counter handles is called out of turn (the elderly man waiting at
  the wrong counter); a ``call`` action marked ``{"picked": true, "out_of_order": …}`` — out of order when
  "next" would have called another ticket. The central reports count those (central.reports.out_of_order).

As with "next", the ticket the counter was serving is completed first when it calls another.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from common.errors import ConflictError, NotFoundError, ValidationError, refused_as
from kiosk.clock import from_naive_utc, to_naive_utc
from kiosk.counters import CounterDesk, Events
from kiosk.models import Ticket, TicketState
from kiosk.storage import ReadTransaction, driver_scalars, read_transaction, transaction

#: Why a ticket is held; the screens say each in plain words (web/templates, web/static).
REASONS = ("missing_paper", "photocopy", "payment", "away")
#: Minutes a hold lasts when the setting is not given (setting ``hold_minutes``).
DEFAULT_HOLD_MINUTES = 15


class HoldDesk:
    """Hold, return, expiry and pick, over the counters' :class:`CounterDesk` (same lock, same events)."""

    def __init__(self, desk: CounterDesk, minutes: float = DEFAULT_HOLD_MINUTES) -> None:
        self.desk = desk
        self.minutes = minutes

    def hold(self, counter: int, clerk_id: str | None, reason: Any) -> dict[str, Any]:
        """Put the ticket being served on hold at this counter; returns it with ``hold`` (reason, until)."""
        if reason not in REASONS:
            raise ValidationError(
                f"Give the reason for the hold: one of {', '.join(REASONS)}.",
                {"field": "reason", "allowed": list(REASONS)},
            )
        d = self.desk
        until = to_naive_utc(d.clock.now() + timedelta(minutes=self.minutes))
        with d.write_lock, transaction(d.sessions) as s:
            d._counter(s, counter)
            state = d._require_serving(s, counter, "put a ticket on hold")
            state.status = "held"
            d._action(s, "hold", counter, clerk_id, state.ticket_id, {"reason": reason, "until": until.isoformat()})
            ticket = d._ticket_json(s, state)
        ticket["hold"] = self._hold_json(reason, until)
        d._publish([("ticket_held", {**d._short_event(ticket, counter), "hold": ticket["hold"]})])
        return ticket

    def call(self, counter: int, clerk_id: str | None, ticket_id: Any) -> dict[str, Any]:
        """Call a particular ticket: one held at this counter (its return) or one waiting (a pick)."""
        if not isinstance(ticket_id, str) or not ticket_id.strip():
            raise ValidationError('Name the ticket, e.g. {"ticket_id": "…"}.', {"field": "ticket_id"})
        self.expire()
        d = self.desk
        events: Events = []
        with d.write_lock, transaction(d.sessions) as s:
            desk = d._counter(s, counter)
            d._refuse_paused(desk, "call a ticket")
            state = s.get(TicketState, ticket_id)
            if state is None:
                raise refused_as(
                    NotFoundError, "ticket_id", "Ticket %(ticket)s does not exist on this kiosk.", ticket=ticket_id
                )
            number = s.get(Ticket, state.ticket_id).display_number
            if state.status == "held":
                if state.counter_number != counter:
                    refused = refused_as(ConflictError, "ticket_id",
                                         "Ticket %(number)s is held at counter %(counter)s; only that counter "
                                         "can call it back.", number=number, counter=state.counter_number)  # fmt: skip
                    refused.detail["reason"] = "held_elsewhere"
                    raise refused
                detail: dict[str, Any] = {"held": True}
            elif state.status == "waiting":
                codes = [svc.code for svc in desk.services if svc.active]
                d._waiting_ticket(s, ticket_id, codes, counter)  # refuses a field this counter does not handle
                detail = {"picked": True, "out_of_order": self._next_id(s, codes) != ticket_id}
            else:
                refused = refused_as(ConflictError, "ticket_id",
                                     "Ticket %(number)s is neither waiting nor held; it cannot be called.",
                                     number=number)  # fmt: skip
                refused.detail.update(reason="not_waiting", status=state.status)
                raise refused
            current = d._serving(s, counter)
            if current is not None:
                events.append(d._finish(s, current, "done", "complete", clerk_id, {"auto": True}))
            state.status = "called"
            state.counter_number = counter
            state.clerk_id = clerk_id
            state.called_at = to_naive_utc(d.clock.now())
            d._action(s, "call", counter, clerk_id, state.ticket_id, detail)
            called = {**d._ticket_json(s, state), "from_hold": bool(detail.get("held"))}
            events.append(("ticket_called", {**d._called_event(called, recall=False), **detail}))
            events.append(("queue_changed", {"waiting": d._waiting(s)}))
        if current is not None:
            d.on_change()
        d._publish(events)
        return called

    def expire(self) -> int:
        """End every hold past its deadline as a no-show; returns how many ended."""
        d = self.desk
        now = d.clock.now()
        with read_transaction(d.sessions.kw["bind"]) as r:
            due = [h["id"] for h in held_tickets(r) if from_naive_utc(datetime.fromisoformat(h["until"])) <= now]
        if not due:
            return 0
        events: Events = []
        with d.write_lock, transaction(d.sessions) as s:
            for ticket_id in due:
                state = s.get(TicketState, ticket_id)
                if state is not None and state.status == "held":  # not called back in the meantime
                    events.append(d._finish(s, state, "no_show", "no_show", state.clerk_id, {"expired_hold": True}))
        d._publish(events)
        return len(events)

    def _next_id(self, s: Any, codes: list[str]) -> str | None:
        """The ticket "next" would call at a counter handling ``codes`` (kiosk.counters' rule)."""
        today = self.desk.queue_day.current(driver_scalars(s)).day
        return s.scalars(
            select(TicketState.ticket_id)
            .join(Ticket, Ticket.id == TicketState.ticket_id)
            .where(TicketState.status == "waiting", TicketState.service_code.in_(codes), TicketState.queue_day == today)
            .order_by(TicketState.priority.desc(), Ticket.seq)
            .limit(1)
        ).first()

    def _hold_json(self, reason: str, until: datetime) -> dict[str, Any]:
        return hold_json(self.desk.clock, reason, until.isoformat())


def hold_json(clock: Any, reason: str, until: str) -> dict[str, Any]:
    """A hold as the API and the pages show it: its reason code and its deadline in the commune's local time."""
    local = clock.local(from_naive_utc(datetime.fromisoformat(until)))
    return {"reason": reason, "until": local.isoformat(timespec="seconds"), "until_hm": local.strftime("%H:%M")}


def held_tickets(r: ReadTransaction, counter: int | None = None) -> list[dict[str, Any]]:
    """Every ticket on hold (at ``counter``), oldest hold first: id, number, field, counter, clerk, reason and
    deadline (naive UTC, ISO). One query; the manager's panel and the consoles read the held state here."""
    where, params = ("AND ts.counter_number = ?", (counter,)) if counter is not None else ("", ())
    found: dict[str, dict[str, Any]] = {}
    for row in r.rows(_HELD.format(where=where), params):
        detail = row["detail"]
        detail = json.loads(detail) if isinstance(detail, str) else (detail or {})
        found[row["ticket_id"]] = {  # the latest hold of each ticket wins (rows come in sequence order)
            "id": row["ticket_id"],
            "display_number": row["display_number"],
            "service": row["service_code"],
            "priority": bool(row["priority"]),
            "counter": row["counter_number"],
            "clerk_id": row["clerk_id"],
            "reason": detail.get("reason", "away"),
            "until": detail.get("until") or datetime.min.isoformat(),
            "held_at": row["device_time"],
        }
    return sorted(found.values(), key=lambda h: str(h["held_at"]))


_HELD = (
    "SELECT ts.ticket_id, ts.service_code, ts.priority, ts.counter_number, ts.clerk_id, t.display_number, "
    "ca.detail, ca.device_time FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id "
    "JOIN clerk_actions ca ON ca.ticket_id = ts.ticket_id AND ca.action = 'hold' "
    "WHERE ts.status = 'held' {where} ORDER BY ca.seq"
)
