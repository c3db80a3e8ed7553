"""The clerk console's poll: what `GET /api/counters/<n>` costs the kiosk with a long line.

The console asks every few seconds, one request per signed-in clerk. Its answer lists the line in the order the
counter's "next" calls it (kiosk.ahead.calling_order: bookings, priority, visits of several fields moving on), at
most ``CONSOLE_WAITING`` rows. Measured in this process (kiosk.queue_service.QueueService.counter_view, no HTTP)
on a day with 300 and 1000 tickets waiting for the counter's two fields (one in ten a visit of both): the whole
view, and the play-out alone up to the rows listed against the play-out of the whole line (what the console
computed before the play-out stopped at the rows it lists).

Run: python -m bench console   (rewrites bench/RESULTS.md)
"""

from __future__ import annotations

import tempfile
import timeit
from pathlib import Path
from typing import Any

from bench.stats import row

LINES = (300, 1000)
REPEAT = 7


def _best_ms(call: Any, number: int) -> float:
    """The fastest of REPEAT runs of ``number`` calls, per call, in milliseconds (the machine is shared)."""
    return min(timeit.repeat(call, number=number, repeat=REPEAT)) / number * 1000


def measure(waiting: int) -> dict[str, float]:
    from kiosk.ahead import _rests, calling_order
    from kiosk.app import create_app
    from kiosk.clock import FakeClock
    from kiosk.queue_service import CONSOLE_WAITING
    from kiosk.storage import read_transaction

    with tempfile.TemporaryDirectory() as tmp:
        settings = {"data_dir": str(Path(tmp) / "var"), "gpio": "mock", "printer": "none", "announcer": "none"}
        app = create_app({**settings, "TESTING": True}, clock=FakeClock())
        kiosk = app.extensions["kiosk"]
        try:
            citizens = app.test_client()
            for i in range(waiting):
                body = {"services": ["HT", "CT"]} if i % 10 == 0 else {"service": ("HT", "CT")[i % 2]}
                assert citizens.post("/api/tickets", json=body).status_code == 201
            queue, day = kiosk.queue, kiosk.queue.day.peek()
            with read_transaction(queue.engine) as r:
                rests = _rests(r, day.isoformat())
                desk = next(d for d in queue.line._desks(r, rests) if d.number == 1)
                line = queue.line._waiting(r, day, rests)
            return {
                "view": _best_ms(lambda: queue.counter_view(1), 10),
                "listed": _best_ms(lambda: calling_order(line, desk, CONSOLE_WAITING), 20),
                "whole": _best_ms(lambda: calling_order(line, desk), 20),
            }
        finally:
            kiosk.close()


def run() -> list[dict]:
    rows = []
    for waiting in LINES:
        found = measure(waiting)
        rows += [
            row("console", f"counter view (the console's poll), {waiting} waiting", found["view"], "ms"),
            row(
                "console",
                f"calling order up to the 30 rows listed, {waiting} waiting",
                found["listed"],
                "ms",
                "",
                f"whole line played out: {found['whole']:.2f} ms",
            ),
        ]
    return rows
