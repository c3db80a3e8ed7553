"""300 phones and 5 display boards following live events while the counter keeps its speed (issue 15).

One real `kiosk serve` (KIOSK_PRINTER=none), in one run:

1. ticket issue over HTTP with 8 clients and no listener: the reference throughput and p99;
2. the same with 300 phone pages (`/t/<token>/events`, one per ticket) and 5 boards (`/api/events`) connected;
3. clerk calls while they are connected: for each call, the time until the LAST of the 305 listeners has it
   (phones get `called`, boards `ticket_called`), alone and while 4 clients keep issuing tickets;
4. the kiosk's RSS with all of them connected.

Targets: issue p99 < 100 ms and throughput ≥ 80 % of the no-listener figure, RSS < 100 MB, every listener
gets each call within 1 s. The listeners are read by one selector thread of another process
(tests/sse_crowd.py), as phones are devices of their own: reading them here would slow this process's
ticket clients, not the kiosk.

Run: python -m bench phone   (rewrites bench/RESULTS.md)
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from bench.queue import CLIENTS, PIN, cpu_seconds, issue_tickets, start_server
from bench.stats import row, summary_ms

PHONES = 300
BOARDS = 5
TICKETS = 2000
CALLS = 40


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024


def threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Threads")).split()[1])


def phone_tokens(db: Path, count: int) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        found = conn.execute(
            "SELECT ts.token FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id "
            "WHERE ts.status = 'waiting' ORDER BY t.seq LIMIT ?",
            (count,),
        ).fetchall()
    finally:
        conn.close()
    return [token for (token,) in found]


def listen(port: int, phone_paths: list[str], board_paths: list[str], conn) -> None:
    """The listeners, in a process of their own (as phones are devices of their own): open them, then answer
    the parent's questions — when did each listener receive call ``number``?"""
    from tests.sse_crowd import Crowd

    crowd = Crowd(port, keep=frozenset({"state", "called", "ticket_called"}))
    phones = [crowd.open(path) for path in phone_paths]
    boards = [crowd.open(path) for path in board_paths]
    ok = crowd.wait(lambda: all(p.of("state") for p in phones) and all(b.status == 200 for b in boards), 60)
    conn.send(ok)

    def arrivals(number: str) -> list[float | None]:
        def first(listener, kind: str, key: str) -> float | None:
            return next((at for k, data, at in listener.events if k == kind and data.get(key) == number), None)

        return [first(p, "called", "number") for p in phones] + [
            first(b, "ticket_called", "display_number") for b in boards
        ]

    while True:
        command, *args = conn.recv()
        if command == "call":
            number = args[0]
            crowd.wait(lambda number=number: None not in arrivals(number), timeout=5)
            conn.send(crowd.read(lambda number=number: arrivals(number)))
        elif command == "open":
            conn.send(crowd.read(lambda: sum(not x.closed for x in phones + boards)))
        else:
            crowd.close()
            conn.send(None)
            return


def call_spread(port: int, conn, calls: int) -> tuple[list[float], int]:
    """For each call: seconds from `POST next` to the last listener receiving it; and how many listener-calls
    never arrived (within 5 s)."""
    clerk = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    clerk.request(
        "POST", "/api/clerk/login", json.dumps({"counter": 1, "pin": PIN}), {"Content-Type": "application/json"}
    )
    response = clerk.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    spreads, missed = [], 0
    for _ in range(calls):
        start = time.perf_counter()  # CLOCK_MONOTONIC: the same clock in the listeners' process
        clerk.request("POST", "/api/counters/1/next", "", {"Cookie": cookie})
        response = clerk.getresponse()
        number = json.loads(response.read())["ticket"]["display_number"]
        conn.send(("call", number))
        times = conn.recv()
        missed += sum(t is None for t in times)
        spreads.append(max((t for t in times if t is not None), default=start + 5) - start)
        time.sleep(0.2)
    clerk.close()
    return spreads, missed


