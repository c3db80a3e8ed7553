"""People ahead and the wait (kiosk.ahead): the number of tickets really called before this one (issue 22.3)."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections import deque
from pathlib import Path

import pytest
import requests

from common.settings import DEFAULT_SERVICES
from kiosk.app import create_app
from tests.kiosk.test_panel import wait_for
from tests.kiosk.test_phone_page import token_of
from tests.kiosk.test_queue_concurrency import read_sse
from tests.queue_helpers import PINS, add_clerks, issue, login, make_app, rows
from tests.server import KioskServer

#: The issue's day at counter 1 (Hộ tịch "A" and Chứng thực "B"), in the order counter 1 calls them.
ISSUE_SEQUENCE = [
    ("HT", True),
    ("CT", False),
    ("HT", False),
    ("HT", False),
    ("CT", False),
    ("HT", False),
    ("HT", False),
]
CALLED = ["A001", "B001", "A002", "A003", "B002", "A004", "A005"]


@pytest.fixture
def served(tmp_path):
    server = KioskServer(tmp_path / "var")
    add_clerks(server)
    server.start()
    yield server
    server.stop()


def test_issue_22_a_counter_serving_two_fields_counts_both_in_people_ahead(served):
    """A005 was told 4 ahead while six were called before it; during A003's service its phone said 1 ahead
    while B002 and A004 were both still ahead."""
    base, db = served.base, served.data_dir / "kiosk.db"
    tickets = []
    for service, priority in ISSUE_SEQUENCE:
        answer = requests.post(f"{base}/api/tickets", json={"service": service, "priority": priority}, timeout=10)
        assert answer.status_code == 201, answer.text
        tickets.append(answer.json())
    a005 = tickets[-1]
    assert a005["display_number"] == "A005"
    assert (a005["ahead"], a005["position"]) == (6, 7)
    phone = f"{base}/t/{token_of(db, a005['id'])}/state"
    assert requests.get(phone, timeout=10).json()["ahead"] == 6
    clerk = requests.Session()
    assert clerk.post(f"{base}/api/clerk/login", json={"counter": 1, "pin": PINS[1]}, timeout=10).ok
    for n, number in enumerate(CALLED[:-1]):
        called = clerk.post(f"{base}/api/counters/1/next", timeout=10).json()["ticket"]["display_number"]
        assert called == number
        state = requests.get(phone, timeout=10).json()
        assert state["ahead"] == len(CALLED) - 2 - n, f"while {number} is served"
    assert clerk.post(f"{base}/api/counters/1/next", timeout=10).json()["ticket"]["display_number"] == "A005"
    assert requests.get(phone, timeout=10).json()["status"] == "called"


def test_a_call_in_the_other_field_of_the_counter_reaches_the_phone_at_once(served):
    """The live page is told when B001 (Chứng thực) is called at counter 1, not only at its next minute's refresh."""
    base, db = served.base, served.data_dir / "kiosk.db"
    clerk = requests.Session()  # before the phone listens: a clerk coming tells every phone anew
    assert clerk.post(f"{base}/api/clerk/login", json={"counter": 1, "pin": PINS[1]}, timeout=10).ok
    requests.post(f"{base}/api/tickets", json={"service": "CT"}, timeout=10)
    mine = requests.post(f"{base}/api/tickets", json={"service": "HT"}, timeout=10).json()
    stream = requests.get(f"{base}/t/{token_of(db, mine['id'])}/events", stream=True, timeout=10)
    found: list = []
    stop = threading.Event()
    threading.Thread(target=read_sse, args=(stream, found, stop), daemon=True).start()
    try:

        def told() -> list[int]:  # each change of "ahead" (a new estimate alone may come as a state too)
            values = [d["ahead"] for kind, d, _ in found if kind == "state"]
            return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]

        assert wait_for(lambda: told(), timeout=10), f"no state among {found}"
        assert told() == [1]
        called = clerk.post(f"{base}/api/counters/1/next", timeout=10).json()["ticket"]
        assert called["display_number"] == "B001"
        assert wait_for(lambda: told()[-1] == 0, timeout=10), f"the phone was told {told()}"
        assert told() == [1, 0]
    finally:
        stop.set()
        stream.close()


def test_the_printed_ticket_counts_the_other_field_of_its_counter(tmp_path, clock):
    app = create_app({"data_dir": str(tmp_path / "var"), "gpio": "mock", "TESTING": True}, clock=clock)
    try:
        kiosk = app.extensions["kiosk"]
        first, other, mine = kiosk.queue.issue("HT"), kiosk.queue.issue("CT"), kiosk.queue.issue("HT")
        kiosk.queue.issue("DD")  # counter 2's field: never called by counter 1
        assert kiosk.printing.ticket_content(mine.id)["waiting"] == 2  # "Số người phía trước: 2"
        assert kiosk.printing.ticket_content(first.id)["waiting"] == 0
        kiosk.queue.desk.call_next(1, None)
        assert kiosk.printing.ticket_content(mine.id)["waiting"] == 1  # a reprint tells today's truth
        assert other.ahead == 1 and mine.ahead == 2
    finally:
        app.extensions["kiosk"].close()


# --- at every moment, whatever the clerks do ------------------------------------------------------------------

FIELDS = ["HT", "CT", "DD"]
#: Mixed and overlapping: each field has two counters, each counter two fields, no two counters alike.
MIXED = [{"number": 1, "services": ["HT", "CT"]}, {"number": 2, "services": ["CT", "DD"]},
         {"number": 3, "services": ["HT", "DD"]}]  # fmt: skip
