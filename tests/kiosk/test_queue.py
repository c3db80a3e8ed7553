"""The queue as a citizen and a clerk meet it: numbers, business days, order of calls, transfers, ratings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from kiosk.clock import FakeClock
from kiosk.db import transaction
from kiosk.models import Clerk
from tests.queue_helpers import issue, login, make_app, rows

pytestmark = pytest.mark.staffed()  # the commune of tests/queue_helpers.py: clerks at counters 1–3


@pytest.fixture
def db(tmp_path):
    return tmp_path / "var" / "kiosk.db"


def test_numbers_run_per_service_with_the_service_prefix(client):
    answers = [issue(client, code) for code in ["HT", "HT", "CT", "HT", "CT"]]
    assert [a["display_number"] for a in answers] == ["A001", "A002", "B001", "A003", "B002"]
    assert [a["number"] for a in answers] == [1, 2, 1, 3, 2]
    assert answers[0]["service_name"] == "Hộ tịch"
    assert answers[0]["printed"] is False and answers[0]["print_status"] == "none"


def test_numbering_restarts_on_the_local_business_day_and_keeps_history(tmp_path, db):
    # 23:58 in Hà Nội is 16:58 UTC: the day changes at local midnight, not at UTC midnight.
    clock = FakeClock(datetime(2026, 11, 20, 16, 58, tzinfo=UTC))
    app = make_app(tmp_path / "var", clock)
    client = app.test_client()
    try:
        assert issue(client)["display_number"] == "A001"
        assert issue(client)["display_number"] == "A002"
        clock.advance(180)  # 00:01 on 21 November, local time (still 20 November in UTC)
        after = issue(client)
        assert after["display_number"] == "A001"
        assert after["issued_at"].startswith("2026-11-21T00:01")
        clock.advance(7 * 3600)  # 07:01 local: the same business day goes on
        assert issue(client)["display_number"] == "A002"
    finally:
        app.extensions["kiosk"].close()
    assert rows(db, "SELECT business_day, number FROM tickets ORDER BY seq") == [
        ("2026-11-20", 1),
        ("2026-11-20", 2),
        ("2026-11-21", 1),
        ("2026-11-21", 2),
    ]


def test_yesterdays_waiting_tickets_are_not_called_today(tmp_path):
    clock = FakeClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # 16:00 local
    app = make_app(tmp_path / "var", clock)
    client = app.test_client()
    try:
        issue(client)
        clock.advance(20 * 3600)  # next morning
        login(client, 1)
        assert client.post("/api/counters/1/next").status_code == 204
        assert client.get("/api/queue").get_json()["waiting"]["HT"] == 0
        today = issue(client)
        assert today["display_number"] == "A001" and today["ahead"] == 0
    finally:
        app.extensions["kiosk"].close()


def test_a_restart_continues_the_numbering(tmp_path, clock, db):
    app = make_app(tmp_path / "var", clock)
    client = app.test_client()
    assert [issue(client)["number"] for _ in range(3)] == [1, 2, 3]
    app.extensions["kiosk"].close()
    again = make_app(tmp_path / "var", clock)
    try:
        assert issue(again.test_client())["number"] == 4
    finally:
        again.extensions["kiosk"].close()
    assert rows(db, "SELECT number FROM tickets ORDER BY number") == [(1,), (2,), (3,), (4,)]


def test_the_daily_maximum_gives_a_clear_409_and_writes_nothing(tmp_path, clock, db):
    services = [{"code": "HT", "name": "Hộ tịch", "prefix": "A", "daily_max": 2}]
    app = make_app(tmp_path / "var", clock, services=services, counters=[{"number": 1, "services": ["HT"]}])
    client = app.test_client()
    try:
        issue(client)
        issue(client)
        response = client.post("/api/tickets", json={"service": "HT"})
        assert response.status_code == 409
        body = response.get_json()
        assert "daily maximum of 2" in body["error"] and body["detail"]["reason"] == "daily_max"
        clock.advance(86400)
        assert issue(client)["number"] == 1  # a new day, new numbers
    finally:
        app.extensions["kiosk"].close()
    assert rows(db, "SELECT count(*) FROM tickets") == [(3,)]
    assert rows(db, "SELECT count(*) FROM ticket_state") == [(3,)]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"service": "XX"}, 404, "Service XX does not exist"),
        ({}, 400, "Name the service"),
        ({"service": "HT", "priority": "yes"}, 400, "priority must be true or false"),
        ({"service": "HT", "channel": "fax"}, 400, "Unknown channel"),
        ({"service": "HT", "colour": "red"}, 400, "Unknown field"),
    ],
)
def test_bad_ticket_requests_get_a_plain_4xx(client, db, body, status, words):
    response = client.post("/api/tickets", json=body)
    assert response.status_code == status
    assert words in response.get_json()["error"]
    assert rows(db, "SELECT count(*) FROM tickets") == [(0,)]


def test_non_json_ticket_body_is_a_400(client):
    response = client.post("/api/tickets", data="service=HT", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_position_counts_only_people_ahead_and_priority_goes_first(client):
    assert [issue(client)["position"] for _ in range(3)] == [1, 2, 3]
    assert issue(client, "DD")["position"] == 1  # a field of another counter: another line
    first_priority = issue(client, priority=True)
    assert (first_priority["position"], first_priority["ahead"]) == (1, 0)
    assert issue(client, priority=True)["position"] == 2
    assert issue(client)["position"] == 6  # three normal + two priority ahead


def test_served_tickets_are_not_counted_as_ahead(client):
    issue(client)
    issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    client.post("/api/counters/1/complete")
    assert issue(client)["ahead"] == 1


def test_estimated_wait_comes_from_recent_service_times(client, clock):
    login(client, 1)
    for _ in range(2):  # two citizens served in 10 minutes each at counter 1 (the only one for HT)
        issue(client)
        client.post("/api/counters/1/next")
        clock.advance(600)
        client.post("/api/counters/1/complete")
    issue(client)
    issue(client)
    third = issue(client)
    assert third["ahead"] == 2
    assert third["wait_minutes"] == 20


def test_call_next_takes_priority_first_then_issue_order_among_the_counters_services(client):
    a1 = issue(client, "HT")
    b1 = issue(client, "CT")
    c1 = issue(client, "DD")  # counter 2's service: never called at counter 1
    a2 = issue(client, "HT", priority=True)
    b2 = issue(client, "CT")
    login(client, 1)
    called = []
    while (response := client.post("/api/counters/1/next")).status_code == 200:
        called.append(response.get_json()["ticket"]["display_number"])
    assert response.status_code == 204 and response.data == b""
    assert called == [a2["display_number"], a1["display_number"], b1["display_number"], b2["display_number"]]
    assert c1["display_number"] not in called


def test_next_completes_the_ticket_being_served(client, db):
    first = issue(client)
    issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    client.post("/api/counters/1/next")
    assert rows(db, "SELECT status FROM ticket_state WHERE ticket_id = ?", (first["id"],)) == [("done",)]


def test_a_transfer_keeps_the_original_place_in_the_new_line(app, clock):
    client1, client2 = app.test_client(), app.test_client()
    early = issue(client1, "HT")
    clock.advance(60)
    later = [issue(client1, "DD") for _ in range(2)]
    login(client1, 1)
    login(client2, 2)
    client1.post("/api/counters/1/next")
    moved = client1.post("/api/counters/1/transfer", json={"service": "DD"})
    assert moved.status_code == 200
    ticket = moved.get_json()["ticket"]
    assert ticket["service"] == "DD" and ticket["status"] == "waiting"
    assert ticket["queued_at"] == early["issued_at"]  # the original issue time is kept
    order = [client2.post("/api/counters/2/next").get_json()["ticket"]["display_number"] for _ in range(3)]
    assert order == [early["display_number"], later[0]["display_number"], later[1]["display_number"]]


@pytest.mark.parametrize(
    ("setup", "call", "status", "reason"),
    [
        ([], ("transfer", {"service": "DD"}), 409, "not_serving"),
        (["next"], ("transfer", {"service": "HT"}), 400, "same_service"),
        (["next"], ("transfer", {"service": "ZZ"}), 404, None),
        ([], ("recall", None), 409, "not_serving"),
        ([], ("complete", None), 409, "not_serving"),
        ([], ("no-show", None), 409, "not_serving"),
        (["pause"], ("next", None), 409, "paused"),
        (["next", "pause"], ("recall", None), 409, "paused"),
        ([], ("next", {"service": "DD"}), 409, "not_handled"),
        ([], ("next", {"service": "QQ"}), 404, None),
    ],
)
def test_impossible_clerk_actions_get_a_clear_4xx(client, db, setup, call, status, reason):
    issue(client, "HT")
    issue(client, "DD")
    login(client, 1)
    for action in setup:
        assert client.post(f"/api/counters/1/{action}").status_code == 200
    before = rows(db, "SELECT count(*) FROM clerk_actions")
    action, body = call
    response = client.post(f"/api/counters/1/{action}", json=body) if body else client.post(f"/api/counters/1/{action}")
    assert response.status_code == status
    answer = response.get_json()
    assert answer["error"]
    if reason:
        assert answer["detail"]["reason"] == reason
    assert rows(db, "SELECT count(*) FROM clerk_actions") == before  # nothing half-written


def test_pause_and_resume(client):
    issue(client)
    login(client, 1)
    assert client.post("/api/counters/1/pause").get_json() == {"counter": {"number": 1, "paused": True}}
    assert client.get("/api/queue").get_json()["counters"][0]["paused"] is True
    assert client.post("/api/counters/1/next").status_code == 409
    assert client.post("/api/counters/1/resume").get_json()["counter"]["paused"] is False
    assert client.post("/api/counters/1/next").status_code == 200


def test_every_clerk_action_is_an_appended_stamped_record(client, db):
    issue(client)
    issue(client, "CT")
    login(client, 1)
    for action, body in [
        ("next", None),
        ("recall", None),
        ("transfer", {"service": "CT"}),
        ("next", None),
        ("no-show", None),
        ("next", None),
        ("complete", None),
        ("pause", None),
        ("resume", None),
    ]:
        response = (
            client.post(f"/api/counters/1/{action}", json=body) if body else client.post(f"/api/counters/1/{action}")
        )
        assert response.status_code == 200, (action, response.get_json())
    client.post("/api/clerk/logout")
    actions = rows(
        db, "SELECT action, counter_number, clerk_id IS NOT NULL, seq, device_time FROM clerk_actions ORDER BY seq"
    )
    assert [a[0] for a in actions] == [
        "login", "call", "recall", "transfer", "call", "no_show", "call", "complete", "pause", "resume", "logout",
    ]  # fmt: skip
    assert all(a[1] == 1 and a[2] and a[4] for a in actions)
    seqs = [a[3] for a in actions]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert sorted(rows(db, "SELECT status FROM ticket_state")) == [("done",), ("no_show",)]


def test_issue_call_complete_rate_links_the_rating_to_ticket_clerk_service_and_counter(client, clock, db):
    ticket = issue(client, "CT")
    login(client, 1)
    called = client.post("/api/counters/1/next").get_json()["ticket"]
    assert called["id"] == ticket["id"] and called["clerk"] == "Nguyễn Thị Lan"
    client.post("/api/counters/1/complete")
    clock.advance(30)
    context = client.get("/api/rating-context?counter=1").get_json()
    assert context["clerk"] == "Nguyễn Thị Lan" and context["ticket"] == ticket["display_number"]
    rated = client.post("/api/ratings", json={"level": "very_satisfied", "channel": "touch", "counter": 1})
    assert rated.status_code == 201
    (row,) = rows(
        db,
        "SELECT r.ticket_id, c.name, r.service_code, r.counter_number FROM ratings r JOIN clerks c ON c.id = r.clerk_id",
    )
    assert row == (ticket["id"], "Nguyễn Thị Lan", "CT", 1)


def test_a_rating_outside_the_link_window_names_the_clerk_on_duty_but_no_ticket(client, clock, db):
    issue(client)
    clerk_id = login(client, 1).get_json()["clerk"]["id"]
    client.post("/api/counters/1/next")
    client.post("/api/counters/1/complete")
    clock.advance(91)
    assert client.get("/api/rating-context?counter=1").get_json()["clerk"] == "Nguyễn Thị Lan"
    client.post("/api/ratings", json={"level": "satisfied", "counter": 1})
    client.post("/api/clerk/logout")
    assert client.get("/api/rating-context?counter=1").get_json()["clerk"] is None
    clock.advance(10)
    client.post("/api/ratings", json={"level": "satisfied", "counter": 1})
    assert rows(db, "SELECT ticket_id, clerk_id, service_code, counter_number FROM ratings ORDER BY seq") == [
        (None, clerk_id, None, 1),
        (None, None, None, 1),
    ]


def test_with_nobody_logged_in_a_rating_is_for_the_office_not_the_counters_usual_clerk(client, db):
    # Nguyễn Thị Lan's usual counter is 1, but she has not logged in: the screen must not name her.
    context = client.get("/api/rating-context?counter=1").get_json()
    assert context == {"counter": 1, "clerk": None, "ticket": None, "service": None}
    assert client.post("/api/ratings", json={"level": "very_satisfied", "counter": 1}).status_code == 201
    assert rows(db, "SELECT clerk_id, ticket_id, counter_number FROM ratings") == [(None, None, 1)]


def test_a_paused_counter_or_yesterdays_log_in_names_no_clerk(client, clock, db):
    login(client, 1)
    assert client.get("/api/rating-context?counter=1").get_json()["clerk"] == "Nguyễn Thị Lan"
    client.post("/api/counters/1/pause")
    assert client.get("/api/rating-context?counter=1").get_json()["clerk"] is None
    client.post("/api/counters/1/resume")
    assert client.get("/api/rating-context?counter=1").get_json()["clerk"] == "Nguyễn Thị Lan"
    with transaction(client.application.extensions["kiosk"].sessions) as session:
        session.execute(update(Clerk).values(active=False))
    assert client.get("/api/rating-context?counter=1").get_json()["clerk"] is None  # deactivated meanwhile
    with transaction(client.application.extensions["kiosk"].sessions) as session:
        session.execute(update(Clerk).values(active=True))
    assert client.get("/api/rating-context?counter=1").get_json()["clerk"] == "Nguyễn Thị Lan"
    clock.advance(24 * 3600)  # she never logged out; the next morning she is not on duty
    assert client.get("/api/rating-context?counter=1").get_json()["clerk"] is None
    assert client.get("/api/queue").get_json()["counters"][0]["clerk"] is None
    assert client.post("/api/counters/1/next").status_code == 401  # yesterday's session has ended


def test_a_rating_while_the_clerk_serves_a_ticket_is_linked_to_that_ticket(client, db):
    ticket = issue(client, "CT")
    clerk_id = login(client, 1).get_json()["clerk"]["id"]
    client.post("/api/counters/1/next")
    context = client.get("/api/rating-context?counter=1").get_json()
    assert (context["clerk"], context["ticket"]) == ("Nguyễn Thị Lan", ticket["display_number"])
    client.post("/api/ratings", json={"level": "satisfied", "counter": 1})
    assert rows(db, "SELECT ticket_id, clerk_id, service_code FROM ratings") == [(ticket["id"], clerk_id, "CT")]


def test_events_are_published_after_each_action(app, client):
    seen = []
    app.extensions["kiosk"].events.on(lambda e: seen.append((e.kind, e.data)))
    ticket = issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    client.post("/api/counters/1/recall")
    client.post("/api/counters/1/complete")
    kinds = [k for k, _ in seen]
    assert kinds == [
        "ticket_issued", "queue_changed", "clerk_login", "ticket_called", "queue_changed", "ticket_called",
        "ticket_completed",
    ]  # fmt: skip
    issued = seen[0][1]
    assert issued == {"id": ticket["id"], "display_number": "A001", "service": "HT", "priority": False, "position": 1}
    assert seen[1][1]["waiting"]["HT"] == 1 and seen[4][1]["waiting"]["HT"] == 0
    call, recall = seen[3][1], seen[5][1]
    assert (call["display_number"], call["number"], call["counter"], call["recall"]) == ("A001", 1, 1, False)
    assert call["clerk"] == "Nguyễn Thị Lan" and recall["recall"] is True
    assert seen[6][1] == {"id": ticket["id"], "display_number": "A001", "counter": 1, "service": "HT"}


def test_queue_snapshot_shows_counters_clerks_serving_waiting_and_last_calls(client):
    issue(client)
    issue(client)
    issue(client, "DD")
    login(client, 1)
    client.post("/api/counters/1/next")
    snap = client.get("/api/queue").get_json()
    first = snap["counters"][0]
    assert (first["number"], first["clerk"], first["serving"]["display_number"]) == (1, "Nguyễn Thị Lan", "A001")
    assert snap["counters"][1]["serving"] is None and snap["counters"][1]["clerk"] is None
    assert snap["waiting"] == {"HT": 1, "CT": 0, "DD": 1, "BT": 0, "NCC": 0, "TP": 0}
    assert [(c["display_number"], c["counter"]) for c in snap["recent"]] == [("A001", 1)]


def test_ticket_buttons_issue_tickets_from_mock_pins(tmp_path, clock, db):
    app = make_app(tmp_path / "var", clock, ticket_button_services=["HT", "CT"], ticket_button_pins=[23, 24])
    kiosk = app.extensions["kiosk"]
    try:
        pin = kiosk.hardware["pin_factory"].pin(24)
        pin.drive_low()
        pin.drive_high()
    finally:
        kiosk.close()
    assert rows(db, "SELECT display_number, channel FROM tickets") == [("B001", "button")]


def test_ticket_button_settings_must_match(tmp_path, clock):
    from common.errors import ConfigError

    with pytest.raises(ConfigError, match="ticket_button_pins needs 2 pins"):
        make_app(tmp_path / "var", clock, ticket_button_services=["HT", "CT"], ticket_button_pins=[23])
    with pytest.raises(ConfigError, match="unknown service"):
        make_app(tmp_path / "var2", clock, ticket_button_services=["ZZ"], ticket_button_pins=[23])
