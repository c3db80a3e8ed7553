"""The queue as one service: issuing (:mod:`kiosk.tickets`), the counters (:mod:`kiosk.counters`),
clerk log-in (:mod:`kiosk.clerks`), and the read-only views the board and the consoles show.

Reads run in a read transaction (:func:`kiosk.storage.read_transaction`): one consistent snapshot that does
not take the write lock, so a board refreshing never slows a citizen taking a ticket.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from common.errors import NotFoundError, refused_as
from kiosk.ahead import Place, QueueLine
from kiosk.clerks import ClerkDesk
from kiosk.clock import Clock, from_naive_utc, to_naive_utc
from kiosk.console_marks import mark_items
from kiosk.counters import CounterDesk
from kiosk.dossiers import codes_of
from kiosk.events import EventBus
from kiosk.fields import visit_fields
from kiosk.holds import HoldDesk, held_tickets, hold_json
from kiosk.queue_day import QueueDay
from kiosk.storage import ReadTransaction, db_time, read_scalars, read_transaction, stored_time
from kiosk.tickets import IssuedTicket, TicketIssuer, waiting_counts

if TYPE_CHECKING:
    from kiosk.printing import PrintService

log = logging.getLogger(__name__)

RECENT_CALLS = 8
CONSOLE_WAITING = 30
PRINT_WAIT_SECONDS = 3.0


class QueueService:
    """Tickets, counters and clerks of one kiosk."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session], clock: Clock, events: EventBus) -> None:
        self.engine = engine
        self.clock = clock
        self.events = events
        self.day = QueueDay(clock, engine)
        self.line = QueueLine(engine, clock)  # who is really ahead of whom (kiosk.ahead)
        self.tickets = TicketIssuer(engine, clock, events, self.day)
        self.tickets.place = self.place
        lock = self.tickets.write_lock
        self.desk = CounterDesk(
            sessions, clock, events, on_change=self._forget_estimates, write_lock=lock, queue_day=self.day
        )
        self.clerks = ClerkDesk(sessions, clock, events, write_lock=lock)
        self.holds = HoldDesk(self.desk)  # hold, return, pick (kiosk.holds); minutes from the setting hold_minutes

    def reload(self) -> None:
        """Forget what was cached of the catalogue: the services offered, estimates, clerks' names at counters."""
        self.tickets.reload()
        self.line.forget()
        self.clerks.forget()

    def _forget_estimates(self) -> None:
        self.tickets.forget_estimates()
        self.line.forget()

    def issue(self, service: Any, *args: Any, **kwargs: Any) -> IssuedTicket:
        """Issue a ticket: :meth:`kiosk.tickets.TicketIssuer.issue` (its arguments, written once there)."""
        return self.tickets.issue(service, *args, **kwargs)

    # --- views -----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """`GET /api/queue`: each counter with its clerk and the ticket it serves, waiting counts, last calls."""
        day = self.tickets.roll_day()  # after a clock change, the waiting tickets move before anyone looks
        self.holds.expire()  # a hold past its time is a no-show before anyone looks
        at = self.clerks.at_counters()
        with read_transaction(self.engine) as r:
            services = r.rows("SELECT code, name, prefix FROM services WHERE active ORDER BY position, code")
            handled: dict[int, list[str]] = {}
            for row in r.rows("SELECT counter_number, service_code FROM counter_services ORDER BY service_code"):
                handled.setdefault(row["counter_number"], []).append(row["service_code"])
            serving = {row["counter_number"]: row for row in r.rows(_SERVING)}
            counters = [
                {
                    "number": c["number"],
                    "name": c["name"],
                    "paused": bool(c["paused"]),
                    "clerk": at[c["number"]][1] if c["number"] in at else None,
                    "services": handled.get(c["number"], []),
                    "serving": self._brief(serving.get(c["number"])),
                }
                for c in r.rows("SELECT number, name, paused FROM counters WHERE active ORDER BY number")
            ]
            waiting = waiting_counts(r.scalars, day)
            held = [self._held_item(h) for h in held_tickets(r)]
            recent: list[dict[str, Any]] = []
            for row in r.rows(_RECENT_CALLS, (db_time(self._day_start(day)), 4 * RECENT_CALLS)):
                if len(recent) == RECENT_CALLS or any(call["id"] == row["ticket_id"] for call in recent):
                    continue  # each ticket once, at its latest call (a recall does not list it twice)
                recent.append(
                    {
                        "id": row["ticket_id"],
                        "display_number": row["display_number"],
                        "counter": row["counter_number"],
                        "service": row["service_code"],
                        "recall": row["action"] == "recall",
                        "at": self._local(row["device_time"]),
                    }
                )
        return {
            "counters": counters,
            "waiting": waiting,
            "services": services,
            "recent": recent,
            "held": held,  # tickets on hold (kiosk.holds), apart from the waiting line
            "day": day.isoformat(),
            "now": self.clock.local().isoformat(timespec="seconds"),  # the board shows the kiosk's clock
            "day_provisional": self.day.provisional(),
        }

    def counter_view(self, counter: int) -> dict[str, Any]:
        """What the clerk console shows: the counter, the ticket served, the waiting line with print status — in the
        order this counter's "next" calls it (:meth:`_calling_line`) — the held tickets apart, the ones served."""
        snap = self.snapshot()
        desk = next((c for c in snap["counters"] if c["number"] == counter), None)
        if desk is None:
            raise refused_as(
                NotFoundError, "counter", "Counter %(number)s does not exist on this kiosk.", number=counter
            )
        if desk["serving"] is not None:  # the dossier codes only on the clerk's own view, not on the public board
            found = read_scalars(self.engine, _DOSSIERS, (desk["serving"]["id"],))
            desk = {**desk, "serving": {**desk["serving"], "dossier_codes": codes_of(found[0] if found else None)}}
            desk["serving"]["fields"] = visit_fields(self.engine, desk["serving"]["id"])  # several fields
        day = self.day.peek()
        with read_transaction(self.engine) as r:
            line = self._calling_line(r, counter, day)
            served = [self._line_item(row) for row in r.rows(_SERVED_HERE, (counter, day.isoformat(), 10))]
            held = [dict(h) for h in snap["held"] if h["counter"] == counter]
            shown = [*line, *held, *served, *([desk["serving"]] if desk["serving"] else [])]
            mark_items(r, self.clock, shown)  # booked (and when), fields still to serve: the clerk's view only
        return {
            "counter": desk,
            "waiting": {code: snap["waiting"].get(code, 0) for code in desk["services"]},
            "line": line,
            "held": held,
            "served": served,
            "services": snap["services"],
        }

    def ahead(self, ticket_id: str) -> int:
        """People who will be called before this ticket (kiosk.ahead; 0 once it is called or done)."""
        found = self.place(ticket_id)
        return found.ahead if found is not None else 0

    def place(self, ticket_id: str) -> Place | None:
        """Where a waiting ticket stands (people ahead, expected wait); None once it is called or done."""
        with read_transaction(self.engine) as r:
            return self.line.place(r, ticket_id)

    def display_number(self, ticket_id: str) -> str | None:
        """What a ticket shows and is called by ("A012"); None for an id that is no ticket of this kiosk."""
        found = read_scalars(self.engine, "SELECT display_number FROM tickets WHERE id = ?", (ticket_id,))
        return found[0] if found else None

    def close(self) -> None:
        self.tickets.close()

    # --- helpers ---------------------------------------------------------------------------------

    def _day_start(self, day) -> datetime:
        return to_naive_utc(datetime.combine(day, time(0), tzinfo=self.clock.tz))

    def _local(self, stored: str | datetime | None) -> str | None:
        if stored is None:
            return None
        return self.clock.local(from_naive_utc(stored_time(stored))).isoformat()

    def _brief(self, row: dict | None) -> dict | None:
        if row is None:
            return None
        return {
            "id": row["ticket_id"],
            "display_number": row["display_number"],
            "service": row["service_code"],
            "priority": bool(row["priority"]),
            "called_at": self._local(row["called_at"]),
        }

    def _held_item(self, held: dict) -> dict:
        return {
            "id": held["id"],
            "display_number": held["display_number"],
            "service": held["service"],
            "priority": held["priority"],
            "counter": held["counter"],
            "status": "held",
            "hold": hold_json(self.clock, held["reason"], held["until"]),
        }

    def _calling_line(self, r: ReadTransaction, counter: int, day: date) -> list[dict[str, Any]]:
        """The console's line: the tickets this counter's "next" will call, in that order (the play-out of
        :func:`kiosk.ahead.calling_order`: due bookings before walk-ins, visits moving on to their next field),
        each once, with ``position`` (1: the one "next" calls now) and ``next``. ``service`` is the field it will
        be called for; the ticket served here is listed (``status`` "called") when "next" calls it again for its
        next field."""
        order: dict[str, str] = {}
        for w in self.line.counter_order(r, day, counter, CONSOLE_WAITING):
            order.setdefault(w.ticket_id, w.service)  # a visit of several fields: at its first call
        if not order:
            return []
        found = {
            row["ticket_id"]: row for row in r.rows(_LINE_TICKETS.format(marks=",".join("?" * len(order))), (*order,))
        }
        line = []
        for position, (ticket_id, service) in enumerate(order.items(), 1):
            item = self._line_item(found[ticket_id])
            item.update(service=service, position=position, next=position == 1)
            line.append(item)
        return line

    def _line_item(self, row: dict) -> dict:
        return {
            "id": row["ticket_id"],
            "display_number": row["display_number"],
            "service": row["service_code"],
            "priority": bool(row["priority"]),
            "status": row["status"],
            "queued_at": self._local(row["queued_at"]),
            "print_status": row["print_status"] or "none",
            "print_error": row["print_error"],
        }


