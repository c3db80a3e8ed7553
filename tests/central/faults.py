"""Faults at the edge of the central server: WSGI wrappers that fail or delay answers, and a TCP proxy that
resets connections in the middle of uploads or answers. The server and client behind them are real."""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from io import BytesIO

from sync import protocol


def _is_sync(environ) -> bool:
    return environ.get("PATH_INFO") == protocol.SYNC_PATH and environ.get("REQUEST_METHOD") == "POST"


def _error_500(start_response) -> Iterable[bytes]:
    start_response("500 Internal Server Error", [("Content-Type", "application/json")])
    return [b'{"error": "injected failure", "detail": null}']


class FailSometimes:
    """Every ``every``-th sync request fails with 500: alternately before the app runs (nothing stored) and
    after it committed (the answer is lost)."""

    def __init__(self, app, every: int = 3) -> None:
        self.app, self.every = app, every
        self.calls = itertools.count(1)
        self.failed_before = self.failed_after = 0

    def __call__(self, environ, start_response):
        if not _is_sync(environ):
            return self.app(environ, start_response)
        n = next(self.calls)
        if n % self.every:
            return self.app(environ, start_response)
        if (n // self.every) % 2:
            self.failed_before += 1
            return _error_500(start_response)
        body = b"".join(self.app(environ, lambda *a, **k: None))  # runs and commits; the answer is dropped
        assert body
        self.failed_after += 1
        return _error_500(start_response)


class DeliverTwice:
    """Every other sync request reaches the app twice with the same bytes (a duplicated delivery); the
    client gets the answer to the second copy (a replay, refused with 409) and must carry on."""

    def __init__(self, app) -> None:
        self.app = app
        self.duplicated = 0
        self.calls = itertools.count()

    def __call__(self, environ, start_response):
        if not _is_sync(environ) or next(self.calls) % 2:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        first = dict(environ, **{"wsgi.input": BytesIO(body)})
        b"".join(self.app(first, lambda *a, **k: None))
        self.duplicated += 1
        environ["wsgi.input"] = BytesIO(body)
        return self.app(environ, start_response)


class SlowAnswers:
    """Sync answers are held back ``delay`` seconds after the app committed; ``busy`` is set meanwhile."""

    def __init__(self, app, delay: float) -> None:
        self.app, self.delay = app, delay
        self.busy = threading.Event()
        self.answered = 0

    def __call__(self, environ, start_response):
        if not _is_sync(environ):
            return self.app(environ, start_response)
        result = list(self.app(environ, start_response))
        self.busy.set()
        time.sleep(self.delay)
        self.busy.clear()
        self.answered += 1
        return result


def _reset(*sockets: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, as when a rural link drops."""
    for sock in sockets:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            continue


class ResettingProxy:
    """A TCP proxy on 127.0.0.1. Connection ``i`` (while ``i < faulty``) is reset: for even ``i`` after
    ``cut(i)`` bytes of the upload reached the server, for odd ``i`` after ``cut(i)`` bytes of the answer."""

    def __init__(self, upstream_port: int, faulty: int = 16, cut: Callable[[int], int] = lambda i: 700 + 900 * i):
        self.upstream = ("127.0.0.1", upstream_port)
        self.faulty, self.cut = faulty, cut
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.resets = {"upload": 0, "answer": 0}
        self._numbers = itertools.count()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            number = next(self._numbers)
            limit_up = self.cut(number) if number < self.faulty and number % 2 == 0 else None
            limit_down = self.cut(number) if number < self.faulty and number % 2 == 1 else None
            threading.Thread(target=self._relay, args=(client, limit_up, limit_down), daemon=True).start()

    def _relay(self, client: socket.socket, limit_up: int | None, limit_down: int | None) -> None:
        """One thread per connection (a socket closed under another thread's recv() would not send the RST)."""
        upstream = socket.create_connection(self.upstream)
        routes = {client: (upstream, limit_up, "upload"), upstream: (client, limit_down, "answer")}
        passed = {client: 0, upstream: 0}
        with contextlib.suppress(OSError):
            while select.select(list(routes), [], [], 30)[0]:
                for source in select.select(list(routes), [], [], 0)[0]:
                    target, limit, kind = routes[source]
                    data = source.recv(65536)
                    if not data:
                        return _reset(client, upstream)
                    if limit is not None and passed[source] + len(data) >= limit:
                        target.sendall(data[: max(limit - passed[source], 0)])
                        self.resets[kind] += 1
                        return _reset(client, upstream)
                    target.sendall(data)
                    passed[source] += len(data)
        _reset(client, upstream)

    def close(self) -> None:
        self._stop = True
        self.listener.close()
