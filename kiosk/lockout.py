"""Lock-out after repeated wrong secrets (clerk PINs, the admin password), immune to clock changes.

The count of wrong tries in a row lives in the database (``device_state``), so a restart does not reset it.
The lock itself is timed on the **monotonic** clock: a Pi's wall clock that NTP moves back (or forward) can
neither lift it nor lengthen it. A restart during a lock cannot know how long the lock has left, so the lock
starts again for a full period — it is never shorter than promised, at worst one period longer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kiosk import device_state
from kiosk.clock import Clock


@dataclass(frozen=True)
class LockState:
    failures: int
    seconds_left: int  # 0 when not locked

    @property
    def locked(self) -> bool:
        return self.seconds_left > 0


class Lockout:
    """One lock-out (one ``device_state`` key): e.g. every clerk PIN of the kiosk, or the admin password."""

    def __init__(self, key: str, clock: Clock, max_failures: int = 5, lock_seconds: int = 300) -> None:
        self.key, self.clock = device_state.declared(key), clock
        self.max_failures, self.lock_seconds = max_failures, lock_seconds
        self._locked_at: float | None = None  # monotonic time the lock began (in this process)
        self._lock = threading.Lock()

    def state(self, session: Session) -> LockState:
        """The failures so far and the seconds the lock has left; an elapsed lock is lifted (in ``session``)."""
        failures, locked = self._read(session)
        if not locked:
            with self._lock:
                self._locked_at = None
            return LockState(failures, 0)
        now = self.clock.monotonic()
        with self._lock:
            if self._locked_at is None or self._locked_at > now:  # a restart during the lock: a full period again
                self._locked_at = now
            left = self.lock_seconds - (now - self._locked_at)
        if left > 0:
            return LockState(failures, max(1, round(left)))
        self._write(session, 0, False)
        with self._lock:
            self._locked_at = None
        return LockState(0, 0)

    def failed(self, session: Session) -> LockState:
        """Count a wrong try (call after :meth:`state` said it was not locked); locks at ``max_failures``."""
        failures = self._read(session)[0] + 1
        if failures >= self.max_failures:
            self._write(session, failures, True)
            with self._lock:
                self._locked_at = self.clock.monotonic()
            return LockState(failures, self.lock_seconds)
        self._write(session, failures, False)
        return LockState(failures, 0)

    def succeeded(self, session: Session) -> None:
        if self._read(session) != (0, False):
            self._write(session, 0, False)

    def _read(self, session: Session) -> tuple[int, bool]:
        data = device_state.get(session, self.key)
        if data is None:
            return 0, False
        locked = bool(data.get("locked") or data.get("locked_until"))  # "locked_until": before 0.1 kept a time
        return int(data.get("failures", 0)), locked

    def _write(self, session: Session, failures: int, locked: bool) -> None:
        device_state.put(session, self.key, {"failures": failures, "locked": locked})
