"""Clerk log-in at a counter with a PIN, one clerk per counter, the lock after repeated wrong PINs, and the
end of sessions.

One clerk stands at one counter and one counter has one clerk: logging in at a counter another clerk
holds is refused (409, ``counter_taken``) unless the clerk confirms ``take_over``, which logs the other
clerk out (their session stops working). Log-ins count for the business day they were made on, so a
clerk who forgot to log out yesterday does not hold the counter this morning.

A 4-digit PIN has only 10,000 values, so wrong PINs are counted per **kiosk** (trying other counters
gives no more guesses) and after ``MAX_FAILURES`` in a row log-in is locked for ``LOCK_SECONDS``, even
for the right PIN. The count lives in the database (:mod:`kiosk.lockout`) and the lock is timed on the
monotonic clock (:class:`common.throttle.Lockout`): neither a restart nor a clock moved back lifts it.

A clerk's session is a signed cookie, and the server decides whether it still holds (:meth:`ClerkDesk.
session_valid`): the cookie carries a session mark (:mod:`common.web.session_mark`) of the clerk's session
epoch (in ``device_state``; a log-out raises it) and PIN hash, so a log-out or a new PIN ends **every**
session of that clerk; and a session ends a day after its log-in. Every log-in and log-out is an
append-only :class:`ClerkAction`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session, sessionmaker

from common.catalog_rules import pin_matches
from common.errors import AuthError, ConflictError, LockedOut, NotFoundError, ValidationError, refused_as
from common.throttle import Lockout, LockState
from common.web.session_mark import make_mark, mark_holds
from kiosk import device_state
from kiosk.clock import Clock, to_naive_utc
from kiosk.device_state import CLERK_SESSION
from kiosk.events import EventBus
from kiosk.lockout import StoredFailures
from kiosk.models import Clerk, ClerkAction, Counter
from kiosk.records import stamp
from kiosk.storage import db_time, read_rows, read_transaction, transaction

MAX_FAILURES = 5
LOCK_SECONDS = 300
LOCK_KEY = device_state.LOGIN_FAILURES.name
#: A clerk's session ends this long after the log-in.
SESSION_SECONDS = 24 * 3600
#: A log-in time this far in the future means the clock was moved back: the session is not trusted.
CLOCK_SLACK = 300


@dataclass(frozen=True)
class ClerkLogin:
    id: str
    name: str
    code: str
    counter: int
    mark: str = ""  # the session mark of the clerk's session epoch and PIN hash at log-in
    at: float = 0.0  # wall-clock time of the log-in (POSIX seconds)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "code": self.code, "counter": self.counter}

    def session(self) -> dict[str, Any]:
        """What the session cookie keeps: who, where, and what the server checks on every call."""
        return {**self.as_json(), "mark": self.mark, "at": self.at}


class CounterTaken(ConflictError):
    """The counter is held by another clerk; log in again with ``take_over`` to log them out."""

    code = "counter_taken"


class ClerkDesk:
    """Log-in and log-out of clerks at counters."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, events: EventBus, write_lock: threading.Lock | None = None
    ) -> None:
        self.sessions = sessions
        self.write_lock = write_lock or threading.Lock()  # shared with the other queue writers
        self.clock = clock
        self.events = events
        self._lock = threading.Lock()
        self._at: dict[int, tuple[str, str]] | None = None  # counter -> (clerk id, name) logged in there
        self._at_day: date | None = None  # the business day self._at was read for
        self.lockout = Lockout(MAX_FAILURES, LOCK_SECONDS, clock.monotonic)

    def login(self, counter: Any, pin: Any, code: Any = None, take_over: Any = False) -> ClerkLogin:
        """The clerk whose PIN this is, logged in at ``counter``; AuthError (401) or LockedOut (429) otherwise.

        Clerks whose usual counter this is are tried first (a clerk may stand in at another counter).
        ``code`` narrows the search to one clerk when two share a PIN. A counter another clerk holds is
        refused with :class:`CounterTaken` (409) unless ``take_over`` is true: then that clerk is logged out.
        """
        if not isinstance(take_over, bool):
            raise ValidationError("take_over must be true or false.", {"field": "take_over"})
        if isinstance(counter, bool) or not isinstance(counter, int):
            raise ValidationError("counter must be a whole number.", {"field": "counter"})
        if not isinstance(pin, str) or not pin:
            raise refused_as(ValidationError, "pin", "Type the PIN.")
        with self.sessions() as s:  # a short read; the slow PIN hashing below holds no database lock
            desk = s.get(Counter, counter)
            if desk is None or not desk.active:
                raise refused_as(
                    NotFoundError, "counter", "Counter %(number)s does not exist on this kiosk.", number=counter
                )
            self._refuse_locked(self.lockout.state(StoredFailures(s, LOCK_KEY)))
            s.commit()  # an elapsed lock was lifted
            query = select(Clerk).where(Clerk.active).order_by(case((Clerk.counter_number == counter, 0), else_=1))
            if code is not None:
                query = query.where(Clerk.code == str(code).strip().upper())
            candidates = list(s.scalars(query))
        clerk = next((c for c in candidates if pin_matches(c, pin)), None)
        displaced: tuple[str, str] | None = None
        with self.write_lock, transaction(self.sessions) as s:
            failures = StoredFailures(s, LOCK_KEY)
            self._refuse_locked(self.lockout.state(failures))  # again: attempts made meanwhile count too
            outcome = None
            if clerk is None:
                outcome = self.lockout.failed(failures)
            else:
                self.lockout.succeeded(failures)
                displaced = self._take(s, counter, clerk.id, take_over)
                stamp(s, ClerkAction(action="login", counter_number=counter, clerk_id=clerk.id), self.clock)
                result = ClerkLogin(
                    clerk.id,
                    clerk.name,
                    clerk.code,
                    counter,
                    mark=make_mark(clerk.id, self._epoch(s, clerk.id), clerk.pin_hash),
                    at=self.clock.now().timestamp(),
                )
        # The failure count is committed before the answer, so a killed process cannot forget it.
        if outcome is not None:
            if outcome.locked:
                raise LockedOut(
                    f"Wrong PIN {MAX_FAILURES} times in a row at this kiosk: "
                    f"log-in is locked for {LOCK_SECONDS // 60} minutes.",
                    {"reason": "locked", "seconds": LOCK_SECONDS},
                    retry_after=LOCK_SECONDS,
                )
            raise AuthError(
                f"Wrong PIN for counter {counter}; {MAX_FAILURES - outcome.failures} tries left before a "
                f"{LOCK_SECONDS // 60}-minute lock of this kiosk's log-in.",
                {"reason": "wrong_pin", "tries_left": MAX_FAILURES - outcome.failures},
            )
        with self._lock:
            at = self.at_counters()
            for number, (clerk_id, _) in list(at.items()):
                if clerk_id == result.id:
                    del at[number]  # one clerk stands at one counter
            at[counter] = (result.id, result.name)
        if displaced is not None:
            self.events.publish("clerk_logout", {"counter": counter, "taken_over": True, "clerk": displaced[1]})
        self.events.publish("clerk_login", {"counter": counter, "clerk": result.name})
        return result

    def _take(self, s: Session, counter: int, clerk_id: str, take_over: bool) -> tuple[str, str] | None:
        """Refuse a counter another clerk holds (CounterTaken), or with ``take_over`` log that clerk out."""
        with self._lock:
            held = self.at_counters().get(counter)
        if held is None or held[0] == clerk_id:
            return None
        if not take_over:
            raise CounterTaken(
                f"Counter {counter} is held by {held[1]}; confirm to take it over (they are logged out), "
                "or choose another counter.",
                {"reason": "counter_taken", "counter": counter, "clerk": held[1]},
            )
        detail = {"reason": "taken_over", "by": clerk_id}
        stamp(s, ClerkAction(action="logout", counter_number=counter, clerk_id=held[0], detail=detail), self.clock)
        self._end_sessions(s, held[0])
        return held

    def logout(self, clerk_id: str, counter: int) -> None:
        """Log the clerk out: every session of this clerk ends (on this browser and any other)."""
        with self.write_lock, transaction(self.sessions) as s:
            stamp(s, ClerkAction(action="logout", counter_number=counter, clerk_id=clerk_id), self.clock)
            self._end_sessions(s, clerk_id)
        with self._lock:
            at = self.at_counters()
            if at.get(counter, ("",))[0] == clerk_id:
                del at[counter]
        self.events.publish("clerk_logout", {"counter": counter})

    def forget(self) -> None:
        """Read who is where again (after a catalogue change renamed or deactivated a clerk)."""
        with self._lock:
            self._at = None

    def at_counters(self) -> dict[int, tuple[str, str]]:
        """Who is logged in at each counter today (the last log-in without a log-out), read once from the actions.

        A plain read (never the write lock), so it may be called inside a write transaction.
        """
        day = self.clock.business_day()
        if self._at is None or self._at_day != day:
            at: dict[int, tuple[str, str]] = {}
            since = to_naive_utc(datetime.combine(day, time(0), tzinfo=self.clock.tz))
            rows = read_rows(self.sessions.kw["bind"], _LOGINS_SINCE, (db_time(since),))
            for counter, action, clerk_id, name in rows:
                if action == "login":
                    for number, held in list(at.items()):
                        if held[0] == clerk_id:
                            del at[number]
                    at[counter] = (clerk_id, name)
                elif at.get(counter, ("",))[0] == clerk_id:
                    del at[counter]
            self._at, self._at_day = at, day
        return self._at

    def holds(self, clerk_id: str, counter: int) -> bool:
        """Whether this clerk is (still) the one logged in at ``counter``: a session elsewhere has ended."""
        with self._lock:
            return self.at_counters().get(counter, ("",))[0] == clerk_id

    def holder(self, counter: int) -> tuple[str, str] | None:
        """(id, name) of the clerk logged in at ``counter`` today, if any."""
        with self._lock:
            return self.at_counters().get(counter)

    def roster(self) -> list[dict[str, Any]]:
        """The active clerks for the console's log-in form: name, code and usual counter."""
        rows = read_rows(
            self.sessions.kw["bind"],
            "SELECT name, code, counter_number FROM clerks WHERE active ORDER BY counter_number IS NULL, "
            "counter_number, name",
        )
        return [{"name": name, "code": code, "counter": counter} for name, code, counter in rows]

    def active(self, clerk_id: str) -> bool:
        """Whether the clerk is still active (a deactivated clerk's session stops working).

        Checked on every clerk call, so it is a plain read that never waits for a writer.
        """
        found = read_rows(self.sessions.kw["bind"], "SELECT active FROM clerks WHERE id = ?", (clerk_id,))
        return bool(found and found[0][0])

    def session_valid(self, data: dict[str, Any]) -> bool:
        """Whether a clerk session (what :meth:`ClerkLogin.session` put in the cookie) still holds: the clerk is
        active, has not logged out since and has the same PIN (its mark), and logged in less than a day ago.

        Checked on every clerk call, so it is one short read that never waits for a writer.
        """
        with read_transaction(self.sessions.kw["bind"]) as r:
            found = r.scalars("SELECT pin_hash FROM clerks WHERE id = ? AND active", (data.get("id"),))
            (epoch,) = device_state.load(r.scalars, CLERK_SESSION(str(data.get("id"))))
        if not found:
            return False
        pin_hash = found[0]
        age = self.clock.now().timestamp() - float(data.get("at") or 0)
        return mark_holds(data.get("mark"), str(data.get("id")), epoch, pin_hash) and (
            -CLOCK_SLACK <= age <= SESSION_SECONDS
        )

    def _refuse_locked(self, state: LockState) -> None:
        if state.locked:
            minutes = max(1, round(state.seconds_left / 60))
            raise LockedOut(
                f"Too many wrong PINs at this kiosk: log-in is locked for about {minutes} minute(s). "
                "Wait, or ask the administrator.",
                {"reason": "locked", "seconds": state.seconds_left},
                retry_after=state.seconds_left,
            )

    def _end_sessions(self, s: Session, clerk_id: str) -> None:
        """Every session of this clerk ends (the epoch its cookies carry moves on)."""
        device_state.put(s, CLERK_SESSION(clerk_id), self._epoch(s, clerk_id) + 1)

    @staticmethod
    def _epoch(s: Session, clerk_id: str) -> int:
        return device_state.get(s, CLERK_SESSION(clerk_id))


_LOGINS_SINCE = (
    "SELECT ca.counter_number, ca.action, c.id, c.name FROM clerk_actions ca JOIN clerks c ON c.id = ca.clerk_id "
    "WHERE ca.action IN ('login', 'logout') AND ca.counter_number IS NOT NULL AND ca.device_time >= ? "
    "ORDER BY ca.seq"
)
