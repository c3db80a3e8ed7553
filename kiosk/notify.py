"""Tell systemd how `kiosk serve` is doing: READY, STATUS, WATCHDOG pings and STOPPING (sd_notify).

The protocol is one datagram per message on the AF_UNIX socket named by ``NOTIFY_SOCKET`` (a path, or an
abstract name written with a leading ``@``); no libsystemd is needed. Outside systemd the variable is
unset and every call is a no-op, so `kiosk serve --demo` on a laptop behaves exactly as before.

The watchdog pings only while the kiosk could take a rating: each round runs a real ``SELECT 1`` through
the kiosk's own engine (on SQLite that transaction begins with ``BEGIN IMMEDIATE``, so it answers only if a
rating could be written now) and looks whether the web server's event loop went round lately (the loop
stamps the time itself, see :func:`loop_check`). If either fails or hangs, no ping is sent and systemd
restarts the service once ``WatchdogSec`` has passed. A check that blocks forever (an SD card stuck in
``fsync``) blocks this thread too, which withholds the pings: the right outcome.

Why not an HTTP request to ``/healthz`` instead of the loop's stamp: a request also needs a free worker
thread, and the display board, clerk consoles and citizen screen each hold one for their event stream.
A watchdog that restarts the kiosk because several screens are connected would be worse than none.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from kiosk.db import BUSY_TIMEOUT_MS
from kiosk.storage import ping

log = logging.getLogger(__name__)

Check = Callable[[], str | None]  # returns None when healthy, else a plain-words reason

ENV_NAMES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
MAX_CHECK_SECONDS = 2.0


def socket_address(name: str) -> str | bytes:
    """The address to send to: abstract names (``@name``) become a leading NUL byte."""
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return name


def send(name: str | None, message: str) -> bool:
    """Send one notification datagram; False when there is no socket or it cannot be reached."""
    if not name:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), socket_address(name))
        return True
    except OSError as exc:
        log.warning("cannot notify systemd at %s: %s", name, exc)
        return False


def watchdog_interval(environ: MutableMapping[str, str], pid: int | None = None) -> float | None:
    """Seconds between pings (half of ``WATCHDOG_USEC``), or None when systemd asked for no watchdog."""
    usec = environ.get("WATCHDOG_USEC", "")
    watchdog_pid = environ.get("WATCHDOG_PID", "")
    try:
        if watchdog_pid and int(watchdog_pid) != (pid or os.getpid()):
            return None  # the watchdog is meant for another process (we were started by the service's main one)
        micros = int(usec)
    except ValueError:
        return None
    return micros / 2 / 1_000_000 if micros > 0 else None


def database_check(engine: Engine, timeout: float) -> Check:
    """A real ``SELECT 1`` through the kiosk's engine, giving up on a locked database after ``timeout``."""
    is_sqlite = engine.dialect.name == "sqlite"

    def check() -> str | None:
        try:
            with engine.connect() as conn:
                driver = conn.connection.driver_connection if is_sqlite else None
                if driver is not None:  # the pooled connection normally waits BUSY_TIMEOUT_MS for a lock
                    driver.execute(f"PRAGMA busy_timeout={max(int(timeout * 1000), 1)}")
                try:
                    ping(conn)
                finally:
                    if driver is not None:
                        try:
                            driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                        except Exception:  # a broken connection must not go back to the pool with our timeout
                            conn.invalidate()
        except SQLAlchemyError as exc:
            detail = getattr(exc, "orig", None) or exc
            return f"the database does not answer ({detail})"
        return None

    return check


def _loop_trigger(server: Any) -> Any:
    """The wake-up pipe of waitress's loop (a MultiSocketServer keeps it in its socket map)."""
    trigger = getattr(server, "trigger", None)
    if trigger is not None:
        return trigger
    from waitress.trigger import trigger as trigger_class

    for dispatcher in list(getattr(server, "map", {}).values()):
        if isinstance(dispatcher, trigger_class):
            return dispatcher
    raise ValueError(f"{server!r} has no event-loop trigger")


