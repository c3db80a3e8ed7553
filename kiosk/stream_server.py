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
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from waitress.channel import HTTPChannel
from waitress.task import WSGITask

if TYPE_CHECKING:
    from kiosk.live import Stream
    from kiosk.ports import LiveHub

log = logging.getLogger(__name__)

HANDOFF_KEY = "kiosk.stream_handoff"
STREAM_KEY = "kiosk.stream"


class HandoffTask(WSGITask):
    """A request whose answer may be an event stream for the hub."""

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[HANDOFF_KEY] = True
        return environ

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
