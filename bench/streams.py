"""The kiosk at its cap of event streams: 2,000 listeners, the counter at speed, `/healthz` answering (issue 21).

One real `kiosk serve` (KIOSK_PRINTER=none) with the open-file limit of systemd/kiosk.service (LimitNOFILE=4096),
in one run:

1. ticket issue over HTTP with 8 clients and no listener: the reference throughput;
2. 1,995 phone pages (`/t/<token>/events`, one per waiting ticket) and 5 boards (`/api/events`) connected: the
   kiosk's cap, as `/healthz` reports it; then the same ticket issue, and `/healthz` timed one request at a time
   while 4 clients issue tickets and once they stopped;
3. one stream more: its answer (503, with Retry-After), and the kiosk still running.

Targets: throughput ≥ 80 % of the no-listener figure at the cap, `/healthz` p99 < 100 ms, a 503 past the cap.
The listeners are read in another process (tests/sse_crowd.py), as phones are devices of their own; it counts
the events without decoding them, to take as little as it can of the CPU it shares with the kiosk. The kiosk's
CPU time per ticket, with and without them, is its cost apart from a busy machine.

Run: python -m bench streams   (rewrites bench/RESULTS.md)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import socket
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.phone import phone_tokens, rss_mb, threads
from bench.queue import CLIENTS, cpu_seconds, issue_tickets, start_server
from bench.stats import row, summary_ms

STREAMS = 2000
BOARDS = 5
TICKETS = 3000
HEALTH_CHECKS = 100
#: The unit's LimitNOFILE (systemd/kiosk.service).
UNIT_OPEN_FILES = 4096


def one_more(port: int) -> tuple[int, str, bool]:
    """The status and Retry-After of one stream past the cap, and whether the kiosk closed the connection."""
    answer, closed = b"", False
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: board\r\n\r\n")
        try:
            while chunk := sock.recv(65536):
                answer += chunk
            closed = True
        except TimeoutError:  # still open 5 s later
            pass
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
    return int(head[0].split()[1]), headers.get("retry-after", ""), closed


def listen(port: int, paths: list[str], conn) -> None:
    """The listeners, in a process of their own: open them all and say whether each got its 200; when asked, say
    how many are still open and how many events they received; then close them."""
    from tests.sse_crowd import Crowd

    crowd = Crowd(port, keep=frozenset())
    listeners = [crowd.open(path) for path in paths]
    conn.send(crowd.wait(lambda: all(x.status == 200 for x in listeners), 120))
    conn.recv()
    conn.send(crowd.read(lambda: (sum(not x.closed for x in listeners), sum(x.skipped for x in listeners))))
    conn.recv()
    crowd.close()


def health_times(base: str, count: int) -> tuple[list[float], dict]:
    """Seconds of each of ``count`` `/healthz` requests, one at a time, and the last answer."""
    session = requests.Session()
    times, last = [], {}
    for _ in range(count):
        start = time.perf_counter()
        answer = session.get(base + "/healthz", timeout=30)
        times.append(time.perf_counter() - start)
        if answer.status_code != 200:
            raise RuntimeError(f"/healthz answered {answer.status_code}: {answer.text[:200]}")
        last = answer.json()
    return times, last


def run() -> list[dict]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < STREAMS + 500:  # the listeners' process (spawned from this one) opens STREAMS sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, STREAMS * 2), hard))
    phones = STREAMS - BOARDS
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp) / "var", open_files=(UNIT_OPEN_FILES, UNIT_OPEN_FILES))
        pid = server.proc.pid
        child = None
        try:
            issue_tickets(port, phones, 5)  # the phones' own tickets, waiting
            issue_tickets(port, 200, CLIENTS)  # warm up
            load = os.getloadavg()[0]
            cpu = cpu_seconds(pid)
            alone, _ = issue_tickets(port, TICKETS, CLIENTS)
            cpu_alone = (cpu_seconds(pid) - cpu) / TICKETS
            health_alone, _ = health_times(server.base, HEALTH_CHECKS)
            rss_alone = rss_mb(pid)

            paths = [f"/t/{token}/events" for token in phone_tokens(Path(tmp) / "var" / "kiosk.db", phones)]
            if len(paths) != phones:
                raise RuntimeError(f"{len(paths)} waiting tickets, {phones} wanted")
            conn, theirs = multiprocessing.Pipe()
            child = multiprocessing.get_context("spawn").Process(
                target=listen, args=(port, paths + ["/api/events"] * BOARDS, theirs), daemon=True
            )
            child.start()
            if not conn.poll(180) or not conn.recv():
                raise RuntimeError("not every listener connected")
            opened = time.perf_counter()
            cpu = cpu_seconds(pid)
            crowded, crowded_times = issue_tickets(port, TICKETS, CLIENTS)
            cpu_crowded = (cpu_seconds(pid) - cpu) / TICKETS
            busy = threading.Thread(target=issue_tickets, args=(port, TICKETS // 2, 4))
            busy.start()
            health_busy, _ = health_times(server.base, HEALTH_CHECKS)  # while 4 clients issue tickets
            busy.join()
            time.sleep(2)
            health_full, report = health_times(server.base, HEALTH_CHECKS)
            past_cap, retry_after, closed = one_more(port)
            rss, threads_full = rss_mb(pid), threads(pid)
            conn.send("count")
            still, events = conn.recv()
            held = time.perf_counter() - opened
            conn.send("stop")
            child.join(10)
            time.sleep(1)
            again, _ = issue_tickets(port, TICKETS, CLIENTS)  # no listener again: the machine's drift
            alive = server.proc.poll() is None
        finally:
            if child is not None and child.is_alive():
                child.kill()
            server.stop()
    reference = (alone + again) / 2
    c, h0, h = summary_ms(crowded_times), summary_ms(health_alone), summary_ms(health_full)
    hb = summary_ms(health_busy)
    cap = report.get("streams", {})
    listeners = f"{phones:,} phones + {BOARDS} boards"
    return [
        row("streams", "event streams the kiosk holds (its cap, from /healthz)", cap.get("limit", 0), "streams",
            f"≥ {STREAMS:,}", f"LimitNOFILE={UNIT_OPEN_FILES}; {cap.get('boards', 0) + cap.get('phones', 0):,} open"),
        row("streams", f"ticket issue, {CLIENTS} clients, no listener", reference, "tickets/s", "",
            f"mean of {alone:.0f} before and {again:.0f} after the listeners; load avg {load:.1f}"),
        row("streams", f"ticket issue, {CLIENTS} clients, {listeners} connected", crowded, "tickets/s",
            "≥ 80 % of no listener", f"{crowded / reference:.0%} of no listener"),
        row("streams", f"  p99 of one ticket request, {listeners}", c["p99"], "ms", "< 100 ms"),
        row("streams", "  kiosk CPU per ticket issued, streams open", cpu_crowded * 1000, "ms", "",
            f"{cpu_alone * 1000:.2f} ms without listeners"),
        row("streams", "/healthz at the cap, p99", h["p99"], "ms", "< 100 ms",
            f"median {h['median']:.1f} ms; without listeners {h0['median']:.1f}, p99 {h0['p99']:.1f} ms"),
        row("streams", "  … while 4 clients issue tickets, p99", hb["p99"], "ms", "answers",
            f"median {hb['median']:.1f} ms; {HEALTH_CHECKS} of {HEALTH_CHECKS} answered 200"),
        row("streams", "one stream more than the cap", past_cap, "HTTP status", "503",
            f"Retry-After {retry_after or 'missing'} s, connection {'closed' if closed else 'kept'}; "
            f"kiosk {'still running' if alive else 'DIED'}"),
        row("streams", f"kiosk RSS, {listeners} connected", rss, "MB", "", f"{rss_alone:.0f} MB before them"),
        row("streams", "kiosk threads, listeners connected", threads_full, "threads", "",
            f"{still:,} of {STREAMS:,} streams still open after {held:.0f} s; {events:,} events received"),
    ]  # fmt: skip


if __name__ == "__main__":
    for r in run():
        print(json.dumps(r, ensure_ascii=False))
