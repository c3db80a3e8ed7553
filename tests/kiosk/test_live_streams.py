"""Live updates that scale, against a real `kiosk serve`: 300 phones and 5 display boards stay connected (no
web server thread each, so no 503 past the 20th), every one of them hears each call, a phone hears only what
concerns its own ticket and the public queue state, and no phone page's token is ever shown on /display,
/api/queue or /api/events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests

from tests.queue_helpers import PINS, add_clerks
from tests.server import KioskServer
from tests.sse_crowd import Crowd

PHONES = 300
BOARDS = 5


def tokens(db: Path) -> dict[str, tuple[str, str]]:
    """ticket id → (token, display number), from the kiosk's own database."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT ts.ticket_id, ts.token, t.display_number FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id"
        ).fetchall()
    finally:
        conn.close()
    return {ticket_id: (token, number) for ticket_id, token, number in rows}


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


@pytest.fixture
def server(tmp_path):
    srv = KioskServer(tmp_path / "var", env={"KIOSK_ANNOUNCER": "none"})
    add_clerks(srv)
    srv.start()
    yield srv
    srv.stop()


def test_300_phones_and_5_boards_each_hear_every_call_and_only_what_concerns_them(server):
    session = requests.Session()
    for i in range(PHONES):
        assert session.post(server.base + "/api/tickets", json={"service": "HT" if i % 2 else "CT"}).status_code == 201
    known = tokens(server.data_dir / "kiosk.db")
    threads_before = threads_of(server.proc.pid)
    crowd = Crowd(server.port)
    try:
        phones = {ticket_id: crowd.open(f"/t/{token}/events") for ticket_id, (token, _) in known.items()}
        boards = [crowd.open("/api/events") for _ in range(BOARDS)]
        everyone = [*phones.values(), *boards]
        assert crowd.wait(lambda: all(x.status is not None for x in everyone))
        assert [x.status for x in everyone] == [200] * (PHONES + BOARDS)  # no 503 past the 20th
        assert crowd.wait(lambda: all(x.of("state") for x in phones.values()))
        assert threads_of(server.proc.pid) <= threads_before + 1  # no thread per listener (the hub's own)

        # The web server still answers while they are all connected.
        assert session.post(server.base + "/api/tickets", json={"service": "HT"}).status_code == 201
        assert session.get(server.base + "/healthz").status_code == 200

        clerk = requests.Session()
        assert clerk.post(server.base + "/api/clerk/login", json={"counter": 1, "pin": PINS[1]}).ok
        calls = [clerk.post(server.base + "/api/counters/1/next").json()["ticket"] for _ in range(3)]
        numbers = [c["display_number"] for c in calls]

        def heard_all() -> bool:
            return all([c["number"] for c in p.of("called")] == numbers for p in phones.values()) and all(
                [c["display_number"] for c in b.of("ticket_called")] == numbers for b in boards
            )

        assert crowd.wait(heard_all, timeout=15), "every phone and board hears each call, in order"
        mine = phones[calls[-1]["id"]]  # being served at counter 1 (the two before it were completed by "next")
        assert crowd.wait(lambda: mine.of("state")[-1]["status"] == "called")
        assert mine.of("state")[-1]["counter"] == 1
        # The phones still waiting in the called tickets' lines move up (within RECOMPUTE_EVERY).
        called_ids = {c["id"] for c in calls}

        def moved() -> list[str]:
            return [t for t, p in phones.items() if t not in called_ids and len(p.of("state")) > 1]

        def places() -> list[tuple[int, int]]:  # (first, latest) place in line of each phone told anew
            return [(phones[t].of("state")[0]["position"], phones[t].of("state")[-1]["position"]) for t in moved()]

        # Phones of the other field may be told anew (a new estimate) before those behind the calls move up.
        assert crowd.wait(lambda: any(now < then for then, now in places())), (
            "waiting phones hear their new place in line"
        )
        assert all(now <= then for then, now in crowd.read(places)), "nobody goes back in line"
        for ticket_id, phone in phones.items():
            number = known[ticket_id][1]
            assert {s["number"] for s in phone.of("state")} == {number}, "a phone hears only its own ticket"
            assert set(phone.kinds()) <= {"state", "called", "ping"}
            for called in phone.of("called"):
                assert set(called) == {"number", "counter", "recall"}  # what the board shows, nothing more
        for board in boards:
            assert "ticket_issued" in board.kinds() or "queue_changed" in board.kinds()
    finally:
        crowd.close()

    shown = [
        session.get(server.base + "/display").text,
        session.get(server.base + "/api/queue").text,
        *(bytes(b.raw).decode("utf-8", "replace") for b in boards),
    ]
    for token, _ in known.values():
        assert not any(token in text for text in shown), "a phone page's token is never shown publicly"


def test_a_wrong_token_is_a_plain_404(server):
    requests.post(server.base + "/api/tickets", json={"service": "HT"})
    page = requests.get(server.base + "/t/AAAAAAAAAAAAAAAAAAAAAA")
    assert page.status_code == 404 and "text/html" in page.headers["Content-Type"]
    assert "AAAAAAAAAAAAAAAAAAAAAA" not in page.text  # nothing about the token, no hint it was close
    stream = requests.get(server.base + "/t/AAAAAAAAAAAAAAAAAAAAAA/events", timeout=5)
    assert stream.status_code == 404 and stream.json()["detail"] == {"reason": "unknown_token"}


def test_streams_for_http_1_0_head_and_a_pipelining_client(server):
    """What the hand-over must get right on the wire: an HTTP/1.0 stream is not chunked, HEAD gets headers and
    no stream, and a request pipelined behind a stream is not answered inside the stream."""
    import socket
    import time

    def talk(raw: bytes, wait: float = 1.3) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(raw)
            time.sleep(wait)
            return sock.recv(65536)

    old = talk(b"GET /api/events?heartbeat=0.5 HTTP/1.0\r\nHost: kiosk\r\n\r\n")
    head, _, body = old.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") and b"chunked" not in head.lower()
    assert body.startswith(b"retry: 1000\n\nevent: ping\n")
    only_head = talk(b"HEAD /api/events HTTP/1.1\r\nHost: kiosk\r\n\r\n", wait=0.3)
    assert only_head.startswith(b"HTTP/1.1 200") and only_head.endswith(b"\r\n\r\n")
    piped = talk(
        b"GET /api/events?heartbeat=0.5 HTTP/1.1\r\nHost: kiosk\r\n\r\nGET /healthz HTTP/1.1\r\nHost: kiosk\r\n\r\n"
    )
    assert piped.count(b"HTTP/1.1") == 1 and b"event: ping" in piped and b'"db"' not in piped
    assert requests.get(server.base + "/healthz", timeout=5).status_code == 200
