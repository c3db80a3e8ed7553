"""Hundreds of Server-Sent Events listeners on raw sockets, read by one selector thread (tests and bench/).

Each :class:`Listener` records every event it receives as (kind, data, perf_counter time). The HTTP answer is
read as a browser would: the status line and headers, then the body, chunked (``Transfer-Encoding``) or not.
"""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any


class Listener:
    def __init__(self, path: str, keep: frozenset[str] | None = None) -> None:
        self.path = path
        self.keep = keep  # the kinds of event to decode and record (None: all); the others are only counted
        self.skipped = 0
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.events: list[tuple[str, dict, float]] = []
        self.raw = bytearray()  # every byte of the body, to check what never appears in it
        self.closed = False
        self._head = bytearray()
        self._chunked = False
        self._pending = bytearray()  # undecoded chunked body
        self._text = ""

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.events]

    def of(self, kind: str) -> list[dict]:
        return [data for k, data, _ in self.events if k == kind]

    # --- parsing -------------------------------------------------------------------------------------

    def feed(self, data: bytes, now: float) -> None:
        if self.status is None:
            self._head += data
            if b"\r\n\r\n" not in self._head:
                return
            head, _, data = bytes(self._head).partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            self.headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            self._chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        if self._chunked:
            self._pending += data
            data = self._dechunk()
        self.raw += data
        self._text += data.decode("utf-8", "replace")
        while "\n\n" in self._text:
            block, self._text = self._text.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "event" not in fields:
                continue
            if self.keep is not None and fields["event"] not in self.keep:
                self.skipped += 1
                continue
            self.events.append((fields["event"], json.loads(fields.get("data", "{}")), now))

    def _dechunk(self) -> bytes:
        out = bytearray()
        while True:
            end = self._pending.find(b"\r\n")
            if end < 0:
                break
            size = int(self._pending[:end].split(b";")[0] or b"0", 16)
            if size == 0:
                self.closed = True
                break
            if len(self._pending) < end + 2 + size + 2:
                break
            out += self._pending[end + 2 : end + 2 + size]
            del self._pending[: end + 2 + size + 2]
        return bytes(out)


class Crowd:
    """Open streams to a server on 127.0.0.1:``port`` and read them all from one thread."""

    def __init__(self, port: int, keep: frozenset[str] | None = None) -> None:
        self.port, self.keep = port, keep
        self.listeners: list[Listener] = []
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="sse-crowd", daemon=True)
        self._thread.start()

    def open(self, path: str) -> Listener:
        listener = Listener(path, self.keep)
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: phone\r\nAccept: text/event-stream\r\n\r\n".encode())
        sock.setblocking(False)
        with self._lock:
            self.listeners.append(listener)
            self._selector.register(sock, selectors.EVENT_READ, listener)
        return listener

    def hang_up(self, listener: Listener) -> None:
        """Close one listener's connection, as a phone that leaves its page (the reader thread sees it end)."""
        with self._lock:
            for key in list(self._selector.get_map().values()):
                if key.data is listener:
                    key.fileobj.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        while not self._stop:
            with self._lock:
                registered = bool(self._selector.get_map())
            if not registered:
                time.sleep(0.01)
                continue
            for key, _ in self._selector.select(0.05):
                try:
                    data = key.fileobj.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                now = time.perf_counter()
                with self._cond:
                    if data:
                        key.data.feed(data, now)
                    else:
                        key.data.closed = True
                        self._selector.unregister(key.fileobj)
                        key.fileobj.close()
                    self._cond.notify_all()

    def wait(self, done: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until ``done()`` (called with the crowd's lock held) is true; False at the timeout."""
        with self._cond:
            return self._cond.wait_for(done, timeout)

    def read(self, what: Callable[[], Any]) -> Any:
        """``what()`` with the crowd's lock held (the reader thread is not adding events meanwhile)."""
        with self._cond:
            return what()

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()
