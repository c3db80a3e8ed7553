"""Only the holder of a visit casts a counted rating; one visit, one counted rating (issue 21, point 1).

Who holds a visit: the kiosk's own screens (loopback) and button panel, a screen an admin enrolled at
`/admin/screens`, the ticket holder's phone page (`/t/<token>`, the token printed only in the QR code). Anyone
else on the office Wi-Fi is stored and answered 201 but not counted (``not_holder``). Requests come through
HTTP as a phone, a tablet or an intruder on the network sends them (``REMOTE_ADDR`` of a LAN address).
"""

from __future__ import annotations

import re

import pytest

from kiosk import admin as admin_auth
from kiosk.db import transaction
from tests.queue_helpers import issue, login, rows

pytestmark = pytest.mark.staffed()  # clerks at counters 1–3

INTRUDER = {"REMOTE_ADDR": "192.168.1.66"}
PHONE = {"REMOTE_ADDR": "192.168.1.57"}
TABLET = {"REMOTE_ADDR": "192.168.1.80"}
PASSWORD = "mat-khau-quan-tri"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "var" / "kiosk.db"


def token_of(db, ticket_id: str) -> str:
    return rows(db, "SELECT token FROM ticket_state WHERE ticket_id = ?", (ticket_id,))[0][0]


def serve_next(app, counter: int = 1) -> dict:
    """The clerk of ``counter`` calls the next ticket and completes it."""
    clerk = app.test_client()
    login(clerk, counter)
    called = clerk.post(f"/api/counters/{counter}/next")
    assert called.status_code == 200
    assert clerk.post(f"/api/counters/{counter}/complete").status_code == 200
    return called.get_json()["ticket"]


def counted(db, ticket_id: str) -> int:
    return rows(db, "SELECT count(*) FROM ratings WHERE ticket_id = ? AND counted", (ticket_id,))[0][0]


def test_an_intruder_naming_someones_ticket_is_kept_not_counted_and_the_holder_still_rates(app, db, clock):
    ticket = issue(app.test_client())  # its id is public: the event stream and the queue show it
    intruder = app.test_client()
    body = {"level": "unsatisfied", "ticket_id": ticket["id"]}
    stolen = intruder.post("/api/ratings", json=body, environ_base=INTRUDER)
    assert stolen.status_code == 201
    assert (stolen.json["counted"], stolen.json["flag"]) == (False, "not_holder")
    serve_next(app)
    clock.advance(20)
    phone = app.test_client()
    token = token_of(db, ticket["id"])
    assert phone.get(f"/t/{token}/state", environ_base=PHONE).json["can_rate"] is True  # not shown as rated
    own = phone.post(f"/t/{token}/rating", json={"level": "very_satisfied"}, environ_base=PHONE)
    assert own.status_code == 201 and own.json["counted"] is True
    stored = rows(db, "SELECT level, counted, flag FROM ratings WHERE ticket_id = ? ORDER BY seq", (ticket["id"],))
    assert stored == [("unsatisfied", 0, "not_holder"), ("very_satisfied", 1, None)], "both kept, one counted"


def test_an_intruder_at_a_counter_does_not_take_the_visits_rating(app, db, clock):
    ticket = issue(app.test_client())
    serve_next(app)
    clock.advance(5)
    taken = app.test_client().post("/api/ratings", json={"level": "unsatisfied", "counter": 1}, environ_base=INTRUDER)
    assert taken.status_code == 201 and (taken.json["counted"], taken.json["flag"]) == (False, "not_holder")
    assert counted(db, ticket["id"]) == 0
    clock.advance(5)
    own = app.test_client().post("/api/ratings", json={"level": "satisfied", "counter": 1})  # the kiosk's screen
    assert own.json["counted"] is True
    assert counted(db, ticket["id"]) == 1


