"""A small real TCP "network printer" for tests: answers DLE EOT status queries and keeps the job bytes."""

from __future__ import annotations

import socket
import threading
import time

DLE_EOT = b"\x10\x04"
ONLINE, OFFLINE = 0x12, 0x1A  # answers to DLE EOT 1 (bit 3 = offline)
PAPER_OK, PAPER_LOW, PAPER_OUT = 0x12, 0x1E, 0x72  # answers to DLE EOT 4


class FakeNetworkPrinter:
    """Listens on 127.0.0.1 (a given port or a free one) until :meth:`close`."""

    def __init__(self, port: int = 0, online: int = ONLINE, paper: int = PAPER_OK, answers: bool = True) -> None:
        self.online, self.paper, self.answers = online, paper, answers
        self.jobs: list[bytes] = []
        self.queries: list[int] = []
        self._changed = threading.Condition()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf, job = b"", bytearray()
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                if job:
                    job += chunk
                    continue
                buf += chunk
                while buf[:2] == DLE_EOT and len(buf) >= 3:  # real-time status queries come before a job
                    n, buf = buf[2], buf[3:]
                    self.queries.append(n)
                    if self.answers:
                        conn.sendall(bytes([self.online if n == 1 else self.paper]))
                if buf and not DLE_EOT.startswith(buf[:2]):
                    job += buf
                    buf = b""
        if job:
            with self._changed:
                self.jobs.append(bytes(job))
                self._changed.notify_all()

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.jobs) < count and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return list(self.jobs)

    def close(self) -> None:
        self._closed = True
        self._sock.close()
