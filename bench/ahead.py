"""A day at a reception point with mixed-field counters: is "people ahead" right, and how good is the wait?

Issue 22.3. The kiosk runs in this process on a simulated clock (kiosk.clock.FakeClock): citizens arrive at
random (Poisson, seeded) for Hộ tịch (HT), Chứng thực (CT) and Đất đai (DD), one in ten with priority; each
counter presses "next" (kiosk.counters, the console's own code) the moment its citizen is done, and a
citizen's service time is drawn from a log-normal distribution per field (mean 6, 3 and 10 minutes).

Two layouts of three counters are played, each for an 8-hour day, busy (counters ≈ 80 % occupied) and
overloaded (≈ 90 %: the lines grow all day):

* **shared** — counters 1 and 2 both serve HT and CT, counter 3 serves DD (the issue's counter 1, doubled);
* **overlapping** — 1: HT+CT, 2: CT+DD, 3: HT+DD (no two counters alike).

What is measured, for each layout:

* the wait the ticket told (``wait_minutes`` of the issued ticket) against the real wait from issue to call:
  median and p90 of the absolute error, and the same for the old estimate (people of the ticket's own field
  ahead × average service time ÷ open counters of the field) for comparison;
* after every arrival and every call, for every waiting ticket, "ahead" as its phone page says it
  (kiosk.phone.PhoneService.states) against the tickets waiting at that moment that were really called before
  it later in the day by the counters that handle its field: the moments where they differ. In the shared
  layout the order of calls does not depend on which clerk finishes first, so it must be 0; in the
  overlapping layout it does (kiosk.ahead lets the counters take turns), and the count says how often the
  real day departed from that model.

Run: python -m bench ahead   (rewrites bench/RESULTS.md)
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.stats import percentile, row

SERVICES = [
    {"code": "HT", "name": "Hộ tịch", "prefix": "A"},
    {"code": "CT", "name": "Chứng thực", "prefix": "B"},
    {"code": "DD", "name": "Đất đai", "prefix": "C"},
]
#: Arrivals per hour of each field: a busy day (the counters ≈ 80 % occupied) and an overloaded one (≈ 90 %,
#: the lines grow all day), and the mean service minutes of each field.
LOADS = {"busy": {"HT": 10.0, "CT": 12.0, "DD": 5.0}, "overloaded": {"HT": 11.0, "CT": 14.0, "DD": 5.5}}
SERVICE_MINUTES = {"HT": 6.0, "CT": 3.0, "DD": 10.0}
SPREAD = 0.5  # sigma of the log-normal service time
PRIORITY_SHARE = 0.1
DAY_HOURS = 8.0
SEED = 22
LAYOUTS = {
    "shared": [{"number": 1, "services": ["HT", "CT"]}, {"number": 2, "services": ["HT", "CT"]},
               {"number": 3, "services": ["DD"]}],
    "overlapping": [{"number": 1, "services": ["HT", "CT"]}, {"number": 2, "services": ["CT", "DD"]},
                    {"number": 3, "services": ["HT", "DD"]}],
}  # fmt: skip


def service_seconds(rng: random.Random, field: str) -> float:
    mean = SERVICE_MINUTES[field] * 60
    mu = math.log(mean) - SPREAD**2 / 2  # a log-normal whose mean is ``mean``
    return rng.lognormvariate(mu, SPREAD)


def arrivals(rng: random.Random, load: dict[str, float]) -> list[tuple[float, str, bool]]:
    found = []
    for field, per_hour in load.items():
        t = rng.expovariate(per_hour / 3600)
        while t < DAY_HOURS * 3600:
            found.append((t, field, rng.random() < PRIORITY_SHARE))
            t += rng.expovariate(per_hour / 3600)
    return sorted(found)


def old_estimate(kiosk: Any, ticket: Any) -> int:
    """The estimate before issue 22: the ticket's own field only (kiosk.tickets.TicketIssuer.estimate_minutes)."""
    from kiosk.storage import read_scalars

    ahead = read_scalars(
        kiosk.engine,
        "SELECT COUNT(*) FROM ticket_state o JOIN tickets t ON t.id = o.ticket_id WHERE o.status = 'waiting' "
        "AND o.service_code = ? AND o.ticket_id != ? AND (o.priority > ? OR (o.priority = ? AND t.seq < "
        "(SELECT seq FROM tickets WHERE id = ?)))",
        (ticket.service, ticket.id, int(ticket.priority), int(ticket.priority), ticket.id),
    )[0]
    return kiosk.queue.tickets.estimate_minutes(ticket.service, int(ahead))


