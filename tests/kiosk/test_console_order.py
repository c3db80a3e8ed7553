"""The clerk console lists the waiting line in the order its counter's "next" calls it (kiosk.ahead.calling_order):
due bookings before walk-ins (at most every other call while walk-ins wait), a visit of several fields moving on
into its next field's line, held tickets apart. The first row is what "next" calls now, call after call."""

from __future__ import annotations

import random
import sqlite3
from itertools import pairwise
from pathlib import Path

import pytest

from common.settings import DEFAULT_SERVICES
from kiosk.bookings import store_document
from sync.bookings_document import version
from tests.kiosk.test_ahead import ACTIONS, BOOKINGS, FIELDS, MIXED, MULTI_ACTIONS, SHARED, WITH_HOLDS, act, read
from tests.kiosk.test_bookings_day import checkin, put_bookings
from tests.queue_helpers import issue, login, make_app

pytestmark = pytest.mark.staffed()

#: Enough presses to empty any test's queue (a visit of three fields is called three times).
MOST_CALLS = 500


def drain(call, view, counter: int) -> list[str]:
    """Press "next" at ``counter`` until nobody is left; before each press the console's first row is the ticket
    "next" then calls (and for that field). The first list, in full, is the order of the calls' first calls. Returns the calls (ticket ids)."""
    listed = [t["id"] for t in view(counter)["line"]]
    calls: list[str] = []
    for _ in range(MOST_CALLS):
        line = view(counter)["line"]
        assert [t["position"] for t in line] == list(range(1, len(line) + 1))
        assert [t["next"] for t in line] == [True, *[False] * (len(line) - 1)][: len(line)]
        called = call(counter)
        if called is None:
            assert line == [], "the console lists tickets that 'next' does not call"
            break
        assert line, f"'next' called {called['display_number']} but the console listed nobody"
        head = line[0]
        assert (head["id"], head["service"]) == (called["id"], called["service"]), (
            f"the console's first row {head['display_number']} ({head['service']}), "
            f"'next' called {called['display_number']} ({called['service']})"
        )
        calls.append(called["id"])
    else:
        pytest.fail("the queue never emptied")
    first_calls = list(dict.fromkeys(calls))
    assert listed == first_calls[: len(listed)], "the first list is not the order of the calls"
    return calls


def test_a_due_booking_is_listed_first_and_each_row_is_called_in_turn(app, client, clock):
    put_bookings(app, ("BK-0810", "HT", "2026-11-20T08:10"), ("BK-0815", "CT", "2026-11-20T08:15"))
    clerk = app.test_client()
    login(clerk, 1)  # counter 1: Hộ tịch (HT) and Chứng thực (CT)
    walk_in = issue(client, "HT")
    urgent = issue(client, "CT", priority=True)
    several = client.post("/api/tickets", json={"services": ["CT", "HT"]}).get_json()
    later = issue(client, "CT")
    first_booked, second_booked = checkin(client, "BK-0810"), checkin(client, "BK-0815")
    view = clerk.get("/api/counters/1/queue").get_json()
    early = [urgent, walk_in, several, later, first_booked, second_booked]  # 08:00: bookings not due yet
    assert [t["id"] for t in view["line"]] == [t["id"] for t in early]

    clock.advance(20 * 60)  # 08:20: both bookings are due
    line = clerk.get("/api/counters/1/queue").get_json()["line"]
    # a booking, a walk-in (the priority one), a booking, then the walk-ins in issue order
    assert [t["id"] for t in line] == [t["id"] for t in (first_booked, urgent, second_booked, walk_in, several, later)]
    assert line[0]["booking"] == {"at": "08:10", "late": False} and line[0]["next"] is True

    def call(counter: int) -> dict | None:
        answer = clerk.post(f"/api/counters/{counter}/next")
        return None if answer.status_code == 204 else answer.get_json()["ticket"]

    def look(counter: int) -> dict:
        return clerk.get(f"/api/counters/{counter}/queue").get_json()

    ids = drain(call, look, 1)
    # the visit of two fields was called twice, the second time straight after its first field
    assert ids.count(several["id"]) == 2 and any(a == b == several["id"] for a, b in pairwise(ids))