def take_ticket(
    queue: QueueService,
    printing: PrintService | None,
    service: Any,
    priority: Any = False,
    channel: Any = "touch",
    wait: float = PRINT_WAIT_SECONDS,
    due: datetime | None = None,
    booking: str | None = None,
) -> dict[str, Any]:
    """Issue a ticket, then hand it to the printer; the ticket is committed whatever the printer does.

    The answer says whether it printed: ``print_status`` is ``printed``, ``failed``, ``pending`` (still
    printing after ``wait`` seconds) or ``none`` (this kiosk has no printer).
    """
    ticket = queue.issue(service, priority, channel, due, booking)
    answer = ticket.as_json()
    if printing is None or _printer_disabled(printing):
        answer.update(printed=False, print_error="This kiosk has no ticket printer.", print_status="none")
        return answer
    try:
        printing.submit(ticket.id)
        printed, error = printing.wait(ticket.id, timeout=wait) if wait > 0 else (None, None)
    except Exception as exc:  # a printer fault never loses the ticket
        log.exception("printing ticket %s failed", ticket.display_number)
        printed, error = False, str(exc) or exc.__class__.__name__
    status = "pending" if printed is None else ("printed" if printed else "failed")
    answer.update(printed=bool(printed), print_error=error, print_status=status)
    return answer


