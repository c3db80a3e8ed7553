"""Throttles against guessing and flooding, timed on the monotonic clock: a wall clock moved back or forward
(NTP on a Pi that booted with a wrong time) neither lifts them nor lengthens them.

Two rules, over one core (:class:`Timed`: an injectable monotonic clock and a lock for the web server's threads):

- :class:`FloodGate` — at most ``limit`` events per key (a source address) within a sliding ``window``: the
  ratings and phone pages of the device, the failed sign-ins of the central server;
- :class:`Lockout` — after ``max_failures`` wrong tries in a row, locked for ``lock_seconds``, even for the right
  secret: the clerk PINs and the admin password of a kiosk. The count of wrong tries is kept by the caller
  (:class:`FailureCount`, a database row on the kiosk, so a restart does not reset it); the lock is timed here.

Both refuse with :class:`common.errors.TooManyRequests` (429), the lock-out with its :class:`~common.errors.LockedOut`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from common.errors import KioskError, TooManyRequests

#: Monotonic seconds now (``time.monotonic``; tests pass a clock they move by hand).
MonotonicClock = Callable[[], float]
#: What a flood gate raises: ``refuse(count, key, wait)`` → the error (``wait``: whole seconds, at least 1).
Refusal = Callable[[int, str, int], KioskError]
#: Keys a flood gate remembers before it forgets those that went quiet.
MAX_KEYS = 10_000


class Timed:
    """What both rules share: the monotonic clock they are timed on and a lock for the web server's threads."""

    def __init__(self, clock: MonotonicClock | None = None) -> None:
        self.clock = clock or time.monotonic
        self._lock = threading.Lock()

    @staticmethod
    def whole_seconds(left: float) -> int:
        """Seconds left as people are told them: rounded, and never 0 while something is left."""
        return max(1, round(left))


class FloodGate(Timed):
    """At most ``limit`` events per key within ``window`` seconds; past it the gate refuses with ``refuse``
    (by default a :class:`TooManyRequests` with ``{"reason": "flood", "retry_after": wait}``). ``limit`` 0: no limit.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        refuse: Refusal | None = None,
        clock: MonotonicClock | None = None,
    ) -> None:
        super().__init__(clock)
        self.limit, self.window = limit, window
        self.refuse = refuse or self._too_many
        self._seen: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        """Count one event of ``key``; refuse (without counting it) once the key is at the limit."""
        self._take(key, refuse=True, count=True)

    def guard(self, key: str) -> None:
        """Refuse while ``key`` is at the limit, without counting this (count the failures with :meth:`count`)."""
        self._take(key, refuse=True, count=False)

    def count(self, key: str) -> None:
        """Count one event of ``key`` (a failure) without refusing."""
        self._take(key, refuse=False, count=True)

    def full(self, key: str) -> bool:
        """Whether ``key`` has used up its allowance (without counting this question)."""
        if self.limit <= 0:
            return False
        with self._lock:
            return len(self._recent(key, self.clock())) >= self.limit

    def _take(self, key: str, refuse: bool, count: bool) -> None:
        if self.limit <= 0:
            return
        now = self.clock()
        with self._lock:
            times = self._recent(key, now)
            if refuse and len(times) >= self.limit:
                raise self.refuse(len(times), key, self.whole_seconds(self.window - (now - times[0])))
            if count:
                times.append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        if len(self._seen) > MAX_KEYS:  # forget the keys that went quiet
            self._seen = {k: q for k, q in self._seen.items() if q and now - q[-1] < self.window}
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def _too_many(self, count: int, key: str, wait: int) -> KioskError:
        span = "a minute" if self.window == 60 else f"{self.window:g} s"
        return TooManyRequests(
            f"{count} requests from {key} within {span}: wait {wait} s and try again.",
            {"reason": "flood", "retry_after": wait},
            retry_after=wait,
        )


@dataclass(frozen=True)
class LockState:
    failures: int
    seconds_left: int  # 0 when not locked

    @property
    def locked(self) -> bool:
        return self.seconds_left > 0


class FailureCount(Protocol):
    """Where a lock-out keeps its wrong tries in a row and whether it is locked (the caller's storage)."""

    def read(self) -> tuple[int, bool]: ...

    def write(self, failures: int, locked: bool) -> None: ...


class Lockout(Timed):
    """After ``max_failures`` wrong tries in a row, locked for ``lock_seconds``, even for the right secret.

    A restart during a lock cannot know how long the lock has left (the monotonic clock starts again), so the
    lock starts again for a full period: it is never shorter than promised, at worst one period longer.
    Keep one per secret for the life of the process: the start of the lock lives in it.
    """

    def __init__(self, max_failures: int = 5, lock_seconds: int = 300, clock: MonotonicClock | None = None) -> None:
        super().__init__(clock)
        self.max_failures, self.lock_seconds = max_failures, lock_seconds
        self._locked_at: float | None = None  # monotonic time the lock began (in this process)

    def state(self, count: FailureCount) -> LockState:
        """The failures so far and the seconds the lock has left; an elapsed lock is lifted (in ``count``)."""
        failures, locked = count.read()
        if not locked:
            with self._lock:
                self._locked_at = None
            return LockState(failures, 0)
        now = self.clock()
        with self._lock:
            if self._locked_at is None or self._locked_at > now:  # a restart during the lock: a full period again
                self._locked_at = now
            left = self.lock_seconds - (now - self._locked_at)
        if left > 0:
            return LockState(failures, self.whole_seconds(left))
        count.write(0, False)
        with self._lock:
            self._locked_at = None
        return LockState(0, 0)

    def failed(self, count: FailureCount) -> LockState:
        """Count a wrong try (call after :meth:`state` said it was not locked); locks at ``max_failures``."""
        failures = count.read()[0] + 1
        if failures >= self.max_failures:
            count.write(failures, True)
            with self._lock:
                self._locked_at = self.clock()
            return LockState(failures, self.lock_seconds)
        count.write(failures, False)
        return LockState(failures, 0)

    def succeeded(self, count: FailureCount) -> None:
        """A right secret: the wrong tries in a row start again from 0."""
        if count.read() != (0, False):
            count.write(0, False)