def test_the_ticket_served_is_listed_first_when_next_calls_it_again_for_its_next_field(app, client):
    clerk = app.test_client()
    login(clerk, 1)
    several = client.post("/api/tickets", json={"services": ["CT", "HT"]}).get_json()
    walk_in = issue(client, "HT")  # issued after the visit: it waits behind it in Hộ tịch
    clerk.post("/api/counters/1/call", json={"ticket_id": several["id"]})  # out of turn: served for CT
    line = clerk.get("/api/counters/1/queue").get_json()["line"]
    assert [(t["id"], t["service"], t["status"]) for t in line] == [
        (several["id"], "HT", "called"),
        (walk_in["id"], "HT", "waiting"),
    ]
    assert clerk.post("/api/counters/1/next").get_json()["ticket"]["id"] == several["id"]


def drain_a_copy(db: Path, where: Path, clock, settings: dict, counter: int) -> None:
    """Copy the kiosk's database and, in the copy, empty ``counter``'s line with "next" (see :func:`drain`)."""
    (where / "var").mkdir(parents=True)
    source, target = sqlite3.connect(db), sqlite3.connect(where / "var" / "kiosk.db")
    source.backup(target)
    source.close(), target.close()
    copy = make_app(where / "var", clock, **settings)
    queue = copy.extensions["kiosk"].queue
    try:
        if queue.counter_view(counter)["counter"]["paused"]:
            queue.desk.resume(counter, None)
        drain(lambda n: queue.desk.call_next(n, None), queue.counter_view, counter)
    finally:
        copy.extensions["kiosk"].close()


@pytest.mark.parametrize(("layout", "seed"), [(MIXED, 11), (SHARED, 12), (MIXED, 13)])
def test_the_console_lists_the_line_in_the_order_next_calls_it_on_random_days(clock, tmp_path, layout, seed):
    """Walk-ins, priority tickets, bookings checked in early, on time and late, visits of several fields, holds,
    picks out of turn, transfers and pauses: at every few steps, at each counter, the console's list is the
    order of the calls its "next" makes, and its first row the ticket each press calls, until nobody is left."""
    settings = {"services": DEFAULT_SERVICES[:3], "counters": layout, "hold_minutes": 20}
    app = make_app(tmp_path / "var", clock, **settings)
    items = [
        {"code": f"BK-{n}", "site": "TT", "service": FIELDS[n % len(FIELDS)], "at": f"2026-11-20T{8 + n * 8 // 60:02d}:"
         f"{n * 8 % 60:02d}", "name": ""} for n in range(BOOKINGS)
    ]  # fmt: skip
    actions = MULTI_ACTIONS + WITH_HOLDS[len(ACTIONS) :] + ["checkin"] * 5
    rng = random.Random(seed)
    db = tmp_path / "var" / "kiosk.db"
    try:
        kiosk = app.extensions["kiosk"]
        store_document(kiosk.sessions, {"version": version(items), "bookings": items}, clock.now())
        citizen = app.test_client()
        clerks = {number: app.test_client() for number in (1, 2, 3)}
        for number, clerk in clerks.items():
            login(clerk, number)
        for step in range(30):
            act(rng, db, citizen, clerks, {}, actions)
            clock.advance(rng.randint(5, 300))
            if step % 5 == 4:
                for counter in clerks:
                    drain_a_copy(db, tmp_path / f"step{step}-{counter}", clock, settings, counter)
        kinds = read(db, "SELECT COUNT(*) FROM booking_checkins UNION ALL SELECT COUNT(*) FROM ticket_fields")
        assert all(n > 0 for (n,) in kinds), kinds  # the day really had bookings and visits of several fields
    finally:
        app.extensions["kiosk"].close()
