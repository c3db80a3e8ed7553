"""Issuing queue tickets: the next number per (service, business day), committed before it is shown.

The number is ``MAX(number) + 1`` read *inside* the write transaction. On SQLite every write transaction
is ``BEGIN IMMEDIATE``, so no other writer (thread or process) can take the same number between the read
and the insert; the unique constraint ``uq_tickets_service_day_number`` backs that up, and if it ever
fires the whole transaction is retried. Nothing is counted in memory, so a restart continues from the
database: a number is never reused and never skipped. The popular alternative (``max()+1`` outside a
transaction, dates from the process start in UTC) issues duplicates under several workers.
"""

from __future__ import annotations

import logging
import math
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import IntegrityError

from common.errors import ConflictError, KioskError, NotFoundError, ValidationError, refused_as
from kiosk.catalog_state import read_site
from kiosk.clock import Clock, to_naive_utc
from kiosk.events import EventBus
from kiosk.fields import AVERAGE_SERVICE_SECONDS, FIELD_COLUMNS, field_rows
from kiosk.models import new_uuid
from kiosk.queue_day import QueueDay
from kiosk.records import reserve_seqs
from kiosk.storage import DirectWriter, Scalars, db_time, read_rows

log = logging.getLogger(__name__)

CHANNELS = ("touch", "button")
#: Assumed minutes per citizen until a service has completed tickets to learn from.
DEFAULT_SERVICE_SECONDS = 300.0
#: How many recent completed tickets the service-time average uses, and how long it is cached.
RECENT_SERVED = 20
ESTIMATE_TTL = 30.0
RETRIES = 5
#: Most tickets written in one transaction (group commit).
MAX_BATCH = 64


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    prefix: str
    daily_max: int | None
    #: An open counter of this kiosk handles it: else no ticket is issued (nobody could call it).
    staffed: bool = True


