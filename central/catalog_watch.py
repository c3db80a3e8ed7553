"""Kiosks waiting for their commune's next catalogue (`GET /api/v1/config/changes`): a bounded long-poll.

A kiosk asks "is there a catalogue newer than the version I use?" and the answer comes at once when there is,
else when one is saved, else after the wait it asked for (at most :data:`WAIT_MAX` seconds). Each waiting
request holds one of waitress's worker threads asleep on its commune's condition — no database connection, no
CPU — so `kiosk-central serve` adds ``central_watch_slots`` threads for them; past that many at once a request
is answered at once with a delay to ask again after (``retry``), never queued behind the syncs.

One thread per process, running only while someone waits, notices a change: every :data:`CHECK_EVERY` second
it reads one cheap mark per commune with waiters — the number and time of its catalogue's change-log entries
(every door that changes a catalogue writes one, :mod:`central.audit`) — and only for a commune whose mark
moved rebuilds the version (the digest of the document, :func:`central.catalog.catalog_version`). The mark is
in the database, so several `kiosk-central serve` processes behind one proxy each notice a save made by
another. A change no entry records is still found within :data:`FRESH_FOR` seconds, when the version is
rebuilt anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.catalog import catalog_version
from central.models import AuditEntry

log = logging.getLogger(__name__)

#: The longest a request waits (seconds); a kiosk asks for less (the setting ``catalog_watch_wait``).
WAIT_MAX = 55.0
#: Seconds between two looks at the marks of the communes someone waits for.
CHECK_EVERY = 1.0
#: Seconds a version is trusted without being rebuilt, whatever the mark says (a kiosk's default sync interval).
FRESH_FOR = 300.0
#: Seconds a kiosk refused for want of a slot waits before it asks again.
RETRY_BUSY = 5.0

Mark = tuple[int, Any]


@dataclass
class _Commune:
    cond: threading.Condition
    version: str | None = None
    mark: Mark | None = None
    built: float = 0.0
    waiters: int = 0
    #: Raised by :meth:`CatalogWatch.poke`: something else than the catalogue is new for a kiosk of the commune.
    pokes: int = 0


@dataclass
class Watched:
    """The answer to one watch: the commune's version now, and whether it differs from the kiosk's."""

    version: str | None
    changed: bool
    retry: float | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"changed": self.changed, "version": self.version}
        if self.retry is not None:
            out["retry"] = self.retry
        return out


def marks(session: Session, communes: Iterable[str]) -> dict[str, Mark]:
    """Each commune's change mark: how many change-log entries it has, and the time of the last one."""
    log_ = AuditEntry.__table__.c
    query = (
        select(log_.commune_code, func.count(), func.max(log_.at))
        .where(log_.commune_code.in_(list(communes)))
        .group_by(log_.commune_code)
    )
    return {code: (count, at) for code, count, at in session.execute(query)}


class CatalogWatch:
    """The waiting kiosks of one server process, by commune; ``slots`` of them may wait at once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        slots: int,
        check_every: float = CHECK_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.check_every = check_every
        self.clock = clock
        self._lock = threading.Lock()
        self._communes: dict[str, _Commune] = {}
        self._slots = threading.BoundedSemaphore(max(1, slots)) if slots > 0 else None
        self._thread: threading.Thread | None = None

    def wait(self, commune: str, since: str, timeout: float) -> Watched:
        """The commune's version once it differs from ``since``, or after ``timeout`` seconds (``changed`` False)."""
        if self._slots is None or not self._slots.acquire(blocking=False):
            current = self.version(commune)
            return Watched(current, current != since, RETRY_BUSY)
        try:
            current = self.version(commune)
            if current != since or timeout <= 0:
                return Watched(current, current != since)
            deadline = self.clock() + min(timeout, WAIT_MAX)
            with self._lock:
                state = self._state(commune)
                state.waiters += 1
                pokes = state.pokes
                self._start_checking()
                try:
                    while state.version == since and state.pokes == pokes:
                        left = deadline - self.clock()
                        if left <= 0:
                            break
                        state.cond.wait(left)
                    return Watched(state.version, state.version != since)
                finally:
                    state.waiters -= 1
        finally:
            self._slots.release()

    def poke(self, commune: str) -> None:
        """Answer the commune's waiting kiosks now (their remote settings or a diagnostics request changed, in this
        process); each sees its catalogue unchanged and looks at the rest of the answer."""
        with self._lock:
            state = self._state(commune)
            state.pokes += 1
            state.cond.notify_all()

    def version(self, commune: str) -> str | None:
        """The commune's catalogue version now; rebuilt only when its mark moved or it is older than FRESH_FOR."""
        with self.sessions() as session:
            mark = marks(session, [commune]).get(commune)
            with self._lock:
                state = self._state(commune)
                if state.mark == mark and state.version is not None and self.clock() - state.built < FRESH_FOR:
                    return state.version
            return self._rebuild(session, commune, mark)

    # --- the checking thread ---------------------------------------------------------------------------

    def _state(self, commune: str) -> _Commune:
        state = self._communes.get(commune)
        if state is None:
            state = self._communes[commune] = _Commune(threading.Condition(self._lock))
        return state

    def _rebuild(self, session: Session, commune: str, mark: Mark | None) -> str | None:
        try:
            version = catalog_version(session, commune)
        except Exception:  # noqa: BLE001 - a commune deleted or unreadable: nobody is woken, nothing breaks
            log.exception("catalogue version of commune %s", commune)
            return None
        with self._lock:
            state = self._state(commune)
            state.version, state.mark, state.built = version, mark, self.clock()
            state.cond.notify_all()
        return version

    def _start_checking(self) -> None:  # with the lock held
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._check_loop, name="catalog-watch", daemon=True)
            self._thread.start()

    def _check_loop(self) -> None:
        while True:
            time.sleep(self.check_every)
            with self._lock:
                waited = [code for code, state in self._communes.items() if state.waiters]
                if not waited:
                    self._thread = None
                    return
                known = {code: (self._communes[code].mark, self._communes[code].built) for code in waited}
            try:
                self._check(waited, known)
            except Exception:  # noqa: BLE001 - the database away for a moment: look again next round
                log.exception("watching the catalogues of %d commune(s)", len(waited))

    def _check(self, waited: list[str], known: dict[str, tuple[Mark | None, float]]) -> None:
        with self.sessions() as session:
            now = marks(session, waited)
            for code in waited:
                mark, built = known[code]
                if now.get(code) != mark or self.clock() - built >= FRESH_FOR:
                    self._rebuild(session, code, now.get(code))
