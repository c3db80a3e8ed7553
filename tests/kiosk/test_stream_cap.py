"""Event streams never bring the kiosk down, against a real `kiosk serve` whose open-file limit is lowered.

Before: the process died at about 1,000 open streams (waitress's select() cannot watch descriptor 1,024 and
up: ``ValueError: filedescriptor out of range``), or, under systemd's soft limit of 1,024 files, stopped
accepting anyone, `/healthz` and `POST /api/tickets` included, while the streams stayed open. Now the cap is
what the open-file limit holds, past it a plain 503 that closes its connection, and at the cap the kiosk still
answers and issues tickets.
"""

from __future__ import annotations

import json
import resource
import socket
import time

import pytest
import requests

from kiosk.descriptors import FD_SETSIZE, move_high
from tests.server import KioskServer
from tests.sse_crowd import Crowd

#: The kiosk's limits: a soft limit below select()'s 1,024 that it may raise, a hard limit above it.
SOFT, HARD = 512, 1280
#: More streams than that can hold.
STREAMS = 1150


@pytest.fixture
def crowded_files():
    """This test process opens STREAMS sockets of its own."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = STREAMS + 200
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"this test needs {wanted} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_more_streams_than_the_process_holds_get_a_503_and_the_kiosk_keeps_serving(tmp_path, crowded_files):
    server = KioskServer(tmp_path / "var", env={"KIOSK_ANNOUNCER": "none"})
    server.open_files = (SOFT, HARD)
    server.start()
    crowd = Crowd(server.port)
    try:
        streams = [crowd.open("/api/events?heartbeat=30") for _ in range(STREAMS)]
        assert crowd.wait(lambda: all(s.status is not None for s in streams), timeout=60), (
            f"{sum(s.status is None for s in streams)} streams never answered"
        )
        assert server.proc.poll() is None, "the kiosk is still running"
        served = [s for s in streams if s.status == 200]
        refused = [s for s in streams if s.status != 200]
        assert {s.status for s in refused} == {503}
        assert SOFT < len(served) < HARD, "the soft limit was raised to the hard one, and the cap is below it"

        # Past the cap: a plain JSON 503 saying when to come back, and the connection closed after it.
        assert crowd.wait(lambda: all(s.closed for s in refused), timeout=10), "a refused stream's connection is closed"
        first = refused[0]
        assert first.headers["content-type"].startswith("application/json")
        assert int(first.headers["retry-after"]) > 0
        answer = json.loads(bytes(first.raw))
        assert answer["error"] and answer["detail"]["limit"] == len(served)

        # At the cap: the kiosk answers, says how full it is, issues a ticket, and every stream hears of it.
        health = requests.get(server.base + "/healthz", timeout=5)
        assert health.status_code == 200
        assert health.json()["streams"] == {"boards": len(served), "phones": 0, "limit": len(served)}
        assert "live pages full: new ones are refused" in health.json()["warnings"]
        ticket = requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=5)
        assert ticket.status_code == 201
        number = ticket.json()["display_number"]
        assert crowd.wait(
            lambda: all(number in [e.get("display_number") for e in s.of("ticket_issued")] for s in served), 15
        ), "every open stream hears the new ticket"

        # A stream that ends makes room for a new one.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as extra:
            extra.sendall(b"GET /api/events HTTP/1.1\r\nHost: kiosk\r\n\r\n")
            assert extra.recv(64).startswith(b"HTTP/1.1 503")
        crowd.hang_up(served[0])
        assert crowd.wait(lambda: served[0].closed, timeout=10)
        assert _wait_for_room(server), "the hub forgets a stream whose client left"
        again = crowd.open("/api/events")
        assert crowd.wait(lambda: again.status is not None, timeout=10) and again.status == 200
    finally:
        crowd.close()
        server.stop()
    log = server.log.read_text()
    assert "event streams at most (open files: limit 1280" in log
    assert "Traceback" not in log and "filedescriptor out of range" not in log


def _wait_for_room(server: KioskServer) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        streams = requests.get(server.base + "/healthz", timeout=5).json()["streams"]
        if streams["boards"] < streams["limit"]:
            return True
        time.sleep(0.05)
    return False


def test_a_stream_socket_moves_above_select_range_and_still_works():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= FD_SETSIZE + 8:
        pytest.skip("the open-file limit leaves no number above select()'s range")
    left, right = socket.socketpair()
    moved = move_high(left)
    try:
        assert moved.fileno() >= FD_SETSIZE and left.fileno() == -1
        moved.sendall(b"ping")
        assert right.recv(4) == b"ping"
    finally:
        moved.close()
        right.close()


def test_out_of_open_files_the_kiosk_waits_for_one_instead_of_spinning(tmp_path):
    """Whatever holds the descriptors (here idle connections, with a limit of 64 files), accept() failing for
    want of one pauses accepting: no traceback at every round of the loop (thousands a second before), and the
    kiosk answers again as soon as a descriptor is free."""
    server = KioskServer(tmp_path / "var", env={"KIOSK_ANNOUNCER": "none"})
    server.open_files = (64, 64)
    server.start()
    idle = []
    try:
        for _ in range(80):  # more than the 64 files allow; the last ones wait in the listen queue
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(2)  # the loop meets EMFILE, round after round
        assert server.proc.poll() is None
        for sock in idle:
            sock.close()
        idle.clear()
        assert requests.get(server.base + "/healthz", timeout=10).status_code == 200
    finally:
        for sock in idle:
            sock.close()
        server.stop()
    log = server.log.read_text()
    assert "accept() threw an exception" not in log and "Traceback" not in log, "no traceback at every round"
    assert log.count("out of open files") == 1, "one warning"
