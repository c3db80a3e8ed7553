"""Live updates for every screen and phone from ONE thread that owns all event-stream sockets.

Before, each open `/api/events` held one of the web server's 32 threads for as long as it stayed open: 20
listeners cut the counter's throughput 6.6× and the 21st got a 503. Now a stream's request is answered by
a worker thread like any other (checks, the first snapshot), then the web server hands the connection's
socket over (:mod:`kiosk.stream_server`) and the worker is free again. The :class:`LiveHub` thread keeps
every such socket in one ``selectors`` loop (epoll): it writes each event to the listeners that should see
it, sends a ping every heartbeat, notices a listener that went away, and never blocks the thread that
published the event (publishing only appends to a list and wakes the loop).

What each listener gets:

* a *board* stream (``/api/events``: display boards, consoles, the citizen screens): every event of the
  bus, as before, and ``ping`` events with the kiosk's time;
* a *phone* stream (``/t/<token>/events``): only what concerns its ticket — a ``state`` event whenever its
  number's status, position, people ahead, estimated wait or counter changed (read by ``read_states``, the
  phone service, in one query for every phone concerned) — and the public queue state everybody sees on
  the display board: each call as ``called`` (number and counter, nothing else), and ``ping``.

How many: at most the hub's ``limit`` (:data:`MAX_STREAMS`, lowered by `kiosk serve` to what its open-file
limit holds besides the rest of the kiosk: :mod:`kiosk.descriptors`); past it a 503 with Retry-After. Each
socket is moved above select()'s range of descriptor numbers when the limit allows. Re-reading the phones'
states (two thousand take a tenth of a second) is spread out so that it takes at most
:data:`RECOMPUTE_SHARE` of the time, and the counter keeps its speed.

A stream served by a WSGI server that cannot hand a socket over (Flask's test client) is *threaded*: the
hub puts its text in a queue that the request's own thread yields, as before, at most ``MAX_THREADED``.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from common.errors import KioskError
from kiosk.clock import Clock
from kiosk.descriptors import move_high
from kiosk.events import Event

log = logging.getLogger(__name__)

#: Seconds between pings on a phone's stream (the page reconnects when three are missed).
PHONE_HEARTBEAT = 15.0
#: Most bytes waiting for one listener; past it the listener is too slow and is closed (it reconnects).
MAX_BUFFER = 256 * 1024
#: A stream registered but never handed over (its request failed on the way) is forgotten after this.
UNATTACHED_SECONDS = 30.0
#: Position updates caused by other tickets are sent at most this often (a call to the phone's own
#: number is sent at once).
RECOMPUTE_EVERY = 0.5
#: ... and take at most this share of the time: with two thousand phones a round of them all takes long enough
#: to slow the counter (the worker threads wait for the interpreter), so the next round waits that much longer.
RECOMPUTE_SHARE = 0.1
#: Marks every waiting phone as concerned by an event (a call at a counter serving several fields moves them all).
EVERY_LINE = "*"
#: Every phone's state is read again this often (the wait estimate drifts, the business day ends).
REFRESH_EVERY = 60.0
#: Events published within this many seconds of the last delivery wait for it to pass and go out together
#: (a burst of tickets costs the hub one round, not one per event; a call still arrives within milliseconds).
BATCH_WINDOW = 0.005
#: How often the hub looks for streams due a ping (and for streams never handed over).
PING_CHECK = 0.25
#: Most open streams in all (measured with the counter at speed: bench/streams.py), and per address on the
#: office network (the kiosk's own screens are not limited). `kiosk serve` lowers the hub's ``limit`` to what
#: its open-file limit can hold (kiosk.descriptors).
MAX_STREAMS = 2000
MAX_PER_ADDRESS = 8
#: Seconds a refused listener is asked to wait before it tries again (the 503's Retry-After).
RETRY_AFTER = 30
#: Seconds between two warnings that every stream is taken.
WARN_FULL_EVERY = 60.0
#: Streams served by a thread of their own (a WSGI server without the hand-over) hold a worker thread each.
MAX_THREADED = 20
_END = object()
#: The events that may change what a phone shows.
PHONE_KINDS = frozenset(
    {
        "ticket_called", "ticket_completed", "ticket_no_show", "ticket_transferred", "ticket_issued",
        "rating_recorded", "counter_paused", "counter_resumed", "clerk_login", "clerk_logout", "catalog_changed",
    }
)  # fmt: skip

Reader = Callable[[Iterable[str]], dict[str, dict[str, Any]]]


class TooManyStreams(KioskError):
    status = 503
    code = "busy"
    retry_after = RETRY_AFTER


def sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def state_text(state: dict[str, Any]) -> str:
    """A phone's state as the JSON text compared and sent (keys sorted: the same state, the same text)."""
    return json.dumps(state, ensure_ascii=False, sort_keys=True, default=str)