def _printer_disabled(printing: PrintService) -> bool:
    """`printer = none`: no job is queued (nothing could print it), the screen asks to remember the number."""
    try:
        return printing.status() == "disabled"
    except Exception:  # a status probe must not cost the citizen the ticket
        return False


_SERVING = (
    "SELECT ts.ticket_id, ts.counter_number, ts.service_code, ts.priority, ts.called_at, t.display_number "
    "FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id WHERE ts.status = 'called'"
)
_DOSSIERS = "SELECT dossier_codes FROM ticket_state WHERE ticket_id = ?"
_RECENT_CALLS = (
    "SELECT ca.ticket_id, ca.counter_number, ca.action, ca.device_time, t.display_number, ts.service_code "
    "FROM clerk_actions ca JOIN tickets t ON t.id = ca.ticket_id JOIN ticket_state ts ON ts.ticket_id = t.id "
    "WHERE ca.action IN ('call', 'recall') AND ca.device_time >= ? ORDER BY ca.seq DESC LIMIT ?"
)
_PRINT_STATUS = (
    "(SELECT status FROM print_jobs p WHERE p.ticket_id = ts.ticket_id ORDER BY p.id DESC LIMIT 1) AS print_status, "
    "(SELECT error FROM print_jobs p WHERE p.ticket_id = ts.ticket_id ORDER BY p.id DESC LIMIT 1) AS print_error"
)
_LINE_TICKETS = (
    "SELECT ts.ticket_id, ts.service_code, ts.priority, ts.status, ts.queued_at, t.display_number, "
    + _PRINT_STATUS
    + " FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id WHERE ts.ticket_id IN ({marks})"
)
_SERVED_HERE = (
    "SELECT ts.ticket_id, ts.service_code, ts.priority, ts.status, ts.queued_at, t.display_number, "
    + _PRINT_STATUS
    + " FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id "
    "WHERE ts.counter_number = ? AND ts.status IN ('called', 'done', 'no_show') AND ts.queue_day = ? "
    "ORDER BY ts.called_at DESC LIMIT ?"
)