@dataclass(frozen=True)
class IssuedTicket:
    id: str
    number: int
    display_number: str
    service: str
    service_name: str
    priority: bool
    channel: str
    business_day: date
    issued_at: datetime
    position: int  # 1 = next to be called (ahead + 1)
    ahead: int  # people waiting before this ticket
    wait_minutes: int
    #: The reception point it was taken at ({"code", "name"}), once the central server has named it.
    site: dict[str, str] | None = None
    #: Every field of the visit in order ({"code", "name"}), the first being ``service`` (kiosk.fields).
    fields: tuple[dict[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "display_number": self.display_number,
            "service": self.service,
            "service_name": self.service_name,
            "priority": self.priority,
            "position": self.position,
            "ahead": self.ahead,
            "wait_minutes": self.wait_minutes,
            "issued_at": self.issued_at.isoformat(),
            "site": self.site,
            "services": list(self.fields) or [{"code": self.service, "name": self.service_name}],
        }


@dataclass
class _Request:
    info: ServiceInfo
    priority: bool
    channel: str
    #: A checked-in booking's booked time (naive UTC), None for a walk-in (``kiosk.bookings``).
    due: datetime | None = None
    #: The visit's further fields, after ``info`` (kiosk.fields); empty for a ticket of one field.
    rest: tuple[ServiceInfo, ...] = ()
    #: The booking code of a check-in (booked or late), None for a walk-in (``kiosk.bookings``).
    booking: str | None = None
    result: IssuedTicket | None = None
    error: Exception | None = None


def new_token() -> str:
    """An unguessable token for a ticket's phone page (128 random bits, 22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def display_number(prefix: str, number: int) -> str:
    """What is printed, shown and spoken: the service prefix and three digits ("A012")."""
    return f"{prefix or ''}{number:03d}"


#: The services in use, in screen order, and whether an open counter of this kiosk handles each.
_OFFERED = (
    "SELECT s.code, s.name, s.prefix, s.daily_max, EXISTS (SELECT 1 FROM counter_services cs JOIN counters c "
    "ON c.number = cs.counter_number WHERE cs.service_code = s.code AND c.active) "
    "FROM services s WHERE s.active ORDER BY s.position, s.code"
)


def unstaffed(service: ServiceInfo, allowed: list[str]) -> KioskError:
    """The refusal (409) of a ticket for a service no open counter here handles: nobody could call it."""
    refused = refused_as(
        ConflictError,
        "service",
        "No counter here serves %(name)s now, so no ticket is issued for it; please ask at the reception desk.",
        name=service.name,
    )
    refused.detail.update(reason="no_counter", allowed=allowed)
    return refused


class TicketIssuer:
    """Hands out ticket numbers. One per app; safe to call from many threads (and processes)."""

    def __init__(self, engine: Any, clock: Clock, events: EventBus, queue_day: QueueDay | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.events = events
        self.queue_day = queue_day or QueueDay(clock, engine)
        self._writer = DirectWriter(engine)
        #: Held while writing; the counters and clerk log-in share it, so queue writers in this process
        #: take turns in Python instead of in SQLite's busy handler (which sleeps in steps of 1–100 ms).
        self._lock = self.write_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: list[_Request] = []
        self._services: dict[str, ServiceInfo] | None = None
        self._site: dict[str, dict[str, str] | None] | None = None
        self._estimates: dict[str, tuple[float, float, int]] = {}  # code -> (when, avg seconds, open counters)
        #: Where a ticket just issued stands (kiosk.ahead, set by the queue service); None: its own line only.
        self.place: Callable[[str], Any] | None = None

    # --- catalogue -------------------------------------------------------------------------------

    def services(self) -> dict[str, ServiceInfo]:
        """Active services in screen order, cached until :meth:`reload`."""
        if self._services is None:
            rows = self._read(_OFFERED)
            self._services = {r[0]: ServiceInfo(r[0], r[1], r[2] or "", r[3], bool(r[4])) for r in rows}
        return self._services

    def site(self) -> dict[str, str] | None:
        """This kiosk's reception point, as the central server named it (cached until :meth:`reload`)."""
        if self._site is None:
            self._site = {"point": read_site(self.engine)}
        return self._site["point"]

    def codes(self) -> set[str]:
        """Every service code of this kiosk, in use or not."""
        return {row[0] for row in self._read("SELECT code FROM services")}

    def reload(self) -> None:
        self._services = None
        self._site = None
        self._estimates.clear()

    def service(self, code: Any) -> ServiceInfo:
        if not isinstance(code, str) or not code.strip():
            raise ValidationError('Name the service, e.g. {"service": "HT"}.', {"field": "service"})
        code = code.strip().upper()
        found = self.services().get(code)
        if found is None:
            self.reload()  # perhaps added since the cache was filled
            found = self.services().get(code)
        if found is None:
            allowed = list(self.services())
            retired = self._read("SELECT name FROM services WHERE code = ? AND NOT active", (code,))
            if retired:
                raise ConflictError(
                    f"Service {code} ({retired[0][0]}) is not in use at this kiosk now; "
                    f"take a number for one of {', '.join(allowed)}.",
                    {"field": "service", "reason": "service_inactive", "allowed": allowed},
                )
            raise NotFoundError(
                f"Service {code} does not exist on this kiosk; use one of {', '.join(allowed)}.",
                {"field": "service", "allowed": allowed},
            )
        if not found.staffed:
            raise unstaffed(found, [c for c, s in self.services().items() if s.staffed])
        return found

    # --- issuing ---------------------------------------------------------------------------------

    def issue(
        self,
        service: Any,
        priority: Any = False,
        channel: Any = "touch",
        due: datetime | None = None,
        booking: str | None = None,
    ) -> IssuedTicket:
        """Issue and commit the next ticket of a service; raises ConflictError at the daily maximum.

        Group commit: the caller queues its request, then whoever holds the writer lock writes every
        queued request in ONE transaction (one fsync) and wakes their callers. Under load a batch holds
        many tickets; alone, a ticket is its own batch. Each answer still comes after its COMMIT.
        ``due`` (a checked-in booking's time, naive UTC) marks the ticket as booked; ``booking`` is the code it
        checked in with (booked or late).
        """
        # several fields: a tuple of checked fields (kiosk.fields.check_services); JSON never gives a tuple
        infos = service if isinstance(service, tuple) else (self.service(service),)
        info = infos[0]
        if not isinstance(priority, bool):
            raise ValidationError("priority must be true or false.", {"field": "priority"})
        if channel not in CHANNELS:
            raise ValidationError(f"Unknown channel {channel!r}; use {' or '.join(CHANNELS)}.", {"field": "channel"})
        request = _Request(info, priority, channel, due, infos[1:], booking)
        with self._pending_lock:
            self._pending.append(request)
        waiting = None
        with self._lock:
            if request.result is None and request.error is None:
                with self._pending_lock:
                    batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                waiting = self._write_batch(batch)
        if request.error is not None:
            if waiting is not None:
                self.events.publish("queue_changed", {"waiting": waiting})
            raise request.error
        ticket = request.result
        assert ticket is not None
        placed = self.place(ticket.id) if self.place is not None else None
        if placed is not None:  # the people really called before it, at every counter that may call it
            ticket = replace(ticket, position=placed.ahead + 1, ahead=placed.ahead, wait_minutes=placed.wait_minutes)
        else:
            ticket = replace(ticket, wait_minutes=self.estimate_minutes(ticket.service, ticket.ahead))
        ticket = replace(ticket, site=self.site())
        self.events.publish(
            "ticket_issued",
            {
                "id": ticket.id,
                "display_number": ticket.display_number,
                "service": ticket.service,
                "priority": ticket.priority,
                "position": ticket.position,
            },
        )
        if waiting is not None:  # the writer of the batch: one update of the counts per batch
            self.events.publish("queue_changed", {"waiting": waiting})
        return ticket

    def _write_batch(self, batch: list[_Request]) -> dict[str, int] | None:
        """Write a batch in one transaction; sets each request's result or error. Returns the waiting counts."""
        for attempt in range(RETRIES):
            try:
                with self._writer.transaction() as w:
                    outcomes, waiting = self._insert_batch(w, batch)
            except (sqlite3.IntegrityError, IntegrityError) as exc:
                # Another process took a number between our read and insert: read again.
                log.warning("ticket number clash (attempt %d): %s", attempt + 1, exc)
                time.sleep(0.005 * (attempt + 1))
                continue
            except Exception as exc:  # the database failed: every caller in the batch hears it
                for request in batch:
                    request.error = exc
                return None
            for request, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, IssuedTicket):
                    request.result = outcome
                else:
                    request.error = outcome
            return waiting if any(isinstance(o, IssuedTicket) for o in outcomes) else None
        for request in batch:
            request.error = ConflictError(f"Could not issue a ticket after {RETRIES} tries; please try again.")
        return None

    def _insert_batch(
        self, w: DirectWriter, batch: list[_Request]
    ) -> tuple[list[IssuedTicket | ConflictError], dict[str, int]]:
        """The batch's tickets in a fixed handful of statements, whatever its size.

        Every statement releases the GIL and must win it back from the busy web threads, so the
        transaction reads the day's state once (last numbers, people waiting), numbers the tickets in
        Python, and writes them with one multi-row INSERT per table. It holds the write lock, so the
        numbers and positions it works out are exact. At the daily maximum nothing is written.
        """
        now = to_naive_utc(self.clock.now())
        today = self.queue_day.current(w.scalars)  # the last trusted day while the clock is unsynchronised
        day, provisional = today.day, int(not today.trusted)
        codes = sorted({r.info.code for r in batch})
        found = w.row(_last_numbers(len(codes)), tuple(_interleave(codes, day.isoformat())))
        # Above the day's highest number, and above those of waiting tickets moved into today's queue.
        last = {code: max(n, self.queue_day.floor(code)) for code, n in zip(codes, found.values(), strict=True)}
        waiting_by = {code: [0, 0] for code in self.services()}  # code -> [all waiting, priority waiting]
        for text in w.scalars(_WAITING_BY_PRIORITY, (day.isoformat(),)):
            code, priority, n = text.split("\t")
            counts = waiting_by.setdefault(code, [0, 0])
            counts[0] += int(n)
            if priority == "1":
                counts[1] += int(n)
        outcomes: list[IssuedTicket | ConflictError] = []
        tickets: list[list] = []
        states: list[tuple] = []
        fields: list[tuple] = []
        synced = self.clock.synced()
        for request in batch:
            info, priority = request.info, request.priority
            number = (last[info.code] or 0) + 1
            if info.daily_max and number > info.daily_max:
                outcomes.append(
                    ConflictError(
                        f"Service {info.code} has issued its daily maximum of {info.daily_max} tickets today; "
                        "please ask the clerk, or come back on the next working day.",
                        {"reason": "daily_max", "service": info.code, "daily_max": info.daily_max},
                    )
                )
                continue
            last[info.code] = number
            counts = waiting_by[info.code]
            ahead = counts[1] if priority else counts[0]
            counts[0] += 1
            counts[1] += 1 if priority else 0
            ticket_id, shown = new_uuid(), display_number(info.prefix, number)
            tickets.append([ticket_id, None, db_time(now), int(synced), info.code, day.isoformat(), number, shown,
                            int(priority), request.channel, None if request.due is None else 1,
                            request.booking])  # fmt: skip
            token = new_token()  # the phone page's secret: printed inside this ticket's QR code only
            states.append(
                (ticket_id, "waiting", info.code, int(priority), db_time(now), day.isoformat(), provisional, token,
                 None if request.due is None else db_time(request.due))
            )  # fmt: skip
            if request.rest:
                fields.extend(field_rows(ticket_id, (info, *request.rest)))
            outcomes.append(
                IssuedTicket(
                    id=ticket_id,
                    number=number,
                    display_number=shown,
                    service=info.code,
                    service_name=info.name,
                    priority=priority,
                    channel=request.channel,
                    business_day=day,
                    issued_at=self.clock.local(now),
                    position=ahead + 1,
                    ahead=ahead,
                    wait_minutes=0,
                    fields=tuple({"code": f.code, "name": f.name} for f in (info, *request.rest))
                    if request.rest
                    else (),
                )
            )
        if tickets:
            first = reserve_seqs(w.scalars, len(tickets))
            self.queue_day.note_issued(first)
            for offset, row in enumerate(tickets):
                row[1] = first + offset
            w.insert_rows("tickets", _TICKET_COLUMNS, tickets)
            w.insert_rows("ticket_state", _STATE_COLUMNS, states)
            if fields:
                w.insert_rows("ticket_fields", FIELD_COLUMNS, fields)
        waiting = {code: counts[0] for code, counts in waiting_by.items()}
        return outcomes, waiting

    def roll_day(self) -> date:
        """The queue's day, moving the queue to a new day first if the day changed (see kiosk.queue_day)."""
        if not self.queue_day.changed():
            return self.queue_day.peek()
        with self._lock, self._writer.transaction() as w:
            day = self.queue_day.current(w.scalars).day
        return day

    # --- estimates -------------------------------------------------------------------------------

    def estimate_minutes(self, service: str, ahead: int) -> int:
        """Minutes until a ticket with ``ahead`` people before it is called, from recent service times."""
        if ahead <= 0:
            return 0
        now = self.clock.monotonic()
        cached = self._estimates.get(service)
        if cached is None or now - cached[0] > ESTIMATE_TTL:
            avg = self._read(AVERAGE_SERVICE_SECONDS, (service, service, RECENT_SERVED))[0][0]
            counters = self._read(_OPEN_COUNTERS, (service,))[0][0] or 0
            cached = (now, round(float(avg)) if avg else DEFAULT_SERVICE_SECONDS, int(counters))
            self._estimates[service] = cached
        _, seconds, counters = cached
        return max(1, math.ceil(ahead * seconds / max(counters, 1) / 60))

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        return read_rows(self.engine, sql, params)

    def forget_estimates(self) -> None:
        """After a completion, pause or resume the averages and open counters change."""
        self._estimates.clear()

    def close(self) -> None:
        with self._lock:
            self._writer.close()