class Stream:
    """One open event stream. Written only by the hub thread once registered."""

    def __init__(self, kind: str, ticket_id: str | None, heartbeat: float, address: str, local: bool) -> None:
        self.kind, self.ticket_id, self.heartbeat = kind, ticket_id, heartbeat
        self.address, self.local = address, local
        self.opened = time.monotonic()
        self.next_ping = self.opened + heartbeat
        self.sock: socket.socket | None = None
        self.chunked = False
        self.out = bytearray()
        self.queue: queue.Queue | None = None
        self.pending: list[bytes] = []
        #: The phone's last state sent (its JSON), and the state itself (status and service decide
        #: which events concern it).
        self.sent: str | None = None
        self.last: dict[str, Any] = {}
        self.closed = False

    @property
    def attached(self) -> bool:
        return self.sock is not None or self.queue is not None

    def mark_sent(self, state: dict[str, Any]) -> None:
        """The state the stream's first answer carried (so the hub sends it again only once it changes)."""
        self.last, self.sent = state, state_text(state)


class ThreadedBody:
    """The body of a stream served from its request's own thread; closing it (the client left) releases it."""

    def __init__(self, hub: LiveHub, stream: Stream, first: bytes) -> None:
        self.hub, self.stream, self.first = hub, stream, first

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self.first is not None:
            first, self.first = self.first, None
            return first
        assert self.stream.queue is not None
        item = self.stream.queue.get()
        if item is _END:
            raise StopIteration
        return item

    def close(self) -> None:
        self.hub.release(self.stream)


