"""Clerk log-in: PIN, session cookie, 401 without it, 403 at another counter, the lock after wrong PINs."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from kiosk.db import transaction
from kiosk.models import Clerk, Rating
from tests.queue_helpers import PINS, issue, login, make_app, rows

pytestmark = pytest.mark.staffed()  # the commune of tests/queue_helpers.py: clerks at counters 1–3

ACTIONS = ["next", "recall", "no-show", "complete", "transfer", "pause", "resume"]


@pytest.mark.parametrize("action", ACTIONS)
def test_counter_calls_without_a_clerk_session_are_401(client, action):
    issue(client)
    response = client.post(f"/api/counters/1/{action}", json={"service": "CT"})
    assert response.status_code == 401
    assert "Log in" in response.get_json()["error"]


def test_the_console_view_needs_a_session_too(client):
    assert client.get("/api/counters/1/queue").status_code == 401


def test_login_with_the_right_pin_sets_a_session_cookie(client):
    response = login(client, 2)
    assert response.get_json()["clerk"]["name"] == "Trần Văn Minh"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/clerk/me").get_json()["clerk"]["counter"] == 2
    assert client.get("/api/counters/2/queue").status_code == 200


def test_a_clerk_may_stand_in_at_another_counter(client):
    response = client.post("/api/clerk/login", json={"counter": 3, "pin": "1111"})
    assert response.status_code == 200
    assert response.get_json()["clerk"] == {
        "id": response.get_json()["clerk"]["id"],
        "name": "Nguyễn Thị Lan",
        "code": "CC01",
        "counter": 3,
    }
    snap = client.get("/api/queue").get_json()
    assert [c["clerk"] for c in snap["counters"]] == [None, None, "Nguyễn Thị Lan"]


def test_wrong_pin_is_401_and_sets_no_session(client):
    response = client.post("/api/clerk/login", json={"counter": 1, "pin": "9999"})
    assert response.status_code == 401
    body = response.get_json()
    assert "Wrong PIN" in body["error"] and body["detail"]["tries_left"] == 4
    assert client.post("/api/counters/1/next").status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"counter": 9, "pin": "1111"}, 404),
        ({"counter": "one", "pin": "1111"}, 400),
        ({"counter": 1}, 400),
        ({"counter": 1, "pin": 1111}, 400),
        ({"counter": 1, "pin": "1111", "role": "admin"}, 400),
    ],
)
def test_bad_login_bodies_are_4xx(client, body, status):
    response = client.post("/api/clerk/login", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]


def test_a_clerk_acts_only_at_the_counter_they_logged_in_at(client):
    issue(client, "DD")
    login(client, 1)
    response = client.post("/api/counters/2/next")
    assert response.status_code == 403
    assert "counter 1" in response.get_json()["error"]
    assert client.get("/api/counters/2/queue").status_code == 403
    assert client.get("/api/queue").get_json()["waiting"]["DD"] == 1  # nothing was called


def test_five_wrong_pins_lock_the_kiosk_for_five_minutes_even_across_a_restart(tmp_path, app, client, clock):
    # Guessing at three counters gives no more tries than at one: the lock-out is per kiosk.
    statuses = [
        client.post("/api/clerk/login", json={"counter": 1 + i % 3, "pin": "0000"}).status_code for i in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    for counter in (1, 2, 3):
        locked = client.post("/api/clerk/login", json={"counter": counter, "pin": PINS[counter]})
        assert locked.status_code == 429 and "locked" in locked.get_json()["error"]

    app.extensions["kiosk"].close()
    again = make_app(tmp_path / "var", clock)
    try:
        fresh = again.test_client()
        assert fresh.post("/api/clerk/login", json={"counter": 1, "pin": "1111"}).status_code == 429
        clock.advance(301)
        login(fresh, 1)
        # A success clears the count: four more wrong PINs do not lock it.
        fresh2 = again.test_client()
        assert [fresh2.post("/api/clerk/login", json={"counter": 1, "pin": "0"}).status_code for _ in range(4)] == [
            401
        ] * 4
    finally:
        again.extensions["kiosk"].close()


def test_logout_ends_the_session_and_is_recorded(client, tmp_path):
    login(client, 1)
    assert client.post("/api/clerk/logout").status_code == 200
    assert client.post("/api/counters/1/next").status_code == 401
    assert client.get("/api/queue").get_json()["counters"][0]["clerk"] is None
    actions = rows(tmp_path / "var" / "kiosk.db", "SELECT action, counter_number FROM clerk_actions ORDER BY seq")
    assert actions == [("login", 1), ("logout", 1)]


def test_a_deactivated_clerk_loses_the_session(app, client):
    login(client, 1)
    with transaction(app.extensions["kiosk"].sessions) as session:
        session.execute(update(Clerk).values(active=False))
    assert client.post("/api/counters/1/next").status_code == 401


def test_a_forged_cookie_is_not_a_session(client):
    client.set_cookie("session", "eyJjbGVyayI6eyJpZCI6IngiLCJjb3VudGVyIjoxfX0.forged.sig")
    assert client.post("/api/counters/1/next").status_code == 401


def test_the_clerk_add_command_makes_a_clerk_who_can_log_in(tmp_path, clock):
    from click.testing import CliRunner

    from kiosk.cli import main

    data = tmp_path / "cli"
    result = CliRunner().invoke(
        main,
        ["add-clerk", "Phạm Văn Nam", "--pin", "4321", "--counter", "2"],
        env={"KIOSK_DATA_DIR": str(data), "KIOSK_GPIO": "mock"},
        obj={},
    )
    assert result.exit_code == 0, result.output
    app = make_app(data, clock)
    try:
        response = app.test_client().post("/api/clerk/login", json={"counter": 2, "pin": "4321"})
        assert response.status_code == 200 and response.get_json()["clerk"]["name"] == "Phạm Văn Nam"
    finally:
        app.extensions["kiosk"].close()


def test_one_clerk_per_counter_a_held_counter_is_refused_until_the_clerk_confirms(app, tmp_path):
    lan, minh = app.test_client(), app.test_client()
    lan_id = login(lan, 1).get_json()["clerk"]["id"]
    issue(lan)
    # Trần Văn Minh (PIN 2222) types his PIN at counter 1, which Nguyễn Thị Lan holds: refused, nothing recorded.
    refused = minh.post("/api/clerk/login", json={"counter": 1, "pin": "2222"})
    assert refused.status_code == 409
    assert refused.get_json()["detail"] == {"reason": "counter_taken", "counter": 1, "clerk": "Nguyễn Thị Lan"}
    assert minh.post("/api/counters/1/next").status_code == 401
    assert lan.post("/api/counters/1/next").status_code == 200  # she still works
    assert minh.get("/api/queue").get_json()["counters"][0]["clerk"] == "Nguyễn Thị Lan"
    # He confirms: she is logged out, and her console is told who took the counter.
    taken = minh.post("/api/clerk/login", json={"counter": 1, "pin": "2222", "take_over": True})
    assert taken.status_code == 200
    ended = lan.post("/api/counters/1/complete")
    assert ended.status_code == 401
    assert ended.get_json()["detail"] == {
        "login": "/clerk",
        "reason": "taken_over",
        "counter": 1,
        "clerk": "Trần Văn Minh",
    }
    assert minh.post("/api/counters/1/complete").status_code == 200
    assert minh.get("/api/queue").get_json()["counters"][0]["clerk"] == "Trần Văn Minh"
    actions = rows(tmp_path / "var" / "kiosk.db", "SELECT action, counter_number, clerk_id, detail FROM clerk_actions")
    logout = [a for a in actions if a[0] == "logout"]
    assert len(logout) == 1 and logout[0][:3] == ("logout", 1, lan_id) and '"taken_over"' in logout[0][3]


def test_logging_in_again_at_ones_own_counter_needs_no_confirmation(app):
    first, second = app.test_client(), app.test_client()
    login(first, 1)
    login(second, 1)  # the same clerk on a second browser: no warning about herself
    assert second.post("/api/counters/1/pause").status_code == 200


def test_a_clerk_who_moves_to_another_counter_leaves_the_first_one_free(app):
    client = app.test_client()
    login(client, 1)
    other = app.test_client()
    assert other.post("/api/clerk/login", json={"counter": 3, "pin": "1111"}).status_code == 200
    assert client.post("/api/counters/1/next").status_code == 401
    assert [c["clerk"] for c in other.get("/api/queue").get_json()["counters"]] == [None, None, "Nguyễn Thị Lan"]
    assert app.test_client().post("/api/clerk/login", json={"counter": 1, "pin": "2222"}).status_code == 200  # free


def test_take_over_must_be_a_yes_or_no(client):
    response = client.post("/api/clerk/login", json={"counter": 1, "pin": "1111", "take_over": "yes"})
    assert response.status_code == 400 and response.get_json()["detail"]["field"] == "take_over"


def test_a_closed_counter_names_no_clerk_and_credits_none(client, kiosk):
    """Issue 22: Hường logged in at counter 3 in the morning; the admin then closed counter 3. Its rating screen,
    its rating context and a rating made there are for the office (no clerk); she can no longer log in there,
    and the console says so in Vietnamese."""
    from kiosk.catalog_edit import save_counter

    login(client, 3)
    assert client.get("/api/rating-context?counter=3").get_json()["clerk"] == "Lê Thị Hoa"
    with transaction(kiosk.sessions) as s:  # as /admin does: BT and NCC move to counter 2, then 3 closes
        save_counter(s, 2, ["DD", "TP", "BT", "NCC"], True, new=False)
        save_counter(s, 3, ["BT", "NCC"], False, new=False)
    kiosk.reload_catalog()
    assert client.get("/api/rating-context?counter=3").get_json()["clerk"] is None
    page = client.get("/?counter=3").get_data(as_text=True)
    assert "Lê Thị Hoa" not in page and "hiện không có công chức tại quầy 3" in page
    rated = client.post("/api/ratings", json={"level": "satisfied", "counter": 3})
    assert rated.status_code == 201 and rated.get_json()["clerk"] is None
    with kiosk.sessions() as s:
        assert [r.clerk_id for r in s.query(Rating)] == [None]
    again = client.post("/api/clerk/login", json={"counter": 3, "pin": PINS[3]})
    assert again.status_code == 404 and again.get_json()["error"] == "Thiết bị này không có quầy số 3."