def waiting_counts(scalars: Scalars, day: date) -> dict[str, int]:
    """Tickets waiting in the queue of ``day`` (``ticket_state.queue_day``), per active service (zeros included).

    Counting needs only the ``ix_ticket_state_queue`` index, no join.

    ``scalars(sql, params)`` runs driver SQL and returns the first column (:data:`kiosk.storage.Scalars`).
    """
    counts = {code: 0 for code in scalars("SELECT code FROM services WHERE active ORDER BY position, code", ())}
    for pair in scalars(_WAITING_COUNTS, (day.isoformat(),)):
        code, n = pair.split("\t")
        counts[code] = int(n)
    return counts


_TICKET_COLUMNS = (
    "id", "seq", "device_time", "clock_synced", "service_code", "business_day", "number", "display_number",
    "priority", "channel", "booked", "booking_code",
)  # fmt: skip
_STATE_COLUMNS = (
    "ticket_id", "status", "service_code", "priority", "queued_at", "queue_day", "provisional", "token", "due_at",
)  # fmt: skip
_WAITING_BY_PRIORITY = (  # "CODE<TAB>priority<TAB>n" rows, over the covering queue index
    "SELECT service_code || char(9) || priority || char(9) || COUNT(*) FROM ticket_state "
    "WHERE status = 'waiting' AND queue_day = ? GROUP BY service_code, priority"
)


@lru_cache(maxsize=8)
def _last_numbers(services: int) -> str:
    """One row: the day's highest number of each service (each an index lookup)."""
    one = "(SELECT COALESCE(MAX(number), 0) FROM tickets WHERE service_code = ? AND business_day = ?)"
    return "SELECT " + ", ".join(f"{one} AS n{i}" for i in range(services))


def _interleave(codes: list[str], day: str) -> list[str]:
    return [value for code in codes for value in (code, day)]


_WAITING_COUNTS = (  # one text column "CODE<TAB>n", as a Scalars reads the first column
    "SELECT service_code || char(9) || COUNT(*) FROM ticket_state "
    "WHERE status = 'waiting' AND queue_day = ? GROUP BY service_code"
)
_OPEN_COUNTERS = (
    "SELECT COUNT(*) FROM counters c JOIN counter_services cs ON cs.counter_number = c.number "
    "WHERE cs.service_code = ? AND c.active AND NOT c.paused"
)