def run() -> list[dict]:
    import multiprocessing

    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp) / "var")
        child, conn = None, None
        try:
            issue_tickets(port, PHONES, 4)  # the phones' own tickets (HT, CT, DD), waiting
            issue_tickets(port, 200, CLIENTS)  # warm up
            load = os.getloadavg()[0]
            alone, alone_times = issue_tickets(port, TICKETS, CLIENTS)
            rss_alone = rss_mb(server.proc.pid)
            threads_alone = threads(server.proc.pid)

            phone_paths = [f"/t/{token}/events" for token in phone_tokens(Path(tmp) / "var" / "kiosk.db", PHONES)]
            conn, theirs = multiprocessing.Pipe()
            child = multiprocessing.get_context("spawn").Process(
                target=listen, args=(port, phone_paths, ["/api/events"] * BOARDS, theirs), daemon=True
            )
            child.start()
            if not conn.poll(90) or not conn.recv() or len(phone_paths) != PHONES:
                raise RuntimeError("not every listener connected")
            cpu_before = cpu_seconds(server.proc.pid)
            crowded, crowded_times = issue_tickets(port, TICKETS, CLIENTS)
            cpu_per_ticket = (cpu_seconds(server.proc.pid) - cpu_before) / TICKETS
            spreads, missed = call_spread(port, conn, CALLS)
            background = threading.Thread(target=issue_tickets, args=(port, 1200, 4))
            background.start()
            busy_spreads, busy_missed = call_spread(port, conn, CALLS // 2)
            background.join()
            rss = rss_mb(server.proc.pid)
            threads_crowded = threads(server.proc.pid)
            conn.send(("open",))
            still = conn.recv()
            conn.send(("stop",))
            child.join(10)
            time.sleep(1)
            again, again_times = issue_tickets(port, TICKETS, CLIENTS)  # no listener again: the machine's drift
        finally:
            if child is not None and child.is_alive():
                child.kill()
            server.stop()
    a, c = summary_ms(alone_times + again_times), summary_ms(crowded_times)
    reference = (alone + again) / 2
    share = crowded / reference
    spread, busy = summary_ms(spreads), summary_ms(busy_spreads)
    listeners = f"{PHONES} phones + {BOARDS} boards"
    return [
        row(
            "phone",
            f"ticket issue, {CLIENTS} clients, no listener",
            reference,
            "tickets/s",
            "",
            f"mean of {alone:.0f} before and {again:.0f} after the listeners; load avg {load:.1f}",
        ),  # fmt: skip
        row("phone", "  p99 of one ticket request, no listener", a["p99"], "ms", "< 100 ms"),
        row(
            "phone",
            f"ticket issue, {CLIENTS} clients, {listeners} connected",
            crowded,
            "tickets/s",
            "≥ 80 % of no listener",
            f"{share:.0%} of no listener",
        ),  # fmt: skip
        row("phone", f"  p99 of one ticket request, {listeners}", c["p99"], "ms", "< 100 ms"),
        row("phone", "  server CPU per ticket issued, listeners connected", cpu_per_ticket * 1000, "ms"),
        row("phone", "call → the last of 305 listeners has it, median", spread["median"], "ms"),
        row(
            "phone",
            "call → the last of 305 listeners has it, worst",
            max(spreads) * 1000,
            "ms",
            "< 1000 ms",
            f"{CALLS} calls, {missed} listener-calls missed",
        ),  # fmt: skip
        row(
            "phone",
            "  … while 4 clients issue tickets, worst",
            max(busy_spreads) * 1000,
            "ms",
            "< 1000 ms",
            f"median {busy['median']:.0f} ms, {busy_missed} missed",
        ),  # fmt: skip
        row("phone", f"kiosk RSS, {listeners} connected", rss, "MB", "< 100 MB", f"{rss_alone:.0f} MB before them"),
        row(
            "phone",
            "kiosk threads, listeners connected",
            threads_crowded,
            "threads",
            "",
            f"{threads_alone} before them; {still} of 305 streams open at the end",
        ),  # fmt: skip
    ]


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:60s} {r['value']:9.2f} {r['unit']:9s} {r['target']:8s} {r['comparison']}")
