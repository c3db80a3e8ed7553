"""Clerk log-in at a counter with a PIN, and the lock after repeated wrong PINs.

A 4-digit PIN has only 10,000 values, so wrong PINs are counted per counter (where the guessing
happens) and after ``MAX_FAILURES`` in a row that counter's log-in is locked for ``LOCK_SECONDS``,
even for the right PIN. The count lives in the database (``device_state``), so restarting the kiosk
does not reset it. Every log-in and log-out is an append-only :class:`ClerkAction`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session, sessionmaker

from kiosk.catalog import pin_matches
from kiosk.clock import Clock, to_naive_utc
from kiosk.db import transaction
from kiosk.errors import AuthError, KioskError, NotFoundError, ValidationError
from kiosk.events import EventBus
from kiosk.models import Clerk, ClerkAction, Counter, DeviceState
from kiosk.records import stamp
from kiosk.tickets import read_rows

MAX_FAILURES = 5
LOCK_SECONDS = 300


class LockedOut(KioskError, PermissionError):
    """Too many wrong PINs in a row at a counter."""

    status = 429
    code = "locked"


@dataclass(frozen=True)
class ClerkLogin:
    id: str
    name: str
    code: str
    counter: int

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "code": self.code, "counter": self.counter}


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

    def login(self, counter: Any, pin: Any, code: Any = None) -> ClerkLogin:
        """The clerk whose PIN this is, logged in at ``counter``; AuthError (401) or LockedOut (429) otherwise.

        Clerks whose usual counter this is are tried first (a clerk may stand in at another counter).
        ``code`` narrows the search to one clerk when two share a PIN.
        """
        if isinstance(counter, bool) or not isinstance(counter, int):
            raise ValidationError("counter must be a whole number.", {"field": "counter"})
        if not isinstance(pin, str) or not pin:
            raise ValidationError("Type the PIN.", {"field": "pin"})
        key = f"login_failures:{counter}"
        with self.sessions() as s:  # a short read; the slow PIN hashing below holds no database lock
            desk = s.get(Counter, counter)
            if desk is None or not desk.active:
                raise NotFoundError(f"Counter {counter} does not exist on this kiosk.", {"field": "counter"})
            self._refuse_locked(counter, self._failures(s, key)[1])
            query = select(Clerk).where(Clerk.active).order_by(case((Clerk.counter_number == counter, 0), else_=1))
            if code is not None:
                query = query.where(Clerk.code == str(code).strip().upper())
            candidates = list(s.scalars(query))
        clerk = next((c for c in candidates if pin_matches(c, pin)), None)
        with self.write_lock, transaction(self.sessions) as s:
            failures, locked_until = self._failures(s, key)  # again: attempts made meanwhile count too
            self._refuse_locked(counter, locked_until)
            failed = locked = False
            if clerk is None:
                failures += 1
                locked = failures >= MAX_FAILURES
                until = to_naive_utc(self.clock.now()) + timedelta(seconds=LOCK_SECONDS) if locked else None
                self._store(s, key, 0 if locked else failures, until)
                failed = True
            else:
                if failures:
                    self._store(s, key, 0, None)
                stamp(s, ClerkAction(action="login", counter_number=counter, clerk_id=clerk.id), self.clock)
                result = ClerkLogin(clerk.id, clerk.name, clerk.code, counter)
        # The failure count is committed before the answer, so a killed process cannot forget it.
        if failed:
            if locked:
                raise LockedOut(
                    f"Wrong PIN {MAX_FAILURES} times in a row at counter {counter}: "
                    f"log-in is locked for {LOCK_SECONDS // 60} minutes.",
                    {"reason": "locked", "seconds": LOCK_SECONDS},
                )
            raise AuthError(
                f"Wrong PIN for counter {counter}; {MAX_FAILURES - failures} tries left before a "
                f"{LOCK_SECONDS // 60}-minute lock.",
                {"reason": "wrong_pin", "tries_left": MAX_FAILURES - failures},
            )
        with self._lock:
            at = self.at_counters()
            for number, (clerk_id, _) in list(at.items()):
                if clerk_id == result.id:
                    del at[number]  # one clerk stands at one counter
            at[counter] = (result.id, result.name)
        self.events.publish("clerk_login", {"counter": counter, "clerk": result.name})
        return result

    def logout(self, clerk_id: str, counter: int) -> None:
        with self.write_lock, transaction(self.sessions) as s:
            stamp(s, ClerkAction(action="logout", counter_number=counter, clerk_id=clerk_id), self.clock)
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
        """Who is logged in at each counter (the last log-in without a log-out), read once from the actions."""
        if self._at is None:
            at: dict[int, tuple[str, str]] = {}
            with self.sessions() as s:
                rows = s.execute(
                    select(ClerkAction.counter_number, ClerkAction.action, Clerk.id, Clerk.name)
                    .join(Clerk, Clerk.id == ClerkAction.clerk_id)
                    .where(ClerkAction.action.in_(("login", "logout")), ClerkAction.counter_number.is_not(None))
                    .order_by(ClerkAction.seq)
                )
                for counter, action, clerk_id, name in rows:
                    if action == "login":
                        for number, held in list(at.items()):
                            if held[0] == clerk_id:
                                del at[number]
                        at[counter] = (clerk_id, name)
                    elif at.get(counter, ("",))[0] == clerk_id:
                        del at[counter]
            self._at = at
        return self._at

    def active(self, clerk_id: str) -> bool:
        """Whether the clerk is still active (a deactivated clerk's session stops working).

        Checked on every clerk call, so it is a plain read that never waits for a writer.
        """
        found = read_rows(self.sessions.kw["bind"], "SELECT active FROM clerks WHERE id = ?", (clerk_id,))
        return bool(found and found[0][0])

    def _refuse_locked(self, counter: int, locked_until: datetime | None) -> None:
        now = to_naive_utc(self.clock.now())
        if locked_until and now < locked_until:
            minutes = max(1, round((locked_until - now).total_seconds() / 60))
            raise LockedOut(
                f"Too many wrong PINs at counter {counter}: log-in is locked for about {minutes} minute(s). "
                "Wait, or ask the administrator.",
                {"reason": "locked", "seconds": int((locked_until - now).total_seconds())},
            )

    def _failures(self, s: Session, key: str) -> tuple[int, datetime | None]:
        row = s.get(DeviceState, key)
        if row is None:
            return 0, None
        data = json.loads(row.value)
        until = datetime.fromisoformat(data["locked_until"]) if data.get("locked_until") else None
        now = to_naive_utc(self.clock.now())
        if until is not None and until - now > timedelta(seconds=LOCK_SECONDS):
            until = None  # the wall clock went back (a Pi without a clock): never lock longer than promised
        return int(data.get("failures", 0)), until

    def _store(self, s: Session, key: str, failures: int, until: datetime | None) -> None:
        row = s.get(DeviceState, key) or DeviceState(key=key)
        row.value = json.dumps({"failures": failures, "locked_until": until.isoformat() if until else None})
        s.add(row)