class LiveHub:
    """Owns every event stream; see the module's docstring."""

    def __init__(self, clock: Clock, read_states: Reader | None = None, limit: int = MAX_STREAMS) -> None:
        self.clock = clock
        self.read_states = read_states
        #: Most open streams; past it a 503 (`kiosk serve` sets what its open files allow).
        self.limit = limit
        self._warned_full = float("-inf")
        self._lock = threading.Lock()
        self._streams: set[Stream] = set()
        self._boards: set[Stream] = set()  # the same streams, by kind
        self._phones: set[Stream] = set()
        self._events: list[Event] = []
        self._adopt: list[tuple[Stream, socket.socket, bytes, bool]] = []
        self._to_close: list[Stream] = []
        self._woken = False
        self._thread: threading.Thread | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r, self._wake_w = -1, -1
        self._stopping = False
        self._unsent: set[Stream] = set()  # socket streams with bytes still to send
        self._urgent: set[str] = set()  # phones' tickets to read again now
        self._deferred: set[str] = set()  # ... at the next RECOMPUTE_EVERY
        self._deferred_lines: set[Any] = set()  # ... and the phones waiting in these fields' lines
        self._recompute_started: float | None = None  # when the round of deferred phones began
        self._next_recompute = 0.0
        self._next_refresh = 0.0
        self._next_ping_check = 0.0
        self._delivered = 0.0

    # --- called from other threads ------------------------------------------------------------------

    def open(self, kind: str, *, ticket_id: str | None = None, heartbeat: float = PHONE_HEARTBEAT,
             address: str = "", local: bool = True, threaded: bool = False) -> Stream:  # fmt: skip
        """Register a stream; events from now on are kept for it until it is attached. TooManyStreams (503)."""
        stream = Stream(kind, ticket_id, heartbeat, address, local)
        with self._lock:
            if self._stopping:
                raise TooManyStreams("The kiosk is stopping; reconnect in a moment.", {"reason": "stopping"})
            live = [s for s in self._streams if not s.closed]
            if len(live) >= self.limit:
                if time.monotonic() - self._warned_full >= WARN_FULL_EVERY:
                    self._warned_full = time.monotonic()
                    log.warning("live updates: %d streams open, the most this kiosk holds; new ones get 503", len(live))
                raise TooManyStreams(
                    f"{len(live)} screens and phones already follow live events; try again later.",
                    {"limit": self.limit, "reason": "full", "retry_after": RETRY_AFTER},
                )
            if not local and sum(1 for s in live if s.address == address) >= MAX_PER_ADDRESS:
                raise TooManyStreams(
                    f"{MAX_PER_ADDRESS} live pages are already open from {address}; close one.",
                    {"limit": MAX_PER_ADDRESS, "reason": "per_address", "retry_after": RETRY_AFTER},
                )
            if threaded and sum(1 for s in live if s.queue is not None) >= MAX_THREADED:
                raise TooManyStreams(
                    f"{MAX_THREADED} screens already follow live events; close one (each holds a web server thread).",
                    {"limit": MAX_THREADED, "retry_after": RETRY_AFTER},
                )
            if threaded:
                stream.queue = queue.Queue(maxsize=512)
            self._streams.add(stream)
            (self._boards if kind == "all" else self._phones).add(stream)
        self._start()
        return stream

    def adopt(self, stream: Stream, sock: socket.socket, pending: bytes, chunked: bool) -> None:
        """The web server hands over the stream's socket, with the bytes of its answer not yet sent."""
        with self._lock:
            self._adopt.append((stream, sock, pending, chunked))
        self._wake()

    def iterate(self, stream: Stream, first: bytes) -> ThreadedBody:
        """A threaded stream's body: ``first``, then whatever the hub queues for it, until either side ends it."""
        return ThreadedBody(self, stream, first)

    def release(self, stream: Stream) -> None:
        """The stream's connection is gone (or was never handed over): forget it."""
        with self._lock:
            stream.closed = True  # no longer counted against the limits, from now on
            self._to_close.append(stream)
        self._wake()

    def publish(self, event: Event) -> None:
        """An EventBus listener: never blocks, whatever the streams do."""
        with self._lock:
            if not self._streams:
                return
            self._events.append(event)
        self._wake()

    def counts(self) -> dict[str, int]:
        """Open streams by kind, and the most the hub holds (``limit``)."""
        with self._lock:
            live = [s for s in self._streams if not s.closed]
        boards = sum(s.kind == "all" for s in live)
        return {"boards": boards, "phones": len(live) - boards, "limit": self.limit}

    def close(self, timeout: float = 2.0) -> None:
        """End every stream (each client reconnects to the next server) and stop the thread."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        if thread is None:
            return
        self._wake()
        if thread is not threading.current_thread():
            thread.join(timeout)

    # --- the hub thread --------------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._selector = selectors.DefaultSelector()
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            os.set_blocking(self._wake_w, False)
            self._selector.register(self._wake_r, selectors.EVENT_READ, None)
            self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
            self._thread.start()

    def _wake(self) -> None:
        with self._lock:
            if self._woken or self._wake_w < 0:
                return
            self._woken = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # the pipe is full (the loop is woken already) or closed by a shutdown in between
            pass

    def _run(self) -> None:
        assert self._selector is not None
        while True:
            timeout = self._timeout()
            ready = self._selector.select(timeout)
            if ready and self._events and time.monotonic() - self._delivered < BATCH_WINDOW:
                time.sleep(BATCH_WINDOW)  # under load, one round carries the events of a few ms to everyone
            for key, mask in ready:
                if key.data is None:
                    self._drain_wake()
                else:
                    self._on_socket(key.data, mask)
            with self._lock:
                events, self._events = self._events, []
                adopt, self._adopt = self._adopt, []
                closing, self._to_close = self._to_close, []
                stopping = self._stopping
            for stream in closing:
                self._drop(stream)
            for stream, sock, pending, chunked in adopt:
                self._attach(stream, sock, pending, chunked)
            if stopping:
                break
            try:
                self._tick(events)
                if events:
                    self._delivered = time.monotonic()
            except Exception:  # noqa: BLE001 - a failed round must not end every screen's live updates
                log.exception("live updates: a round failed")
            self._flush()
            if self._recompute_started is not None:  # reading and sending the phones' states took that long
                started, self._recompute_started = self._recompute_started, None
                spent = time.monotonic() - started
                self._next_recompute = started + max(RECOMPUTE_EVERY, spent / RECOMPUTE_SHARE)
        self._shutdown()

    def _timeout(self) -> float:
        due = [self._next_ping_check]
        if self._deferred or self._deferred_lines:
            due.append(self._next_recompute)
        return max(0.0, min(due) - time.monotonic())

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except (BlockingIOError, InterruptedError):  # the pipe is empty: drained
            pass
        with self._lock:
            self._woken = False

    def _on_socket(self, stream: Stream, mask: int) -> None:
        if mask & selectors.EVENT_READ:
            try:
                data = stream.sock.recv(4096) if stream.sock else b""
            except (BlockingIOError, InterruptedError):
                data = b"?"
            except OSError:
                data = b""
            if not data:  # the client went away
                self._drop(stream)
                return
        if mask & selectors.EVENT_WRITE:
            self._unsent.add(stream)

    def _attach(self, stream: Stream, sock: socket.socket, pending: bytes, chunked: bool) -> None:
        if stream.closed or stream not in self._streams:
            sock.close()
            return
        sock = move_high(sock)  # above select()'s range, when the open-file limit allows
        sock.setblocking(False)
        stream.sock, stream.chunked = sock, chunked
        stream.next_ping = time.monotonic() + stream.heartbeat
        stream.out += pending
        try:
            self._selector.register(sock, selectors.EVENT_READ, stream)
        except (ValueError, OSError):
            self._drop(stream)
            return
        for data in stream.pending:
            self._write(stream, data)
        stream.pending.clear()
        self._unsent.add(stream)

    def _write(self, stream: Stream, data: bytes) -> None:
        if stream.closed:
            return
        if stream.sock is not None:
            stream.out += b"%X\r\n%s\r\n" % (len(data), data) if stream.chunked else data
            if len(stream.out) > MAX_BUFFER:
                log.info("live updates: %s reads too slowly; closed (it reconnects)", stream.address)
                self._drop(stream)
                return
            self._unsent.add(stream)
        elif stream.queue is not None:
            try:
                stream.queue.put_nowait(data)
            except queue.Full:
                self._drop(stream)
        elif len(stream.pending) < 256:
            stream.pending.append(data)

    def _flush(self) -> None:
        unsent, self._unsent = self._unsent, set()
        for stream in unsent:
            if stream.closed or stream.sock is None or not stream.out:
                continue
            try:
                sent = stream.sock.send(stream.out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._drop(stream)
                continue
            del stream.out[:sent]
            wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if stream.out else 0)
            try:
                if self._selector.get_key(stream.sock).events != wanted:
                    self._selector.modify(stream.sock, wanted, stream)
            except (KeyError, ValueError, OSError):
                self._drop(stream)

    def _drop(self, stream: Stream) -> None:
        stream.closed = True
        with self._lock:
            self._streams.discard(stream)
            self._boards.discard(stream)
            self._phones.discard(stream)
        self._unsent.discard(stream)
        if stream.sock is not None:
            try:
                self._selector.unregister(stream.sock)
            except (KeyError, ValueError):  # never registered (its _attach failed) or its socket already closed
                pass
            try:
                stream.sock.close()
            except OSError:  # the connection is already gone; closing is all that was wanted
                pass
            stream.sock = None
        if stream.queue is not None:
            self._put_end(stream)

    @staticmethod
    def _put_end(stream: Stream) -> None:
        while True:
            try:
                stream.queue.put_nowait(_END)
                return
            except queue.Full:
                try:
                    stream.queue.get_nowait()  # full: the oldest text makes room for the end
                except queue.Empty:  # the request's thread took one meanwhile: room now
                    pass

    def _shutdown(self) -> None:
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            if stream.sock is not None:
                end = b"0\r\n\r\n" if stream.chunked else b""
                try:
                    stream.sock.send(bytes(stream.out) + end)
                except OSError:  # the client left or reads too slowly: it reconnects either way
                    pass
            self._drop(stream)
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._wake_w = -1

    # --- what each listener gets ------------------------------------------------------------------------

    def _tick(self, events: list[Any]) -> None:
        now = time.monotonic()
        with self._lock:
            boards, phones = list(self._boards), list(self._phones)
        if events and boards:
            last_queue = max((i for i, e in enumerate(events) if e.kind == "queue_changed"), default=-1)
            # every event of the round in one write per board; of the queue counts only the latest matters
            data = "".join(e.to_sse() for i, e in enumerate(events) if e.kind != "queue_changed" or i == last_queue)
            payload = data.encode()
            for stream in boards:
                self._write(stream, payload)
        if phones:
            concerning = [
                e for e in events if e.kind in PHONE_KINDS and (e.kind != "ticket_issued" or e.data.get("priority"))
            ]
            if concerning:
                self._for_phones(concerning, phones)
            if now >= self._next_refresh:
                self._next_refresh = now + REFRESH_EVERY
                self._deferred.update(s.ticket_id for s in phones)
            self._recompute(phones, now)
        else:  # nobody left to tell (the loop would otherwise wake for them at once, again and again)
            self._urgent, self._deferred, self._deferred_lines = set(), set(), set()
        if now >= self._next_ping_check:
            self._next_ping_check = now + PING_CHECK
            self._pings(boards + phones, now)

    def _pings(self, streams: list[Stream], now: float) -> None:
        stamp = None
        for stream in streams:
            if stream.attached and now >= stream.next_ping:
                stamp = stamp or sse("ping", {"now": self.clock.local().isoformat(timespec="seconds")}).encode()
                self._write(stream, stamp)
                stream.next_ping = now + stream.heartbeat
            elif not stream.attached and now - stream.opened > UNATTACHED_SECONDS:
                self._drop(stream)

    def _for_phones(self, events: list[Any], phones: list[Stream]) -> None:
        """Note which phones an event may concern; they are read again by :meth:`_recompute`. A round looks at
        every phone only for what is rare (a call, a rating, a counter paused): a ticket issued names its line."""
        for event in events:
            kind, data = event.kind, event.data
            if kind == "ticket_called":
                called = {"number": data.get("display_number"), "counter": data.get("counter"),
                          "recall": bool(data.get("recall"))}  # fmt: skip
                public = sse("called", called).encode()
                for stream in phones:
                    self._write(stream, public)
            if kind in ("ticket_called", "ticket_completed", "ticket_no_show", "ticket_transferred"):
                if data.get("id"):
                    self._urgent.add(data["id"])
                # a counter serving several fields calls them in one order: every line may move (kiosk.ahead)
                self._deferred_lines.add(EVERY_LINE)
            elif kind == "ticket_issued":
                if data.get("priority"):  # it goes before every ordinary ticket its counters would call
                    self._deferred_lines.add(EVERY_LINE)
            elif kind == "rating_recorded":
                self._deferred |= {s.ticket_id for s in phones if s.last.get("status") == "done"}
            else:  # a counter paused or resumed, a clerk came or went, the catalogue changed: the estimates
                self._deferred |= {s.ticket_id for s in phones}

    def _recompute(self, phones: list[Stream], now: float) -> None:
        ids = set(self._urgent)
        if (self._deferred or self._deferred_lines) and now >= self._next_recompute:
            lines, self._deferred_lines = self._deferred_lines, set()
            if lines:
                ids |= {
                    s.ticket_id
                    for s in phones
                    if s.last.get("status") == "waiting" and (EVERY_LINE in lines or s.last.get("service") in lines)
                }
            ids |= self._deferred
            self._deferred = set()
            self._next_recompute = now + RECOMPUTE_EVERY
            self._recompute_started = now
        self._urgent = set()
        if not ids or self.read_states is None:
            return
        by_ticket: dict[str, list[Stream]] = {}
        for stream in phones:
            if stream.ticket_id in ids:
                by_ticket.setdefault(stream.ticket_id, []).append(stream)
        if not by_ticket:
            return
        states = self.read_states(list(by_ticket))
        for ticket_id, state in states.items():
            text = state_text(state)
            for stream in by_ticket.get(ticket_id, ()):
                if text != stream.sent:
                    stream.last, stream.sent = state, text
                    self._write(stream, f"event: state\ndata: {text}\n\n".encode())
