"""waitress, taught to hand an event stream's socket over to the live hub (:mod:`kiosk.live`).

A view that serves an event stream registers a :class:`kiosk.live.Stream` with the hub, puts it in the
WSGI environ under :data:`STREAM_KEY` and answers 200 with the stream's first bytes (``retry:``, the first
snapshot) as an iterable body without a length. :class:`HandoffTask` then writes that answer as usual but
does not end it; once the worker thread is done, :class:`StreamChannel` takes the connection out of
waitress's loop (in waitress's own thread, through its trigger) and gives the socket, with whatever of the
answer is still unsent, to the hub. The worker thread is free again at once, and waitress's loop never sees
the stream again, so hundreds of open streams cost it nothing.

:data:`HANDOFF_KEY` in the environ tells a view that the server can do this; without it (another WSGI
server, Flask's test client) the view serves the stream from its own thread.

Past the hub's cap a stream is refused with a 503, and the connection is closed after it (a refused client
keeps none of waitress's connections). Should the process run out of open files all the same, waitress stops
accepting for a moment (:func:`guard_accept`) instead of failing its ``accept()`` at every round of its loop.
"""

from __future__ import annotations

import errno
import logging
import time
from typing import TYPE_CHECKING, Any

from waitress.channel import HTTPChannel
from waitress.task import WSGITask

if TYPE_CHECKING:
    from kiosk.live import Stream
    from kiosk.ports import LiveHub

log = logging.getLogger(__name__)

HANDOFF_KEY = "kiosk.stream_handoff"
STREAM_KEY = "kiosk.stream"
#: Seconds waitress stops accepting when the process is out of open files (its loop's round is at most 1 s).
ACCEPT_PAUSE = 0.2
#: Seconds between two warnings about it.
WARN_EVERY = 10.0


class HandoffTask(WSGITask):
    """A request whose answer may be an event stream for the hub."""

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[HANDOFF_KEY] = True
        return environ

    def build_response_header(self) -> bytes:
        if self.status.startswith("503"):  # refused (too many streams, stopping): free the connection too
            self.set_close_on_finish()
        return super().build_response_header()

    def finish(self) -> None:
        stream = (self.environ or {}).get(STREAM_KEY)
        if stream is None:
            return super().finish()
        if not self.status.startswith("200"):  # the view refused after all: a plain answer, no stream
            super().finish()
            self.channel.server.live.release(stream)
            return
        if not self.wrote_header:
            self.write(b"")
        self.close_on_finish = False  # the connection is the hub's now, not closed after this answer
        channel = self.channel
        with channel.requests_lock:  # nothing else is answered on this connection: requests sent after the
            for later in channel.requests[1:]:  # stream's (a client pipelining) are dropped
                later.close()
            del channel.requests[1:]
            channel.request = None
            channel.handoff = (stream, self.chunked_response)


class StreamChannel(HTTPChannel):
    """An HTTP connection that can leave waitress's loop for the hub after its answer began."""

    task_class = HandoffTask
    handoff: tuple[Stream, bool] | None = None
    handing_over = False

    def readable(self) -> bool:
        return not self.handing_over and super().readable()

    def service(self) -> None:
        super().service()
        handoff, self.handoff = self.handoff, None
        if handoff is not None:
            self.handing_over = True  # read nothing more until the hub has the socket
            self.server.trigger.pull_trigger(lambda: self._hand_over(*handoff))

    def _hand_over(self, stream: Stream, chunked: bool) -> None:
        """In waitress's loop thread: take the socket out of the loop, with the bytes not yet sent."""
        live = self.server.live
        if not self.connected or self.will_close or self.socket is None or self.requests:
            live.release(stream)
            return
        with self.outbuf_lock:
            pending = b"".join(bytes(buf.get(len(buf))) for buf in self.outbufs)
            for buf in self.outbufs:
                try:
                    buf.close()
                except Exception:  # noqa: BLE001 - a buffer that cannot close must not keep the stream
                    log.exception("closing an output buffer failed")
            self.outbufs, self.total_outbufs_len = [], 0
        sock = self.socket
        self.del_channel()  # out of waitress's map; the socket stays open
        self.socket, self.connected = None, False
        live.adopt(stream, sock, pending, chunked)


def install(server: Any, live: LiveHub[Stream]) -> None:
    """Let the waitress server made by ``create_server`` hand event streams to ``live`` (the live hub)."""
    server.live = live
    server.channel_class = StreamChannel
    guard_accept(server)


def guard_accept(server: Any) -> None:
    """Out of open files (EMFILE, ENFILE), the listening socket stays readable and waitress's ``accept()``
    fails at every round, logging a traceback each time at full speed. Instead stop accepting for
    :data:`ACCEPT_PAUSE` seconds (connections wait in the listen queue) and warn at most every
    :data:`WARN_EVERY` seconds."""
    accept, readable = server.accept, server.readable
    paused_until, warned = [0.0], [float("-inf")]

    def guarded_accept() -> Any:
        try:
            return accept()
        except OSError as exc:
            if exc.errno not in (errno.EMFILE, errno.ENFILE):
                raise
            now = time.monotonic()
            paused_until[0] = now + ACCEPT_PAUSE
            if now - warned[0] >= WARN_EVERY:
                warned[0] = now
                log.warning("out of open files (%s): new connections wait; streams %s", exc.strerror,
                            server.live.counts())  # fmt: skip
            return None

    def guarded_readable() -> bool:
        return readable() and time.monotonic() >= paused_until[0]

    server.accept, server.readable = guarded_accept, guarded_readable
