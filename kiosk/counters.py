"""What a clerk does at a counter: call next, recall, no-show, complete, transfer, pause, resume.

Each action runs in one write transaction (BEGIN IMMEDIATE on SQLite, so two counters pressing "next"
at the same moment never get the same citizen), changes the ticket's :class:`TicketState`, appends a
stamped :class:`ClerkAction` and commits; only then are the events published (the board, the announcer,
the consoles). "Next" takes priority tickets first, then first-come by issue order among the services
the counter handles; the issue order is the device's sequence number, which never goes back even when
the wall clock does, and a transfer keeps the ticket's original place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.errors import ConflictError, NotFoundError, ValidationError, refused_as
from kiosk.clock import Clock, from_naive_utc, to_naive_utc
from kiosk.dossiers import MAX_CODES, clean_code, codes_of
from kiosk.events import EventBus
from kiosk.models import Clerk, ClerkAction, Counter, Service, Ticket, TicketState
from kiosk.queue_day import QueueDay
from kiosk.records import stamp
from kiosk.storage import driver_scalars, transaction
from kiosk.tickets import waiting_counts

Events = list[tuple[str, dict[str, Any]]]


class CounterDesk:
    """The clerk's actions. One per app; every method is safe to call from several threads."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        events: EventBus,
        on_change: Callable[[], None],
        write_lock: threading.Lock | None = None,
        queue_day: QueueDay | None = None,
    ) -> None:
        self.sessions = sessions
        self.queue_day = queue_day or QueueDay(clock, sessions.kw["bind"])
        self.write_lock = write_lock or threading.Lock()  # shared with the ticket issuer
        self.clock = clock
        self.events = events
        self.on_change = on_change  # forget cached wait estimates

    # --- the actions -----------------------------------------------------------------------------

    def call_next(
        self, counter: int, clerk_id: str | None, service: Any = None, ticket_id: Any = None
    ) -> dict[str, Any] | None:
        """Call the next citizen (or the named ticket); the one being served is completed first.

        Returns the called ticket, or None when nobody is waiting for this counter's services.
        """
        events: Events = []
        with self.write_lock, transaction(self.sessions) as s:
            desk = self._counter(s, counter)
            self._refuse_paused(desk, "call the next number")
            codes = [svc.code for svc in desk.services if svc.active]
            if service is not None:
                code = self._service(s, service).code
                if code not in codes:
                    raise ConflictError(
                        f"Counter {counter} does not handle service {code}; it handles {', '.join(codes) or 'none'}.",
                        {"reason": "not_handled", "service": code, "counter": counter},
                    )
                codes = [code]
            current = self._serving(s, counter)
            if current is not None:
                events.append(self._finish(s, current, "done", "complete", clerk_id, {"auto": True}))
            today = self.queue_day.current(driver_scalars(s)).day
            if ticket_id is not None:
                state = self._waiting_ticket(s, ticket_id, codes, counter)
            else:
                state = s.scalars(
                    select(TicketState)
                    .join(Ticket, Ticket.id == TicketState.ticket_id)
                    .where(
                        TicketState.status == "waiting",
                        TicketState.service_code.in_(codes),
                        TicketState.queue_day == today,
                    )
                    .order_by(TicketState.priority.desc(), Ticket.seq)
                    .limit(1)
                ).first()
            called = None
            if state is not None:
                state.status = "called"
                state.counter_number = counter
                state.clerk_id = clerk_id
                state.called_at = to_naive_utc(self.clock.now())
                self._action(s, "call", counter, clerk_id, state.ticket_id)
                called = self._ticket_json(s, state)
                events.append(("ticket_called", self._called_event(called, recall=False)))
                events.append(("queue_changed", {"waiting": self._waiting(s)}))
        self._publish(events)
        return called

    def recall(self, counter: int, clerk_id: str | None) -> dict[str, Any]:
        """Call the ticket being served again (the board flashes and the announcer speaks again)."""
        with self.write_lock, transaction(self.sessions) as s:
            desk = self._counter(s, counter)
            self._refuse_paused(desk, "recall")
            state = self._require_serving(s, counter, "recall")
            self._action(s, "recall", counter, clerk_id, state.ticket_id)
            ticket = self._ticket_json(s, state)
        self._publish([("ticket_called", self._called_event(ticket, recall=True))])
        return ticket

    def no_show(self, counter: int, clerk_id: str | None) -> dict[str, Any]:
        """The citizen called did not come: the ticket leaves the queue, flagged as no-show."""
        with self.write_lock, transaction(self.sessions) as s:
            self._counter(s, counter)
            state = self._require_serving(s, counter, "mark as no-show")
            event = self._finish(s, state, "no_show", "no_show", clerk_id)
            ticket = self._ticket_json(s, state)
        self._publish([event])
        return ticket

    def complete(self, counter: int, clerk_id: str | None) -> dict[str, Any]:
        """Serving is finished; the next rating at this counter (within the link window) is for this ticket."""
        with self.write_lock, transaction(self.sessions) as s:
            self._counter(s, counter)
            state = self._require_serving(s, counter, "complete")
            event = self._finish(s, state, "done", "complete", clerk_id)
            ticket = self._ticket_json(s, state)
        self.on_change()
        self._publish([event])
        return ticket

    def transfer(self, counter: int, clerk_id: str | None, service: Any) -> dict[str, Any]:
        """Send the ticket being served to another service's queue, keeping its original place in time."""
        with self.write_lock, transaction(self.sessions) as s:
            self._counter(s, counter)
            state = self._require_serving(s, counter, "transfer")
            target = self._service(s, service)
            if target.code == state.service_code:
                raise ValidationError(
                    f"Ticket is already in service {target.code}; choose another service to transfer it to.",
                    {"field": "service", "reason": "same_service"},
                )
            source = state.service_code
            state.status = "waiting"
            state.service_code = target.code
            state.counter_number = None
            state.clerk_id = None
            state.called_at = None
            self._action(s, "transfer", counter, clerk_id, state.ticket_id, {"from": source, "to": target.code})
            ticket = self._ticket_json(s, state)
            ticket["counter"] = counter
            waiting = self._waiting(s)
        self._publish(
            [
                ("ticket_transferred", self._short_event(ticket, counter)),
                ("queue_changed", {"waiting": waiting}),
            ]
        )
        return ticket

    def dossier(self, counter: int, clerk_id: str | None, code: Any, remove: Any = False) -> dict[str, Any]:
        """Attach a dossier code (mã hồ sơ) to the ticket being served, or take one off (``remove``).

        Attaching a code the ticket already has changes nothing (a scanner read twice); each change is a
        ``dossier`` clerk action. Returns the ticket with its ``dossier_codes``.
        """
        if not isinstance(remove, bool):
            raise ValidationError("remove must be true or false.", {"field": "remove"})
        code = clean_code(code)
        changed = False
        with self.write_lock, transaction(self.sessions) as s:
            self._counter(s, counter)
            state = self._require_serving(s, counter, "attach a dossier code")
            codes = codes_of(state.dossier_codes)
            if remove:
                if code not in codes:
                    raise NotFoundError(
                        f"Ticket has no dossier code {code}.", {"field": "code", "reason": "not_attached"}
                    )
                codes.remove(code)
                changed = True
            elif code not in codes:
                if len(codes) >= MAX_CODES:
                    raise ConflictError(
                        f"A ticket carries at most {MAX_CODES} dossier codes; take one off first.",
                        {"reason": "too_many", "max": MAX_CODES},
                    )
                codes.append(code)
                changed = True
            if changed:
                state.dossier_codes = " ".join(codes) or None
                detail = {"code": code, "removed": True} if remove else {"code": code}
                self._action(s, "dossier", counter, clerk_id, state.ticket_id, detail)
            ticket = self._ticket_json(s, state)
        if changed:
            self._publish([("dossier_changed", {"id": ticket["id"], "counter": counter, "codes": codes})])
        return ticket

    def pause(self, counter: int, clerk_id: str | None) -> dict[str, Any]:
        return self._set_paused(counter, clerk_id, True)

    def resume(self, counter: int, clerk_id: str | None) -> dict[str, Any]:
        return self._set_paused(counter, clerk_id, False)

    def _set_paused(self, counter: int, clerk_id: str | None, paused: bool) -> dict[str, Any]:
        changed = False
        with self.write_lock, transaction(self.sessions) as s:
            desk = self._counter(s, counter)
            if desk.paused != paused:
                desk.paused = paused
                self._action(s, "pause" if paused else "resume", counter, clerk_id, None)
                changed = True
        if changed:
            self.on_change()
            self._publish([("counter_paused" if paused else "counter_resumed", {"counter": counter})])
        return {"number": counter, "paused": paused}

    # --- helpers ---------------------------------------------------------------------------------

    def _counter(self, s: Session, number: Any) -> Counter:
        if isinstance(number, bool) or not isinstance(number, int):
            raise ValidationError("counter must be a whole number.", {"field": "counter"})
        desk = s.get(Counter, number)
        if desk is None or not desk.active:
            raise refused_as(
                NotFoundError, "counter", "Counter %(number)s does not exist on this kiosk.", number=number
            )
        return desk

    def _service(self, s: Session, code: Any) -> Service:
        if not isinstance(code, str) or not code.strip():
            raise ValidationError('Name the service, e.g. {"service": "HT"}.', {"field": "service"})
        service = s.get(Service, code.strip().upper())
        if service is None or not service.active:
            raise NotFoundError(f"Service {code.strip().upper()} does not exist on this kiosk.", {"field": "service"})
        return service

    def _refuse_paused(self, desk: Counter, what: str) -> None:
        if desk.paused:
            raise ConflictError(
                f"Counter {desk.number} is paused; resume it before you {what}.",
                {"reason": "paused", "counter": desk.number},
            )

    def _serving(self, s: Session, counter: int) -> TicketState | None:
        return s.scalars(
            select(TicketState).where(TicketState.status == "called", TicketState.counter_number == counter)
        ).first()

    def _require_serving(self, s: Session, counter: int, what: str) -> TicketState:
        state = self._serving(s, counter)
        if state is None:
            raise ConflictError(
                f"Counter {counter} is not serving anyone; call a number before you {what}.",
                {"reason": "not_serving", "counter": counter},
            )
        return state

    def _waiting_ticket(self, s: Session, ticket_id: Any, codes: list[str], counter: int) -> TicketState:
        state = s.get(TicketState, ticket_id) if isinstance(ticket_id, str) else None
        if state is None:
            raise NotFoundError(f"Ticket {ticket_id} does not exist on this kiosk.", {"field": "ticket_id"})
        if state.status != "waiting":
            raise ConflictError(f"Ticket {ticket_id} is not waiting (it is {state.status}).", {"reason": "not_waiting"})
        if state.service_code not in codes:
            raise ConflictError(
                f"Counter {counter} does not handle service {state.service_code}; transfer the ticket first.",
                {"reason": "not_handled", "service": state.service_code, "counter": counter},
            )
        return state

    def _finish(
        self, s: Session, state: TicketState, status: str, action: str, clerk_id: str | None, detail: Any = None
    ) -> tuple[str, dict[str, Any]]:
        counter = state.counter_number
        state.status = status
        state.finished_at = to_naive_utc(self.clock.now())
        self._action(s, action, counter, clerk_id, state.ticket_id, detail)
        kind = "ticket_completed" if status == "done" else "ticket_no_show"
        return kind, self._short_event(self._ticket_json(s, state), counter)

    def _action(
        self, s: Session, action: str, counter: int | None, clerk_id: str | None, ticket_id: str | None, detail=None
    ) -> None:
        stamp(
            s,
            ClerkAction(action=action, counter_number=counter, clerk_id=clerk_id, ticket_id=ticket_id, detail=detail),
            self.clock,
        )
        s.flush()

    def _waiting(self, s: Session) -> dict[str, int]:
        s.flush()
        return waiting_counts(driver_scalars(s), self.queue_day.peek())

    def _ticket_json(self, s: Session, state: TicketState) -> dict[str, Any]:
        ticket = s.get(Ticket, state.ticket_id)
        service = s.get(Service, state.service_code)
        clerk = s.get(Clerk, state.clerk_id) if state.clerk_id else None
        return ticket_json(self.clock, ticket, state, service.name if service else state.service_code, clerk)

    @staticmethod
    def _called_event(ticket: dict[str, Any], recall: bool) -> dict[str, Any]:
        return {
            "id": ticket["id"],
            "display_number": ticket["display_number"],
            "number": ticket["number"],
            "service": ticket["service"],
            "service_name": ticket["service_name"],
            "counter": ticket["counter"],
            "clerk": ticket["clerk"],
            "clerk_id": ticket["clerk_id"],
            "recall": recall,
        }

    @staticmethod
    def _short_event(ticket: dict[str, Any], counter: int | None) -> dict[str, Any]:
        return {
            "id": ticket["id"],
            "display_number": ticket["display_number"],
            "counter": counter,
            "service": ticket["service"],
        }

    def _publish(self, events: Events) -> None:
        for kind, data in events:
            self.events.publish(kind, data)


def ticket_json(clock: Clock, ticket: Ticket, state: TicketState, service_name: str, clerk: Clerk | None) -> dict:
    """A ticket as the API and the consoles show it; times in the commune's local time."""

    def local(moment):
        return clock.local(from_naive_utc(moment)).isoformat() if moment else None

    return {
        "id": ticket.id,
        "number": ticket.number,
        "display_number": ticket.display_number,
        "service": state.service_code,
        "service_name": service_name,
        "issued_service": ticket.service_code,
        "priority": bool(state.priority),
        "status": state.status,
        "counter": state.counter_number,
        "clerk": clerk.name if clerk else None,
        "clerk_id": state.clerk_id,
        "queued_at": local(state.queued_at),
        "called_at": local(state.called_at),
        "finished_at": local(state.finished_at),
        "dossier_codes": codes_of(state.dossier_codes),
    }