def test_a_phone_rating_then_the_screen_at_the_same_counter_counts_once(app, db, clock):
    ticket = issue(app.test_client())
    serve_next(app)
    phone = app.test_client()
    token = token_of(db, ticket["id"])
    assert phone.post(f"/t/{token}/rating", json={"level": "unsatisfied"}, environ_base=PHONE).json["counted"]
    clock.advance(5)
    screen = app.test_client()
    screen.get("/?counter=1")
    again = screen.post("/api/ratings", json={"level": "unsatisfied", "counter": 1}).json
    assert (again["counted"], again["flag"]) == (False, "visit_rated")
    on_clerk = rows(db, "SELECT counted FROM ratings WHERE clerk_id IS NOT NULL ORDER BY seq")
    assert on_clerk == [(1,), (0,)], "one counted vote for the clerk from one visit"
    # The screen first, then the phone: the same, one counted.
    second = issue(app.test_client())
    serve_next(app)
    clock.advance(10)
    assert screen.post("/api/ratings", json={"level": "satisfied", "counter": 1}).json["counted"] is True
    clock.advance(5)
    late = phone.post(f"/t/{token_of(db, second['id'])}/rating", json={"level": "satisfied"}, environ_base=PHONE)
    assert (late.json["counted"], late.json["flag"]) == (False, "duplicate_ticket")
    assert counted(db, second["id"]) == 1


def test_a_ticket_of_a_closed_day_is_not_counted(app, db, clock):
    ticket = issue(app.test_client())
    serve_next(app)
    clock.advance(18 * 3600)  # the next morning
    client = app.test_client()
    client.get("/api/queue")  # the queue moves to the new day
    late = client.post("/api/ratings", json={"level": "unsatisfied", "ticket_id": ticket["id"]})
    assert late.status_code == 201 and (late.json["counted"], late.json["flag"]) == (False, "day_over")
    assert counted(db, ticket["id"]) == 0


# --- enrolled screens -------------------------------------------------------------------------------


def admin_tablet(app):
    """A tablet on the office network, with an admin signed in on it."""
    with transaction(app.extensions["kiosk"].sessions) as s:
        admin_auth.set_password(s, PASSWORD)
    tablet = app.test_client()
    tablet.environ_base.update(TABLET)
    form = tablet.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert tablet.post("/admin/login", data={"password": PASSWORD, "csrf_token": csrf}).status_code == 302
    return tablet


