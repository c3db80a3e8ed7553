"""`kiosk serve` stops on SIGTERM within 5 s whatever its clients hold open, and finishes requests in flight.

From outside, with real sockets: clerks' browsers keep idle keep-alive connections, display boards follow
/api/events, and a citizen's rating is being written when systemd stops the service (`systemctl stop`,
an upgrade, a shutdown). Under systemd a server that does not exit is killed after TimeoutStopSec.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import threading
import time

from tests.server import KioskServer

STOP_WITHIN = 5.0


def connect(server: KioskServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def request(sock: socket.socket, method: str, path: str, body: dict | None = None) -> None:
    payload = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: kiosk\r\nConnection: keep-alive\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    sock.sendall(head.encode() + b"\r\n" + payload)


def read_until_closed(sock: socket.socket, seconds: float = 10) -> bytes:
    """Everything the server sends until it closes the connection (fails if it does not within ``seconds``)."""
    sock.settimeout(seconds)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def read_some(sock: socket.socket, marker: bytes, seconds: float = 10) -> bytes:
    sock.settimeout(seconds)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before {marker!r}: {data!r}"
        data += chunk
    return data


def test_sigterm_stops_within_5_s_with_idle_keep_alive_and_event_streams_open(tmp_path):
    server = KioskServer(tmp_path / "var").start()
    try:
        idle = []
        for path in ("/healthz", "/api/queue", "/"):  # answered, then left open (keep-alive) like a browser
            sock = connect(server)
            request(sock, "GET", path)
            assert read_some(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
            idle.append(sock)
        boards = []
        for _ in range(2):  # display boards following the live events
            sock = connect(server)
            request(sock, "GET", "/api/events")
            assert b"text/event-stream" in read_some(sock, b"retry:")
            boards.append(sock)

        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        status = server.proc.wait(timeout=15)
        took = time.monotonic() - started

        assert status == 0 and took < STOP_WITHIN, f"exit {status} after {took:.1f} s"
        for sock in idle + boards:
            read_until_closed(sock, seconds=1)  # the server closed every connection (EOF), none left hanging
            sock.close()
        log = server.log.read_text()
        assert "stopped" in log and "Traceback" not in log
    finally:
        server.kill()


def test_a_rating_in_flight_when_sigterm_arrives_is_stored_and_answered(tmp_path):
    """The write waits on a database lock (as on a slow SD card) while the stop begins; it still completes."""
    server = KioskServer(tmp_path / "var").start()
    try:
        keep_alive = connect(server)
        request(keep_alive, "GET", "/healthz")
        read_some(keep_alive, b"\r\n\r\n")

        holder = sqlite3.connect(server.data_dir / "kiosk.db", isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")  # the rating's INSERT now waits (busy timeout 10 s)
        rating = connect(server)
        request(rating, "POST", "/api/ratings", {"level": "very_satisfied", "channel": "touch"})
        time.sleep(0.5)  # the request is in flight, blocked in the database

        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        threading.Timer(1.0, lambda: holder.execute("ROLLBACK")).start()
        answer = read_until_closed(rating)
        status = server.proc.wait(timeout=15)
        took = time.monotonic() - started
        holder.close()

        assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert status == 0 and took < STOP_WITHIN, f"exit {status} after {took:.1f} s"
        with sqlite3.connect(server.data_dir / "kiosk.db") as db:
            assert db.execute("SELECT id, level FROM ratings").fetchall() == [(body["id"], "very_satisfied")]
        read_until_closed(keep_alive, seconds=1)
    finally:
        server.kill()


def test_a_new_connection_after_sigterm_is_refused(tmp_path):
    server = KioskServer(tmp_path / "var").start()
    try:
        board = connect(server)
        request(board, "GET", "/api/events")
        read_some(board, b"retry:")
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(1.2)  # at most one idle round of the loop (1 s) before it sees the stop
        late = socket.socket()
        late.settimeout(2)
        refused = late.connect_ex(("127.0.0.1", server.port))
        late.close()
        assert refused != 0 or server.proc.poll() is not None
        assert server.proc.wait(timeout=10) == 0
    finally:
        server.kill()


def test_sigterm_stops_within_5_s_with_300_phones_and_5_boards_following_live_events(tmp_path):
    """The live hub holds the streams, not waitress: a stop still ends every one of them, and the process."""
    import sqlite3

    import requests

    from tests.sse_crowd import Crowd

    server = KioskServer(tmp_path / "var").start()
    crowd = Crowd(server.port)
    try:
        session = requests.Session()
        for _ in range(300):
            assert session.post(server.base + "/api/tickets", json={"service": "HT"}).status_code == 201
        db = sqlite3.connect(server.data_dir / "kiosk.db")
        tokens = [row[0] for row in db.execute("SELECT token FROM ticket_state")]
        db.close()
        listeners = [crowd.open(f"/t/{token}/events") for token in tokens] + [
            crowd.open("/api/events") for _ in range(5)
        ]
        assert crowd.wait(lambda: all(x.status == 200 for x in listeners), timeout=30)
        idle = connect(server)  # and a clerk's idle keep-alive connection
        request(idle, "GET", "/healthz")
        read_some(idle, b"\r\n\r\n")

        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        status = server.proc.wait(timeout=15)
        took = time.monotonic() - started

        assert status == 0 and took < STOP_WITHIN, f"exit {status} after {took:.1f} s"
        assert crowd.wait(lambda: all(x.closed for x in listeners), timeout=2), "every stream was ended"
        read_until_closed(idle, seconds=1)
        log = server.log.read_text()
        assert "stopped" in log and "Traceback" not in log
    finally:
        crowd.close()
        server.kill()
