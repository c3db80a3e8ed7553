"""waitress's event loop, run so that a stop (SIGTERM from systemd) ends it within a few seconds.

waitress's own ``run()`` goes on while any connection is open, and ``close()`` only closes the listening
socket: an idle keep-alive connection (a clerk's browser keeps one for two minutes) or a display board
following ``/api/events`` kept `kiosk serve` alive until systemd killed it. :class:`StoppableServer` runs the
same loop one round at a time and, once :meth:`request_stop` was called:

1. closes the listening sockets (no new connections) and calls the ``on_stop`` hooks (the live hub ends
   every open event stream, whose clients reconnect to the next server);
2. closes each connection as soon as it has no request in flight, so requests already being served finish
   and get their answer;
3. after ``grace`` seconds closes whatever is left and stops the worker threads; the loop's wake-up pipe,
   which every worker uses as it ends a request, is closed last, once no worker runs (:meth:`_finish`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

log = logging.getLogger(__name__)

#: Seconds requests in flight may take to finish after a stop was asked for.
GRACE = 2.5
#: Seconds the worker threads may take to end their requests once the connections are closed.
WORKERS_GRACE = 1.0
#: Seconds between rounds of the loop while stopping (its normal idle round is asyncore_loop_timeout, 1 s).
STOPPING_ROUND = 0.05


class StoppableServer:
    """Runs a waitress server (from ``waitress.server.create_server``) until it is stopped."""

    def __init__(self, server: Any, grace: float = GRACE, on_stop: list[Callable[[], None]] | None = None) -> None:
        self.server = server
        self.grace = grace
        self.on_stop = list(on_stop or [])
        self.map: dict = server._map if hasattr(server, "_map") else server.map
        self.adj = server.adj
        self._stop_requested = False
        self._stopping_since: float | None = None

    def request_stop(self) -> None:
        """Ask the loop to stop; safe in a signal handler (sets a flag and wakes the loop, takes no lock)."""
        self._stop_requested = True
        trigger = getattr(self.server, "trigger", None)
        if trigger is not None:
            try:
                trigger._physical_pull()  # one byte into the loop's wake-up pipe; pull_trigger() takes a lock
            except OSError:  # the pipe is full or closed: the loop sees the flag at its next round (<= 1 s)
                pass

    def _dispatchers(self, kind: type) -> list[Any]:
        return [d for d in list(self.map.values()) if isinstance(d, kind)]

    def _begin_stop(self) -> None:
        self._stopping_since = time.monotonic()
        for listener in self._dispatchers(BaseWSGIServer):
            listener.accepting = False
            wasyncore.dispatcher.close(listener)  # the listening socket only, not the loop's trigger
        log.info("stopping: no new connections; %d open", len(self._dispatchers(HTTPChannel)))
        for hook in self.on_stop:
            try:
                hook()
            except Exception:
                log.exception("stop hook %r failed", hook)

    def _close_idle(self) -> int:
        """Mark every connection with no request in flight to close this round; the number still busy."""
        busy = 0
        for channel in self._dispatchers(HTTPChannel):
            if channel.requests:
                busy += 1
            elif channel.total_outbufs_len:
                channel.close_when_flushed = True  # the end of an answer is still on its way out
            else:
                channel.will_close = True  # waitress closes it in this round's handle_write
        return busy

    def run(self) -> None:
        timeout = float(self.adj.asyncore_loop_timeout)
        while self.map:
            if self._stop_requested and self._stopping_since is None:
                self._begin_stop()
            if self._stopping_since is not None:
                busy = self._close_idle()
                if not self._dispatchers(HTTPChannel):
                    break
                if time.monotonic() - self._stopping_since > self.grace:
                    log.warning("stopping: %d connection(s) still busy after %.0f s, closed", busy, self.grace)
                    break
                timeout = STOPPING_ROUND
            wasyncore.loop(timeout=timeout, map=self.map, use_poll=self.adj.asyncore_use_poll, count=1)
        self._finish()

    def _finish(self) -> None:
        """Close every connection, let the worker threads end, and only then close the loop's wake-up pipe.

        A worker that ends a request wakes the loop through that pipe (waitress's ``pull_trigger``). Closed
        while workers still ran, it made them fail with EBADF (a traceback in the log at a stop under load),
        and its descriptor number, free again, could be given to a file opened next, which would then receive
        the wake-up byte. A worker still running after :data:`WORKERS_GRACE` leaves the pipe open: the process
        is exiting and closes it then."""
        trigger = getattr(self.server, "trigger", None)
        for dispatcher in list(self.map.values()):
            if dispatcher is trigger:
                continue
            try:
                if isinstance(dispatcher, HTTPChannel):
                    dispatcher.handle_close()  # also wakes a worker waiting to flush its answer
                else:
                    dispatcher.close()
            except OSError:  # its socket is already gone; the loop is ending anyway
                pass
        self.map.clear()
        workers = self.server.task_dispatcher
        workers.shutdown(cancel_pending=True, timeout=WORKERS_GRACE)
        if trigger is None:
            return
        if workers.threads:
            log.warning("stopping: %d worker(s) still busy; the process ends them", len(workers.threads))
            return
        try:
            trigger.close()
        except OSError:
            pass
