"""Honest figures under attack (issue 12, cases 2 and 3): one ticket one counted rating, repeat presses keyed on
what a sender cannot choose, flooding from one address throttled, and details only from the rater.

Everything goes through HTTP as a hostile person on the office network would send it (``REMOTE_ADDR`` of a
LAN address), or as the kiosk's own screen does (loopback).
"""

from __future__ import annotations

import json

import pytest

from tests.queue_helpers import issue, login, rows

pytestmark = pytest.mark.staffed()  # the commune of tests/queue_helpers.py: clerks at counters 1–3

LAN = {"REMOTE_ADDR": "192.168.1.50"}


@pytest.fixture
def db(tmp_path):
    return tmp_path / "var" / "kiosk.db"


def served_ticket(app) -> dict:
    """A ticket issued, called and completed at counter 1 by its clerk."""
    clerk = app.test_client()
    ticket = issue(clerk)
    login(clerk, 1)
    assert clerk.post("/api/counters/1/next").status_code == 200
    assert clerk.post("/api/counters/1/complete").status_code == 200
    return ticket


def test_one_ticket_is_counted_once_however_often_it_is_rated(app, clock, db):
    """84 "Không hài lòng" for one ticket in 31 s, each from a fresh screen session: one counts."""
    ticket = served_ticket(app)
    answers = []
    for _ in range(84):
        screen = app.test_client()
        screen.get("/?counter=1")  # a new kiosk session every time: the sender cannot make itself new
        answer = screen.post("/api/ratings", json={"level": "unsatisfied", "counter": 1, "ticket_id": ticket["id"]})
        assert answer.status_code == 201, answer.json
        answers.append(answer.json)
        clock.advance(31 / 84)
    assert [a["counted"] for a in answers] == [True] + [False] * 83
    assert {a["flag"] for a in answers[1:]} == {"duplicate_ticket"}
    stored = rows(db, "SELECT counted, flag, clerk_id IS NOT NULL FROM ratings WHERE ticket_id = ?", (ticket["id"],))
    assert len(stored) == 84, "every press is kept"
    assert sum(1 for counted, _flag, _clerk in stored if counted) == 1
    assert all(clerk for _c, _f, clerk in stored), "each is still linked to the clerk who served the ticket"
    # A rating at the counter without a ticket while that visit is still the counter's last (link window) is not
    # a second counted vote for it (issue 21: one visit, one counted rating, whatever the channels) ...
    clock.advance(10)
    again = app.test_client().post("/api/ratings", json={"level": "unsatisfied", "counter": 1})
    assert (again.json["counted"], again.json["flag"]) == (False, "visit_rated")
    # ... and a later one is not linked to that clerk's ticket again.
    clock.advance(app.extensions["kiosk"].settings["link_window"])
    later = app.test_client().post("/api/ratings", json={"level": "unsatisfied", "counter": 1})
    assert later.json["counted"] is True and later.json["clerk"] == "Nguyễn Thị Lan"  # still on duty there
    assert rows(db, "SELECT ticket_id FROM ratings WHERE id = ?", (later.json["id"],)) == [(None,)]


def test_a_phone_rating_by_ticket_counts_once_per_ticket(app, clock, db):
    """The QR on a ticket lets the citizen rate from a phone on the office Wi-Fi (its own page, the token the QR
    carries): one counted rating per ticket."""
    first, second = served_ticket(app), served_ticket(app)
    phone = app.test_client()
    token = rows(db, "SELECT token FROM ticket_state WHERE ticket_id = ?", (first["id"],))[0][0]
    assert phone.post(f"/t/{token}/rating", json={"level": "very_satisfied"}, environ_base=LAN).json["counted"] is True
    clock.advance(30)
    again = phone.post(f"/t/{token}/rating", json={"level": "very_satisfied"}, environ_base=LAN).json
    assert (again["counted"], again["flag"]) == (False, "duplicate_ticket")
    clock.advance(30)
    other = rows(db, "SELECT token FROM ticket_state WHERE ticket_id = ?", (second["id"],))[0][0]
    wifi = {"REMOTE_ADDR": "192.168.1.51"}
    assert phone.post(f"/t/{other}/rating", json={"level": "satisfied"}, environ_base=wifi).json["counted"]