def csrf_of(tablet) -> str:
    page = tablet.get("/admin/screens").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_an_enrolled_screen_counts_a_revoked_one_does_not(app, db, clock):
    tablet = admin_tablet(app)
    before = tablet.post("/api/ratings", json={"level": "satisfied", "counter": 2}).json
    assert (before["counted"], before["flag"]) == (False, "not_holder"), "an admin's sign-in is not an enrolment"
    clock.advance(10)
    enrolled = tablet.post(
        "/admin/screens", data={"name": "Máy tính bảng quầy 2", "counter": "2", "csrf_token": csrf_of(tablet)}
    )
    assert enrolled.status_code == 302 and "kiosk_screen=" in enrolled.headers["Set-Cookie"]
    page = tablet.get("/admin/screens").get_data(as_text=True)
    assert "Máy tính bảng quầy 2" in page and "Thu hồi" in page
    answer = tablet.post("/api/ratings", json={"level": "satisfied"}).json  # no counter: its own counter
    assert (answer["counted"], answer["counter"]) == (True, 2)
    clock.advance(10)
    elsewhere = tablet.post("/api/ratings", json={"level": "satisfied", "counter": 1}).json
    assert (elsewhere["counted"], elsewhere["flag"]) == (False, "not_holder"), "it holds the visits of counter 2"
    assert tablet.get("/rate").status_code == 200
    assert tablet.get("/api/rating-context").json["counter"] == 2, "its rating screen is for its counter"

    # The cookie's value copied without the kiosk's signature, or to another device with a changed id: nothing.
    cookie = tablet.get_cookie("kiosk_screen").value
    screen_id = rows(db, "SELECT value FROM device_state WHERE key = 'enrolled_screens'")[0][0].split('"')[1]
    for forged in (screen_id, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")):
        other = app.test_client()
        other.set_cookie("kiosk_screen", forged)
        clock.advance(10)
        assert other.post("/api/ratings", json={"level": "satisfied"}, environ_base=INTRUDER).json["counted"] is False

    revoke = re.search(r'action="(/admin/screens/[^"]+/revoke)"', page).group(1)
    assert tablet.post(revoke, data={"csrf_token": csrf_of(tablet)}).status_code == 302
    clock.advance(10)
    after = tablet.post("/api/ratings", json={"level": "satisfied"}).json
    assert (after["counted"], after["flag"]) == (False, "not_holder")
    listing = tablet.get("/admin/screens").get_data(as_text=True)
    assert 'id="screens"' not in listing and "Chưa có màn hình nào được ghi danh." in listing


def test_enrolment_needs_the_admin_and_the_forms_token(app, db):
    tablet = admin_tablet(app)
    stranger = app.test_client()
    stranger.environ_base.update(INTRUDER)
    form = stranger.get("/admin/login").get_data(as_text=True)  # a form's token, but no admin's sign-in
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    refused = stranger.post("/admin/screens", data={"name": "Tablet", "csrf_token": csrf})
    assert refused.status_code == 401 and "kiosk_screen=" not in refused.headers.get("Set-Cookie", "")
    forged = tablet.post("/admin/screens", data={"name": "Tablet"})
    assert forged.status_code == 400 and "kiosk_screen=" not in forged.headers.get("Set-Cookie", "")
    empty = tablet.post("/admin/screens", data={"name": "  ", "csrf_token": csrf_of(tablet)})
    assert empty.status_code == 400 and "kiosk_screen=" not in empty.headers.get("Set-Cookie", "")
    assert rows(db, "SELECT count(*) FROM device_state WHERE key = 'enrolled_screens'") == [(0,)]


# --- nothing served to the network lets a stranger rate ------------------------------------------------


def test_no_phone_token_in_anything_served_to_the_network(app, db, clock):
    """After tickets are issued, called, served and rated, no response of the pages and APIs the network can reach
    — the live event stream included — carries a phone page's token."""
    kiosk = app.extensions["kiosk"]
    with transaction(kiosk.sessions) as s:
        admin_auth.set_password(s, PASSWORD)
    lan = app.test_client()
    lan.environ_base.update(INTRUDER)
    stream = lan.get("/api/events?heartbeat=0.2", buffered=False)
    chunks = iter(stream.response)
    seen = [next(chunks).decode()]
    served = []
    for service in ("HT", "CT", "HT", "HT"):
        served.append(lan.post("/api/tickets", json={"service": service}).get_data(as_text=True))
    clerk = app.test_client()
    clerk.environ_base.update(INTRUDER)
    login(clerk, 1)
    served += [clerk.post("/api/counters/1/next").get_data(as_text=True)]
    served += [clerk.post("/api/counters/1/complete").get_data(as_text=True)]
    served += [clerk.post("/api/counters/1/next").get_data(as_text=True)]
    served += [clerk.get("/api/counters/1/queue").get_data(as_text=True)]
    served += [clerk.get(path).get_data(as_text=True) for path in ("/api/clerk/me", "/api/printer", "/clerk")]
    served += [lan.post("/api/ratings", json={"level": "satisfied", "counter": 1}).get_data(as_text=True)]
    for path in ("/", "/rate", "/ticket", "/display", "/clerk", "/healthz", "/api/queue",
                 "/api/rating-context?counter=1", "/api/rating-context?counter=2", "/admin/login"):  # fmt: skip
        answer = lan.get(path)
        assert answer.status_code == 200, path
        served.append(answer.get_data(as_text=True))
    form = lan.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert lan.post("/admin/login", data={"password": PASSWORD, "csrf_token": csrf}).status_code == 302
    for path in ("/admin", "/admin/services", "/admin/counters", "/admin/clerks", "/admin/screens"):
        served.append(lan.get(path).get_data(as_text=True))
    while "".join(seen).count("event: ticket_issued") < 4 or "event: rating_recorded" not in "".join(seen):
        seen.append(next(chunks).decode())
        assert len(seen) < 200, "the stream tells every ticket issued and the rating"
    stream.close()
    tokens = [t for (t,) in rows(db, "SELECT token FROM ticket_state")]
    assert len(tokens) == 4 and all(tokens)
    ids = [t for (t,) in rows(db, "SELECT ticket_id FROM ticket_state")]
    everything = "\n".join([*served, *seen])
    assert any(i in everything for i in ids), "ticket ids are public (the test would see a leak)"
    assert [t for t in tokens if t in everything] == []
