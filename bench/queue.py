"""Ticket issue throughput over HTTP with 8 concurrent clients, and call-next → SSE latency at a board.

Both against a real `kiosk serve` subprocess (KIOSK_PRINTER=none: no printing). Targets: ≥ 400 tickets/s,
p95 < 50 ms. Also measured: one client alone (no batching possible), and the call latency while 4 clients
keep issuing tickets.

Run: python bench/queue.py   (or python -m bench queue, which also rewrites bench/RESULTS.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/queue.py` puts bench/ first on sys.path, where this file would shadow the standard
# library's `queue` (used by threading pools, urllib3, the kiosk itself). Drop it before any import.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from bench.stats import row, summary_ms  # noqa: E402

TICKETS = 2000
CLIENTS = 8
CALLS = 300
SERVICES = ["HT", "CT", "DD"]
PIN = "1111"


def issue_tickets(port: int, count: int, clients: int) -> tuple[float, list[float]]:
    """(tickets per second, per-request seconds) for ``count`` tickets spread over ``clients`` connections."""
    latencies: list[float] = []
    errors: list[str] = []

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for j in range(count // clients):
            body = json.dumps({"service": SERVICES[(index + j) % len(SERVICES)], "priority": j % 10 == 0})
            start = time.perf_counter()
            conn.request("POST", "/api/tickets", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 201:
                errors.append(payload.decode())
        latencies.extend(mine)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} tickets failed, e.g. {errors[0]}")
    return len(latencies) / elapsed, latencies


class BoardClient:
    """A display board's SSE connection on a raw socket: records when each ticket_called arrives."""

    CALLED = re.compile(r"event: ticket_called\ndata: (\{.*?\})\n")

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: board\r\nAccept: text/event-stream\r\n\r\n")
        self.arrived: dict[str, float] = {}
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        text = ""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            now = time.perf_counter()
            text += data.decode("utf-8", "replace")
            last = 0
            for match in self.CALLED.finditer(text):
                with self.cond:
                    self.arrived[json.loads(match.group(1))["id"]] = now
                    self.cond.notify_all()
                last = match.end()
            text = text[last:] if last else text[-65536:]

    def wait_for(self, ticket_id: str, timeout: float = 5.0) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: ticket_id in self.arrived, timeout):
                raise RuntimeError(f"ticket_called for {ticket_id} never reached the board")
            return self.arrived[ticket_id]

    def close(self) -> None:
        self.sock.close()


def call_latencies(port: int, calls: int) -> list[float]:
    """Seconds from sending `POST /api/counters/1/next` to the board receiving its ticket_called."""
    board = BoardClient(port)
    clerk = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    clerk.request(
        "POST", "/api/clerk/login", json.dumps({"counter": 1, "pin": PIN}), {"Content-Type": "application/json"}
    )
    response = clerk.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    time.sleep(0.2)  # the board's stream is open
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        clerk.request("POST", "/api/counters/1/next", "", {"Cookie": cookie})
        response = clerk.getresponse()
        ticket = json.loads(response.read())["ticket"]
        times.append(board.wait_for(ticket["id"]) - start)
        time.sleep(0.01)
    board.close()
    clerk.close()
    return times


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc), to see cost apart from a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_commit_seconds(data_dir: Path, n: int = 500) -> list[float]:
    """The physical floor: one small INSERT + COMMIT with the kiosk's pragmas (WAL, synchronous=FULL)."""
    db = sqlite3.connect(data_dir / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)")
    times = []
    for i in range(n):
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?)", (str(i), i))
        db.execute("COMMIT")
        times.append(time.perf_counter() - start)
    db.close()
    return times


def tickets_per_commit(db_path: Path, after_seq: int) -> float:
    """Tickets of one batch share their issue time, so tickets / distinct times = tickets per transaction."""
    db = sqlite3.connect(db_path)
    try:
        count, commits = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT device_time) FROM tickets WHERE seq > ?", (after_seq,)
        ).fetchone()
    finally:
        db.close()
    return count / max(commits, 1)


def max_seq(db_path: Path) -> int:
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT COALESCE(MAX(seq), 0) FROM tickets").fetchone()[0]
    finally:
        db.close()


def start_server(data_dir: Path, open_files: tuple[int, int] | None = None) -> tuple[object, int]:
    """A `kiosk serve` with a bench clerk at counter 1; ``open_files``: its (soft, hard) RLIMIT_NOFILE."""
    from tests.server import KioskServer

    server = KioskServer(data_dir, env={"KIOSK_PRINTER": "none"})
    server.open_files = open_files
    subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "add-clerk", "Bench", "--pin", PIN, "--counter", "1"],
        env=server.env,
        check=True,
        capture_output=True,
    )
    server.start()
    return server, server.port


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp) / "var")
        try:
            issue_tickets(port, 200, CLIENTS)  # warm up: imports, statement caches, connections
            single, _ = issue_tickets(port, 500, 1)
            load = os.getloadavg()[0]
            db_path = Path(tmp) / "var" / "kiosk.db"
            seq_before = max_seq(db_path)
            cpu_before = cpu_seconds(server.proc.pid)
            rate, latencies = issue_tickets(port, TICKETS, CLIENTS)
            cpu_per_ticket = (cpu_seconds(server.proc.pid) - cpu_before) / TICKETS
            batch = tickets_per_commit(db_path, seq_before)
            calls = call_latencies(port, CALLS)
            background = threading.Thread(target=issue_tickets, args=(port, 1600, 4))
            background.start()
            loaded = call_latencies(port, 100)
            background.join()
        finally:
            server.stop()
        floor = summary_ms(raw_commit_seconds(Path(tmp)))
    issue, call, busy = summary_ms(latencies), summary_ms(calls), summary_ms(loaded)
    p95_busy = busy["p95"]
    return [
        row(
            "queue",
            f"ticket issue over HTTP, {CLIENTS} clients",
            rate,
            "tickets/s",
            "≥ 400",
            f"load avg {load:.1f} at start",
        ),
        row(
            "queue",
            "server CPU per ticket issued",
            cpu_per_ticket * 1000,
            "ms",
            "",
            f"≈ {1 / cpu_per_ticket:.0f}/s per core",
        ),
        row("queue", "tickets per transaction (group commit), 8 clients", batch, "tickets", "", "one fsync each"),
        row(
            "queue",
            "raw sqlite3 insert+commit (WAL, FULL), median",
            floor["median"],
            "ms",
            "",
            f"fsync floor ≈ {1000 / floor['median']:.0f} commits/s",
        ),  # fmt: skip
        row("queue", "ticket issue over HTTP, 1 client", single, "tickets/s", "", "no batching possible"),
        row("queue", f"ticket issue request, {CLIENTS} clients, p50", issue["median"], "ms"),
        row("queue", f"ticket issue request, {CLIENTS} clients, p95", issue["p95"], "ms"),
        row("queue", "call-next → SSE event at a board, p50", call["median"], "ms"),
        row("queue", "call-next → SSE event at a board, p95", call["p95"], "ms", "< 50 ms"),
        row("queue", "call-next → SSE, 4 clients issuing meanwhile, p95", p95_busy, "ms", "< 50 ms"),
    ]


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:55s} {r['value']:9.2f} {r['unit']:9s} {r['target']:8s} {r['comparison']}")
