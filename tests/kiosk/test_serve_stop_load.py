"""`kiosk serve` stops cleanly on SIGTERM while it is busy (issue 21, point 7).

Under load a stop once logged ``OSError: [Errno 9] Bad file descriptor`` from waitress's ``os.write(self.trigger,
…)``: the loop closed its wake-up pipe while worker threads were still finishing requests, and each worker
wakes the loop through that pipe when it ends a request. Here clients keep every worker busy — pipelined
ticket requests on keep-alive connections, display boards and phones opening event streams, plain pages —
when systemd's SIGTERM arrives. The stop must leave no traceback in the log, exit 0 within the stop budget,
and every ticket the kiosk acknowledged (its 201 fully received) must be in the database.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import threading
import time

import pytest

from kiosk import web_server
from tests.server import KioskServer

#: The stop budget (tests/kiosk/test_serve_stop.py): systemd's TimeoutStopSec is well above it.
STOP_WITHIN = 5.0
PIPELINED = 8


def ticket_requests(n: int) -> bytes:
    body = json.dumps({"service": "HT"}).encode()
    one = (
        b"POST /api/tickets HTTP/1.1\r\nHost: kiosk\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return one * n


def read_answers(sock: socket.socket, n: int) -> list[tuple[int, bytes]]:
    """Up to ``n`` whole answers (status, body) in order; fewer when the server closes the connection."""
    data, answers = b"", []
    while len(answers) < n:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1")
            length = next(
                (
                    int(line.split(":", 1)[1])
                    for line in head.split("\r\n")
                    if line.lower().startswith("content-length:")
                ),
                0,
            )
            if len(data) >= head_end + 4 + length:
                answers.append((int(head.split(" ", 2)[1]), data[head_end + 4 : head_end + 4 + length]))
                data = data[head_end + 4 + length :]
                continue
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return answers


class Load:
    """Clients that keep the kiosk busy until it stops answering."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.acknowledged: list[str] = []
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def connect(self) -> socket.socket | None:
        try:
            return socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except OSError:
            return None

    def repeat(self, exchange) -> None:
        """Connect and run ``exchange(sock)`` again and again, until told to stop or the server stops accepting."""
        while not self.stop.is_set():
            sock = self.connect()
            if sock is None:
                return  # the server no longer accepts: stopped
            with sock:
                try:
                    exchange(sock)
                except OSError:
                    pass

    def tickets(self, sock: socket.socket) -> None:
        sock.sendall(ticket_requests(PIPELINED))
        for status, body in read_answers(sock, PIPELINED):
            if status == 201:
                with self.lock:
                    self.acknowledged.append(json.loads(body)["id"])

    @staticmethod
    def stream(sock: socket.socket) -> None:
        sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: kiosk\r\n\r\n")
        sock.settimeout(2)
        sock.recv(65536)

    @staticmethod
    def pages(sock: socket.socket) -> None:
        sock.sendall(b"GET /api/queue HTTP/1.1\r\nHost: kiosk\r\n\r\n" * 4)
        read_answers(sock, 4)

    def start(self, tickets: int = 12, streams: int = 6, pages: int = 4) -> None:
        work = [self.tickets] * tickets + [self.stream] * streams + [self.pages] * pages
        self.threads = [threading.Thread(target=self.repeat, args=(job,), daemon=True) for job in work]
        for thread in self.threads:
            thread.start()

    def end(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)


@pytest.mark.parametrize("early", [0.15, 0.1, 0.05])
def test_sigterm_under_load_stops_cleanly_and_keeps_every_acknowledged_ticket(tmp_path, early):
    """The database is held (a slow SD card, a backup) while the stop begins, and let go ``early`` seconds before
    the stop's grace ends: requests then end in a burst while the server closes what is left. On the old code
    about half of such stops logged the EBADF traceback."""
    server = KioskServer(tmp_path / "var").start()
    load = Load(server.port)
    try:
        load.start()
        deadline = time.monotonic() + 30
        while len(load.acknowledged) < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(load.acknowledged) >= 100, "the load never got going"
        holder = sqlite3.connect(server.data_dir / "kiosk.db", isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")  # every worker soon waits in the database (busy timeout 10 s)
        time.sleep(0.3)

        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        threading.Timer(web_server.GRACE - early, lambda: holder.execute("ROLLBACK")).start()
        status = server.proc.wait(timeout=20)
        took = time.monotonic() - started
        load.end()
        holder.close()

        log = server.log.read_text()
        assert "Traceback" not in log and "Bad file descriptor" not in log, log[log.find("stopping:") :][:3000]
        assert status == 0 and took < STOP_WITHIN, f"exit {status} after {took:.1f} s"
        assert "stopped" in log
        with sqlite3.connect(server.data_dir / "kiosk.db") as db:
            stored = {row[0] for row in db.execute("SELECT id FROM tickets")}
        missing = set(load.acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged ticket(s) not in the database"
    finally:
        load.stop.set()
        server.kill()