def test_repeat_presses_from_one_address_are_flagged_whatever_the_request_says(app, clock):
    """A sender on the network that drops its cookie, names other counters and channels: still one sender."""
    counted = []
    for i in range(6):
        sender = app.test_client()  # no cookie, or a new screen session each time
        if i % 2:
            sender.get("/", environ_base=LAN)
        body = {"level": "unsatisfied", "counter": 1 + i % 3, "channel": ["touch", "phone", "button"][i % 3]}
        counted.append(sender.post("/api/ratings", json=body, environ_base=LAN).json["flag"])
        clock.advance(1)
    # a sender on the network does not hold a visit (issue 21): none counts; the repeats are still repeats
    assert counted == ["not_holder"] + ["response_interval"] * 5
    clock.advance(5)
    later = app.test_client().post("/api/ratings", json={"level": "satisfied"}, environ_base=LAN).json
    assert (later["counted"], later["flag"]) == (False, "not_holder")


def test_flooding_from_one_address_is_throttled_but_the_kiosks_own_screen_is_not(app, clock):
    limit = app.extensions["kiosk"].settings["rating_flood_limit"]
    sender = app.test_client()
    codes = [
        sender.post("/api/ratings", json={"level": "unsatisfied"}, environ_base=LAN).status_code for _ in range(15)
    ]
    assert codes == [201] * limit + [429] * (15 - limit)
    refused = sender.post("/api/ratings", json={"level": "unsatisfied"}, environ_base=LAN)
    assert refused.json["detail"]["reason"] == "flood" and refused.json["detail"]["retry_after"] > 0
    assert (
        app.test_client()
        .post("/api/ratings", json={"level": "satisfied"}, environ_base={"REMOTE_ADDR": "192.168.1.9"})
        .status_code
        == 201
    )
    screen = app.test_client()
    assert all(screen.post("/api/ratings", json={"level": "satisfied"}).status_code == 201 for _ in range(15))


def test_details_need_the_secret_only_the_rater_got(app, clock):
    kiosk = app.extensions["kiosk"]
    watcher = kiosk.events.subscribe()
    citizen = app.test_client()
    citizen.get("/?counter=1")
    made = citizen.post("/api/ratings", json={"level": "satisfied", "counter": 1}).json
    assert made["secret"]
    published = watcher.get_nowait()
    assert published.kind == "rating_recorded" and published.data["id"] == made["id"]
    assert made["secret"] not in json.dumps(published.data), "the event stream never carries the secret"

    intruder = app.test_client()
    details = {"criteria": {"attitude": "unsatisfied"}, "comment": "Cán bộ thiếu nhiệt tình"}
    for secret in (None, "", "0" * 32, kiosk.ratings.details_secret("another-rating")):
        body = {**details, "secret": secret} if secret is not None else details
        refused = intruder.post(f"/api/ratings/{made['id']}/details", json=body, environ_base=LAN)
        assert refused.status_code == 403 and refused.json["detail"]["reason"] == "not_the_rater"
    assert rows(kiosk.settings.data_path / "kiosk.db", "SELECT count(*) FROM comments") == [(0,)]
    own = citizen.post(f"/api/ratings/{made['id']}/details", json={**details, "secret": made["secret"]})
    assert own.status_code == 201


def test_a_button_press_can_be_detailed_only_on_the_kiosks_own_screen(app, clock):
    kiosk = app.extensions["kiosk"]
    pin = kiosk.hardware["pin_factory"].pin(kiosk.settings["button_pins"][1])
    pin.drive_low()
    pin.drive_high()
    [(rating_id,)] = rows(kiosk.settings.data_path / "kiosk.db", "SELECT id FROM ratings WHERE channel = 'button'")
    refused = app.test_client().post(f"/api/ratings/{rating_id}/claim", environ_base=LAN)
    assert refused.status_code == 403
    claimed = app.test_client().post(f"/api/ratings/{rating_id}/claim")
    assert claimed.status_code == 200
    added = app.test_client().post(
        f"/api/ratings/{rating_id}/details", json={"secret": claimed.json["secret"], "criteria": {"time": "satisfied"}}
    )
    assert added.status_code == 201
    touch = app.test_client().post("/api/ratings", json={"level": "satisfied"}).json
    assert app.test_client().post(f"/api/ratings/{touch['id']}/claim").status_code == 404, (
        "touch ratings are not claimable"
    )
    clock.advance(16 * 60)
    assert app.test_client().post(f"/api/ratings/{rating_id}/claim").status_code == 409
