"""The day the queue runs on, kept honest when the clock is not (a Raspberry Pi has no hardware clock).

Tickets are numbered per (service, business day) and a day's leftovers are not called the next morning.
That needs a day the kiosk can trust:

* while the clock is NTP-synchronised (or has been since this process started), the day is the clock's;
* while it is known to be unsynchronised, new tickets keep the **last trusted day** (stored in
  ``device_state``): a Pi that boots with yesterday's time goes on with yesterday's numbering instead of
  starting a day it knows nothing about. Such tickets are marked *provisional* (``ticket_state``);
* when the day changes to a trusted one, the provisional tickets still waiting, and after a clock jump the
  waiting tickets this process issued before it, **move to the new day's queue** with their numbers,
  and the new day's numbering continues above the highest of them (``number_floor``): nobody waiting
  loses their place and no number is handed to two waiting citizens;
* a trusted day, once open, never goes back: a clock stepped back (by 25 s across midnight, or by a week)
  keeps issuing into the open day and continues its numbering, so no number is handed out twice on one
  queue day. Only a clock reading of a *later* day opens a new one (an untrusted day, opened before the
  clock was synchronised, is still replaced by the trusted one as above).

A day that closes (the clock passes midnight, or steps forward) leaves the tickets still waiting behind,
uncalled: the next day's counters do not call them. They are not stranded silently: the closing is logged
with their count, and each one's phone page says the day's queue has closed and that the number will not be
called (``kiosk.phone``: status ``closed``).

A jump is a change of the wall clock that the monotonic clock did not see (more than :data:`JUMP_SECONDS`).
Reads ask :meth:`QueueDay.peek` (no database access unless the day changed); writers call
:meth:`QueueDay.current` inside their transaction, which rolls the queue over when needed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk import device_state
from kiosk.clock import Clock
from kiosk.device_state import NUMBER_FLOOR, QUEUE_DAY
from kiosk.storage import Scalars, scalars_reader

log = logging.getLogger(__name__)

#: A difference between wall-clock and monotonic progress larger than this is a clock jump.
JUMP_SECONDS = 120.0


@dataclass(frozen=True)
class Day:
    day: date
    trusted: bool


class QueueDay:
    """The queue's day of one kiosk; thread-safe reads, rollover inside the caller's write transaction."""

    def __init__(self, clock: Clock, engine: Any) -> None:
        self.clock = clock
        self._read = scalars_reader(engine)  # reads outside any write transaction
        self._lock = threading.Lock()
        self._stored: Day | None = None
        self._loaded = False
        self._floors: dict[str, int] = {}
        self._trusted_in_run = False
        self._seen: tuple[float, float] | None = None  # (wall, monotonic) of the last look at the clock
        self._jumped = False
        self._first_seq: int | None = None  # the first ticket this process issued

    # --- what the day is --------------------------------------------------------------------------------

    def candidate(self) -> Day:
        """The day the queue should be on now, from the clock and the stored day (no writes)."""
        self._load()
        self._watch_for_jumps()
        if self.clock.synced():
            self._trusted_in_run = True
        stored = self._stored
        if self._trusted_in_run:
            day = self.clock.business_day()
            if stored is not None and stored.trusted and stored.day > day:
                day = stored.day  # a clock stepped back: the open day stays open (module doc)
            return Day(day, True)
        if stored is None:
            return Day(self.clock.business_day(), False)
        if stored.trusted:
            return Day(stored.day, False)  # the last trusted day: the clock is not to be believed
        return Day(max(stored.day, self.clock.business_day()), False)  # never trusted: forward with the clock only

    def peek(self) -> date:
        """The queue's day for a reader: the stored day, unless the day has changed (then the writer's
        next transaction moves the queue; a reader just shows the new day's queue)."""
        candidate = self.candidate()
        stored = self._stored
        return candidate.day if stored is None or stored.day != candidate.day else stored.day

    def changed(self) -> bool:
        """Whether the queue should move to another day (a writer's :meth:`current` would roll it over)."""
        stored = self._stored
        return stored is None or stored.day != self.candidate().day

    def provisional(self) -> bool:
        return not self.candidate().trusted

    def floor(self, code: str) -> int:
        """Numbers already held by waiting tickets moved into today's queue (today's numbering goes above)."""
        return self._floors.get(code, 0)

    def note_issued(self, first_seq: int) -> None:
        if self._first_seq is None:
            self._first_seq = first_seq

    # --- rolling over ----------------------------------------------------------------------------------

    def current(self, execute: Scalars) -> Day:
        """The queue's day, rolling the queue over first if the day changed (call inside a write transaction
        holding the queue's write lock; ``execute`` runs driver SQL on that transaction)."""
        candidate = self.candidate()
        with self._lock:
            stored = self._stored
            if stored is not None and stored.day == candidate.day:
                self._jumped = False  # a jump within the day moves nobody
                if candidate.trusted and not stored.trusted:
                    self._store(execute, candidate)  # the same day, now confirmed
                return candidate
            moved: dict[str, int] = {}
            if stored is not None and candidate.trusted:
                moved = self._carry_over(execute, stored.day, candidate.day)
            self._store(execute, candidate)
            self._floors = moved
            device_state.store(execute, NUMBER_FLOOR, {"day": candidate.day.isoformat(), "floors": moved})
            self._jumped = False
            if stored is not None:
                log.info(
                    "queue day %s -> %s; %d service(s) carried over tickets", stored.day, candidate.day, len(moved)
                )
                left = execute(_LEFT_WAITING, (stored.day.isoformat(),))
                if left and int(left[0]):
                    log.warning(
                        "the queue of %s closed with %s ticket(s) still waiting: they will not be called "
                        "(their phone pages say so)",
                        stored.day,
                        left[0],
                    )
            return candidate

    def _carry_over(self, execute: Scalars, old: date, new: date) -> dict[str, int]:
        """Move the waiting tickets that belong to the new day (see module doc); returns the floors per service."""
        since = self._first_seq if self._jumped and self._first_seq is not None else None
        where = "ts.status = 'waiting' AND ts.queue_day = ? AND (ts.provisional" + (" OR t.seq >= ?)" if since else ")")
        params: tuple = (old.isoformat(), since) if since else (old.isoformat(),)
        found = execute(
            "SELECT t.service_code || char(9) || MAX(t.number) || char(9) || COUNT(*) FROM ticket_state ts "
            f"JOIN tickets t ON t.id = ts.ticket_id WHERE {where} GROUP BY t.service_code",
            params,
        )
        floors = {}
        for line in found:
            code, highest, count = line.split("\t")
            floors[code] = int(highest)
            log.warning("clock change: %s waiting ticket(s) of service %s move from %s to %s", count, code, old, new)
        if floors:
            execute(
                "UPDATE ticket_state SET queue_day = ?, provisional = 0 WHERE ticket_id IN (SELECT ts.ticket_id FROM "
                f"ticket_state ts JOIN tickets t ON t.id = ts.ticket_id WHERE {where})",
                (new.isoformat(), *params),
            )
        return floors

    # --- helpers ---------------------------------------------------------------------------------------

    def _store(self, execute: Scalars, day: Day) -> None:
        device_state.store(execute, QUEUE_DAY, {"day": day.day.isoformat(), "trusted": day.trusted})
        self._stored = day

    def _load(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            state, floor = device_state.load(self._read, QUEUE_DAY, NUMBER_FLOOR)
            if state is not None:
                self._stored = Day(date.fromisoformat(state["day"]), bool(state.get("trusted")))
            if floor is not None and (self._stored is None or floor.get("day") == self._stored.day.isoformat()):
                self._floors = {k: int(v) for k, v in (floor.get("floors") or {}).items()}
            if self._stored is None:
                self._floors = {}
            self._loaded = True

    def _watch_for_jumps(self) -> None:
        wall, mono = self.clock.now().timestamp(), self.clock.monotonic()
        seen, self._seen = self._seen, (wall, mono)
        if seen is not None and abs((wall - seen[0]) - (mono - seen[1])) > JUMP_SECONDS:
            log.warning("the wall clock jumped by %+.0f s", (wall - seen[0]) - (mono - seen[1]))
            self._jumped = True


_LEFT_WAITING = "SELECT COUNT(*) FROM ticket_state WHERE status = 'waiting' AND queue_day = ?"