def loop_check(server: Any, timeout: float) -> Check:
    """Whether waitress's event loop went round lately, stamped by the loop itself.

    asyncore calls ``readable()`` on every dispatcher each time round the loop, and an idle loop still goes
    round every ``asyncore_loop_timeout`` seconds; the wake-up pipe's ``readable()`` records the time. Only
    the loop writes the stamp and this thread only reads it: nothing is written to the loop's file
    descriptors from outside, even while they are being closed.
    """
    trigger = _loop_trigger(server)
    last_round = [time.monotonic()]
    readable = trigger.readable

    def stamped_readable() -> bool:
        last_round[0] = time.monotonic()
        return readable()

    trigger.readable = stamped_readable
    patience = timeout + float(getattr(getattr(server, "adj", None), "asyncore_loop_timeout", 1))

    def check() -> str | None:
        age = time.monotonic() - last_round[0]
        if age > patience:
            return f"the web server's event loop has not run for {age:.1f} s"
        return None

    return check


class Notifier:
    """sd_notify for one service process, plus the watchdog thread."""

    def __init__(self, socket_name: str | None, interval: float | None) -> None:
        self.socket_name = socket_name
        self.interval = interval
        self.stopped = threading.Event()
        self.announced = threading.Event()  # READY=1 was sent
        self.thread: threading.Thread | None = None
        self.status = ""

    @classmethod
    def from_environ(cls, environ: MutableMapping[str, str] | None = None) -> Notifier:
        """Read and remove the variables, so that child processes cannot ping on this process's behalf."""
        environ = os.environ if environ is None else environ
        notifier = cls(environ.get("NOTIFY_SOCKET") or None, watchdog_interval(environ))
        for name in ENV_NAMES:
            environ.pop(name, None)
        return notifier

    @property
    def enabled(self) -> bool:
        return bool(self.socket_name)

    def notify(self, *fields: str) -> bool:
        return send(self.socket_name, "\n".join(fields))

    def ready(self, status: str) -> None:
        self.status = status
        self.notify("READY=1", f"STATUS={status}")
        self.announced.set()
        log.info("ready: %s", status)

    def stopping(self) -> None:
        self.stopped.set()
        self.notify("STOPPING=1", "STATUS=Stopping")

    def start(self, engine: Engine, server: Any, status: str) -> None:
        """READY from inside the running web server loop, then the watchdog thread if systemd wants one."""
        if not self.enabled:
            return
        _loop_trigger(server).pull_trigger(lambda: self.ready(status))
        if self.interval:
            timeout = min(MAX_CHECK_SECONDS, self.interval)
            checks = [database_check(engine, timeout), loop_check(server, timeout)]
            self.thread = threading.Thread(target=self._watch, args=(checks,), name="watchdog", daemon=True)
            self.thread.start()

    def _watch(self, checks: list[Check]) -> None:
        while not self.announced.is_set():  # no pings before READY=1
            if self.stopped.wait(0.05):
                return
        healthy = True
        while not self.stopped.is_set():
            problem = next((reason for reason in (check() for check in checks) if reason), None)
            if self.stopped.is_set():
                break
            if problem is None:
                self.notify("WATCHDOG=1", *([] if healthy else [f"STATUS={self.status}"]))
                if not healthy:
                    log.info("healthy again: watchdog pings resumed")
                healthy = True
                self.stopped.wait(self.interval)
            else:
                if healthy:
                    log.warning("watchdog pings withheld: %s", problem)
                self.notify(f"STATUS=Not healthy, watchdog pings withheld: {problem}")
                healthy = False
                # Retry sooner than a full interval so that a brief lock costs no restart.
                self.stopped.wait(min(self.interval or 1.0, 1.0) / 2)

    def close(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