#: The usual layout: the counters of a field all serve the same fields (the kiosk counts without a play-out).
SHARED = [{"number": 1, "services": ["HT", "CT"]}, {"number": 2, "services": ["HT", "CT"]},
          {"number": 3, "services": ["DD"]}]  # fmt: skip
ACTIONS = ["issue"] * 5 + ["next"] * 4 + ["transfer"] * 3 + ["pause"] * 2 + ["recall", "no-show", "complete", "resume"]
STEPS = 40


def read(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    return rows(db, sql, params)


def play_out(db: Path, where: Path, clock, settings: dict, resume_paused: bool) -> dict[str, int]:
    """Copy the kiosk's database, let the open counters of the copy take turns pressing "next" until nobody is
    left (the counter that has served nobody first, then the one that called its citizen first), and count
    for each ticket the calls made before it at the counters that handle its field."""
    (where / "var").mkdir(parents=True)
    source, target = sqlite3.connect(db), sqlite3.connect(where / "var" / "kiosk.db")
    source.backup(target)
    source.close(), target.close()
    copy = make_app(where / "var", clock, **settings)
    desk = copy.extensions["kiosk"].queue.desk
    try:
        copied = where / "var" / "kiosk.db"
        if resume_paused:
            for (number,) in read(copied, "SELECT number FROM counters WHERE active AND paused"):
                desk.resume(number, None)
        fields: dict[int, set[str]] = {}
        for number, code in read(copied, "SELECT counter_number, service_code FROM counter_services"):
            fields.setdefault(number, set()).add(code)
        waiting = dict(read(copied, "SELECT ticket_id, service_code FROM ticket_state WHERE status = 'waiting'"))
        called_at = dict(
            read(
                copied,
                "SELECT ts.counter_number, MAX(ca.seq) FROM ticket_state ts JOIN clerk_actions ca "
                "ON ca.ticket_id = ts.ticket_id AND ca.action = 'call' WHERE ts.status = 'called' "
                "GROUP BY ts.counter_number",
            )
        )
        open_ = [n for (n,) in read(copied, "SELECT number FROM counters WHERE active AND NOT paused")]
        turns = deque(sorted(open_, key=lambda n: (n in called_at, called_at.get(n, 0), n)))
        calls: list[tuple[str, int]] = []
        while turns:
            number = turns.popleft()
            ticket = desk.call_next(number, None)
            if ticket is not None:
                calls.append((ticket["id"], number))
                turns.append(number)
        return {
            tid: sum(1 for _, other in calls[:i] if waiting[tid] in fields[other]) for i, (tid, _) in enumerate(calls)
        }
    finally:
        copy.extensions["kiosk"].close()


def act(rng: random.Random, db: Path, citizen, clerks: dict, issued: dict) -> None:
    action, counter = rng.choice(ACTIONS), rng.choice(list(clerks))
    serving = [n for (n,) in read(db, "SELECT counter_number FROM ticket_state WHERE status = 'called'")]
    if action in ("recall", "no-show", "complete", "transfer") and serving:
        counter = rng.choice(serving)  # mostly at a counter serving someone, where the action does something
    clerk = clerks[counter]
    if action == "issue":
        ticket = issue(citizen, rng.choice(FIELDS), priority=rng.random() < 0.2)
        issued[ticket["id"]] = ticket["ahead"]  # what its ticket says, checked at once
    elif action == "transfer":
        answer = clerk.post(f"/api/counters/{counter}/transfer", json={"service": rng.choice(FIELDS)})
        assert answer.status_code in (200, 400, 409), answer.get_json()
    else:
        answer = clerk.post(f"/api/counters/{counter}/{action}")
        assert answer.status_code in (200, 204, 409), answer.get_json()


@pytest.mark.parametrize(("layout", "seed"), [(MIXED, 0), (MIXED, 1), (SHARED, 2)])
def test_people_ahead_is_the_number_really_called_before_at_every_moment(clock, tmp_path, layout, seed):
    settings = {"services": DEFAULT_SERVICES[:3], "counters": layout}
    app = make_app(tmp_path / "var", clock, **settings)
    try:
        day_of_clerks(app, clock, tmp_path, settings, random.Random(seed))
    finally:
        app.extensions["kiosk"].close()


def day_of_clerks(app, clock, tmp_path: Path, settings: dict, rng: random.Random) -> None:
    db = tmp_path / "var" / "kiosk.db"
    citizen = app.test_client()
    clerks = {number: app.test_client() for number in (1, 2, 3)}
    for number, clerk in clerks.items():
        login(clerk, number)
    for step in range(STEPS):
        issued: dict[str, int] = {}
        act(rng, db, citizen, clerks, issued)
        clock.advance(rng.randint(5, 300))
        waiting = read(db, "SELECT ticket_id, token, service_code FROM ticket_state WHERE status = 'waiting'")
        phone = {tid: citizen.get(f"/t/{token}/state").get_json()["ahead"] for tid, token, _ in waiting}
        truth = play_out(db, tmp_path / f"step{step}", clock, settings, resume_paused=False)
        if len(truth) < len(phone):  # a field whose counters are all paused: counted as if they reopened
            again = play_out(db, tmp_path / f"step{step}-reopened", clock, settings, resume_paused=True)
            truth.update({tid: n for tid, n in again.items() if tid not in truth})
        assert phone == truth, f"step {step}: what the phones say, against the calls really made before them"
        for tid, ahead in issued.items():
            assert ahead == truth[tid], f"step {step}: the new ticket's own answer"
