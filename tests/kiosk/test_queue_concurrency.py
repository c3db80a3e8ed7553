"""A real `kiosk serve` under concurrent clients: no duplicate and no gap in ticket numbers, through restarts
and SIGKILL, and an SSE client that receives the calls."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.queue_helpers import PINS, rows
from tests.server import KioskServer

SERVICES = ["HT", "CT", "DD"]
CLIENTS = 8


def add_clerk(server: KioskServer, counter: int = 1) -> None:
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "add-clerk",
            "Nguyễn Thị Lan",
            "--pin",
            PINS[counter],
            "--counter",
            str(counter),
        ],
        env=server.env,
        check=True,
        capture_output=True,
    )


def issue_many(base: str, count: int, seed: int, acknowledged: list | None = None) -> list[dict]:
    """One client issuing ``count`` tickets on one kept-alive connection; stops quietly if the server dies."""
    rng = random.Random(seed)
    session = requests.Session()
    answers = []
    for _ in range(count):
        body = {"service": rng.choice(SERVICES), "priority": rng.random() < 0.1}
        try:
            response = session.post(base + "/api/tickets", json=body, timeout=10)
        except requests.RequestException:
            break
        assert response.status_code == 201, response.text
        answers.append(response.json())
        if acknowledged is not None:
            acknowledged.append(response.json())
    return answers


def assert_no_gap_no_duplicate(db_path) -> dict[str, int]:
    numbers = defaultdict(list)
    for service, number in rows(db_path, "SELECT service_code, number FROM tickets ORDER BY service_code, number"):
        numbers[service].append(number)
    for service, found in numbers.items():
        assert found == list(range(1, len(found) + 1)), f"{service}: duplicate or gap"
    return {service: len(found) for service, found in numbers.items()}


@pytest.fixture
def server(tmp_path):
    srv = KioskServer(tmp_path / "var")
    srv.start()
    yield srv
    srv.stop()


def test_eight_clients_issue_1000_tickets_without_duplicate_or_gap(server):
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda i: issue_many(server.base, 1000 // CLIENTS, i), range(CLIENTS)))
    answers = [a for result in results for a in result]
    assert len(answers) == 1000
    shown = [a["display_number"] for a in answers]
    assert len(set(shown)) == 1000, "a number was handed out twice"
    per_service = defaultdict(list)
    for a in answers:
        per_service[a["service"]].append(a["number"])
    for service, numbers in per_service.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{service}: gap in the answers"
    counts = assert_no_gap_no_duplicate(server.data_dir / "kiosk.db")
    assert sum(counts.values()) == 1000
    assert requests.get(server.base + "/api/queue", timeout=5).json()["waiting"] == {
        "HT": counts["HT"],
        "CT": counts["CT"],
        "DD": counts["DD"],
        "BT": 0,
        "NCC": 0,
        "TP": 0,
    }


def test_numbering_survives_restarts_and_sigkill_without_reuse_or_gap(server):
    db = server.data_dir / "kiosk.db"
    first = issue_many(server.base, 5, seed=1)
    server.stop()  # a clean restart
    server.start()
    second = issue_many(server.base, 5, seed=2)
    last_before = {a["service"]: a["number"] for a in first}
    for a in second:
        if a["service"] in last_before:
            assert a["number"] > last_before[a["service"]]
    acknowledged: list[dict] = []
    workers = [threading.Thread(target=issue_many, args=(server.base, 10_000, 10 + i, acknowledged)) for i in range(4)]
    for w in workers:
        w.start()
    time.sleep(0.4)
    server.kill()  # SIGKILL while tickets are being issued
    for w in workers:
        w.join(15)
    assert len(acknowledged) > 20
    server.start()
    issue_many(server.base, 20, seed=3)
    assert_no_gap_no_duplicate(db)
    stored = {r[0] for r in rows(db, "SELECT id FROM tickets")}
    assert {a["id"] for a in first + second + acknowledged} <= stored, "an answered ticket was lost"


def read_sse(response, found: list, stop: threading.Event) -> None:
    event = None
    try:
        for line in response.iter_lines(decode_unicode=True):
            if stop.is_set():
                return
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event:
                found.append((event, json.loads(line[6:]), time.monotonic()))
    except (requests.RequestException, AttributeError, ValueError):
        return  # the test closed the stream


def test_an_sse_client_over_http_receives_ticket_called(server):
    add_clerk(server, 1)
    stream = requests.get(server.base + "/api/events", stream=True, timeout=10)
    assert stream.status_code == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert stream.headers["X-Accel-Buffering"] == "no"
    found: list = []
    stop = threading.Event()
    reader = threading.Thread(target=read_sse, args=(stream, found, stop), daemon=True)
    reader.start()
    clerk = requests.Session()
    issued = clerk.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=5).json()
    assert clerk.post(server.base + "/api/clerk/login", json={"counter": 1, "pin": PINS[1]}, timeout=5).ok
    sent = time.monotonic()
    assert clerk.post(server.base + "/api/counters/1/next", timeout=5).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(kind == "ticket_called" for kind, _, _ in found):
        time.sleep(0.01)
    called = [(data, at) for kind, data, at in found if kind == "ticket_called"]
    assert called, f"no ticket_called among {[k for k, _, _ in found]}"
    data, at = called[0]
    assert (data["id"], data["display_number"], data["counter"]) == (issued["id"], "A001", 1)
    assert at - sent < 1.0  # the board hears it within a second
    assert "ticket_issued" in [kind for kind, _, _ in found]
    stop.set()
    stream.close()


def test_the_event_stream_ends_when_the_server_stops_so_clients_reconnect(server):
    stream = requests.get(server.base + "/api/events?heartbeat=0.5", stream=True, timeout=10)
    lines = stream.iter_lines(decode_unicode=True)
    assert next(lines).startswith("retry:")
    server.kill()
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError, StopIteration)):
        for _ in range(100):
            next(lines)
    server.start()
    again = requests.get(server.base + "/api/events?heartbeat=0.3", stream=True, timeout=10)
    assert again.status_code == 200
    seen = []
    for line in again.iter_lines(decode_unicode=True):
        seen.append(line)
        if line == "event: ping":
            break
    again.close()
    assert "event: ping" in seen