def play(layout: list[dict], load: dict[str, float], seed: int) -> dict[str, Any]:
    """One day; what was told and what happened."""
    from kiosk.app import create_app
    from kiosk.clock import FakeClock

    rng = random.Random(seed)
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"data_dir": str(Path(tmp) / "var"), "gpio": "mock", "printer": "none", "announcer": "none"}
        app = create_app({**settings, "services": SERVICES, "counters": layout, "TESTING": True}, clock=clock)
        kiosk = app.extensions["kiosk"]
        try:
            return _day(kiosk, clock, layout, arrivals(rng, load), rng)
        finally:
            kiosk.close()


def _day(kiosk: Any, clock: Any, layout: list[dict], coming: list, rng: random.Random) -> dict[str, Any]:
    fields = {c["number"]: set(c["services"]) for c in layout}
    events: list[tuple[float, int, str, Any]] = [(t, i, "arrive", (f, p)) for i, (t, f, p) in enumerate(coming)]
    heapq.heapify(events)
    order = len(events)
    now, idle = 0.0, sorted(fields)
    told: dict[str, tuple[float, int, int, str]] = {}  # id -> (issued at, minutes told, old minutes, field)
    called: dict[str, tuple[float, int, int]] = {}  # id -> (called at, call index, counter)
    moments: list[tuple[int, dict[str, int]]] = []  # (calls made so far, ahead told per waiting ticket)
    calls = 0

    def call(counter: int) -> bool:
        nonlocal calls, order
        ticket = kiosk.queue.desk.call_next(counter, None)
        if ticket is None:
            return False
        called[ticket["id"]] = (now, calls, counter)
        calls += 1
        order += 1
        heapq.heappush(events, (now + service_seconds(rng, ticket["service"]), order, "done", counter))
        return True

    while events:
        at, _, kind, data = heapq.heappop(events)
        clock.advance(at - now)
        now = at
        if kind == "arrive":
            field, priority = data
            ticket = kiosk.queue.issue(field, priority)
            told[ticket.id] = (now, ticket.wait_minutes, old_estimate(kiosk, ticket), field)
        elif not call(data):  # a counter done with its citizen presses "next" (which completes that one)
            idle.append(data)
        for counter in sorted(idle):
            if call(counter):
                idle.remove(counter)
        waiting = [tid for tid in told if tid not in called]
        states = kiosk.phone.states(waiting)
        moments.append((calls, {tid: states[tid]["ahead"] for tid in waiting}))
    by_index = {index: (tid, counter) for tid, (_, index, counter) in called.items()}
    wrong = checked = 0
    for made, told_ahead in moments:
        for tid, ahead in told_ahead.items():
            field, (_, mine, _) = told[tid][3], called[tid]
            really = sum(
                1
                for index in range(made, mine)
                if by_index[index][0] in told_ahead and field in fields[by_index[index][1]]
            )
            checked += 1
            wrong += really != ahead
    errors = [abs(m - (called[tid][0] - t) / 60) for tid, (t, m, _, _) in told.items()]
    old_errors = [abs(m - (called[tid][0] - t) / 60) for tid, (t, _, m, _) in told.items()]
    waits = [(called[tid][0] - t) / 60 for tid, (t, _, _, _) in told.items()]
    return {"tickets": len(told), "errors": errors, "old": old_errors, "waits": waits, "wrong": wrong,
            "checked": checked, "moments": len(moments)}  # fmt: skip


def run() -> list[dict]:
    rows = []
    for (name, layout), (busy, load) in itertools.product(LAYOUTS.items(), LOADS.items()):
        day = play(layout, load, SEED)
        errors, old = day["errors"], day["old"]
        label = f"{name} counters, {busy} day of {day['tickets']} tickets"
        rows += [
            row("ahead", f"{label}: wait told at issue, median absolute error", statistics.median(errors), "min",
                "< 2 min" if busy == "busy" else "", f"before issue 22: {statistics.median(old):.1f} min"),
            row("ahead", f"{label}: wait told at issue, p90 absolute error", percentile(errors, 0.9), "min", "",
                f"before issue 22: {percentile(old, 0.9):.1f} min; real waits median "
                f"{statistics.median(day['waits']):.1f}, p90 {percentile(day['waits'], 0.9):.1f} min"),
            row("ahead", f"{label}: moments where a phone's 'ahead' was not the real count", day["wrong"],
                "ticket-moments", "0" if name == "shared" else "",
                f"{day['checked']:,} checked over {day['moments']} moments"
                + ("" if name == "shared" else "; who calls first depends on who finishes first")),
        ]  # fmt: skip
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
