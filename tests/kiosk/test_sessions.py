"""Sessions end, and guessing is limited per kiosk (issue 12, cases 7 and 10), on the device.

A cookie copied before a log-out once kept working (the clerk's `POST /api/counters/1/pause`, the kiosk's
`/admin`); the PIN lock-out was per counter (three counters, fifteen guesses) and a clock moved back lifted
it. Everything here goes through HTTP with the cookies a browser would hold, copied as an attacker would.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kiosk import admin as admin_auth
from kiosk.db import transaction
from tests.queue_helpers import PINS, login, make_app

pytestmark = pytest.mark.staffed()  # the commune of tests/queue_helpers.py: clerks at counters 1–3

ADMIN_PASSWORD = "mật-khẩu-quản-trị"


def copy_of(client, app):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def pause(client) -> int:
    return client.post("/api/counters/1/pause").status_code


def sign_in_admin(app):
    kiosk = app.extensions["kiosk"]
    with transaction(kiosk.sessions) as s:
        if admin_auth.password_hash(s) is None:
            admin_auth.set_password(s, ADMIN_PASSWORD)
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text).group(1)
    assert client.post("/admin/login", data={"password": ADMIN_PASSWORD, "csrf_token": token}).status_code == 302
    return client


def csrf(client, path: str = "/admin") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_logging_out_ends_every_session_of_the_clerk_copies_included(app):
    clerk = app.test_client()
    login(clerk, 1)
    thief = copy_of(clerk, app)
    elsewhere = app.test_client()
    login(elsewhere, 1)  # the same clerk on a second browser
    assert pause(thief) == 200
    assert clerk.post("/api/clerk/logout").status_code == 200
    assert pause(thief) == 401, "a cookie copied before the log-out no longer works"
    assert elsewhere.post("/api/counters/1/resume").status_code == 401
    login(clerk, 1)  # logging in again works, with a new session
    assert clerk.post("/api/counters/1/resume").status_code == 200


def test_a_new_pin_ends_the_clerks_sessions(app):
    clerk = app.test_client()
    me = login(clerk, 1).json["clerk"]
    admin = sign_in_admin(app)
    changed = admin.post(
        f"/admin/clerks/{me['id']}",
        data={"name": me["name"], "counter": "1", "active": "1", "pin": "97531", "csrf_token": csrf(admin)},
    )
    assert changed.status_code == 302
    assert pause(clerk) == 401
    login(clerk, 1, "97531")
    assert pause(clerk) == 200


def test_a_clerk_session_expires_after_a_day_and_when_the_clock_goes_back(app, clock):
    clerk = app.test_client()
    login(clerk, 1)  # 08:00 in Hà Nội
    clock.advance(9 * 3600)  # 17:00: the working day
    assert pause(clerk) == 200
    clock.advance(15 * 3600 + 1)  # a day after the log-in (and a new business day): the session has ended
    assert pause(clerk) == 401
    login(clerk, 1)
    clock.jump(clock.now() - timedelta(hours=2))  # a log-in "in the future": the clock was moved back
    assert clerk.post("/api/counters/1/resume").status_code == 401


def test_signing_out_of_admin_ends_every_admin_session(app):
    admin = sign_in_admin(app)
    thief = copy_of(admin, app)
    assert thief.get("/admin").status_code == 200
    assert admin.post("/admin/logout", data={"csrf_token": csrf(admin)}).status_code == 302
    stolen = thief.get("/admin")
    assert stolen.status_code == 302 and "/admin/login" in stolen.headers["Location"]


def test_pin_guesses_are_limited_per_kiosk_not_per_counter(app):
    guesser = app.test_client()
    answers = [guesser.post("/api/clerk/login", json={"counter": c, "pin": "0000"}) for c in (1, 2, 3, 1, 2)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert [a.json["detail"].get("tries_left") for a in answers[:4]] == [4, 3, 2, 1]
    for counter in (1, 2, 3):  # even the right PIN, at any counter
        assert guesser.post("/api/clerk/login", json={"counter": counter, "pin": PINS[counter]}).status_code == 429


def test_the_lock_out_survives_a_clock_moved_back_or_forward_and_a_restart(tmp_path, clock):
    app = make_app(tmp_path / "var", clock)
    guesser = app.test_client()
    for _ in range(5):
        guesser.post("/api/clerk/login", json={"counter": 1, "pin": "0000"})
    start = clock.now()
    for moved in (timedelta(days=-1), timedelta(hours=-6), timedelta(days=3)):
        clock.jump(start + moved)
        assert guesser.post("/api/clerk/login", json={"counter": 1, "pin": PINS[1]}).status_code == 429
    app.extensions["kiosk"].close()
    app = make_app(tmp_path / "var", clock)  # a restart does not lift it either
    try:
        fresh = app.test_client()
        assert fresh.post("/api/clerk/login", json={"counter": 2, "pin": PINS[2]}).status_code == 429
        clock.advance(301)  # five minutes really pass
        login(fresh, 2)
    finally:
        app.extensions["kiosk"].close()
