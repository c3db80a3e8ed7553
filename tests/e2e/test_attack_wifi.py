"""A stranger on the office Wi-Fi against the real `kiosk serve --host 0.0.0.0` (the pages and answers added for
bookings, several fields and the posted documents), reached through this machine's non-loopback address.

What a stranger must not get: a counted rating (between two fields of a visit, or for a booked check-in), a
ticket's phone token or a booking's code or citizen name from any public answer (the posted list, the board, the
queue, the phone page, the console's queue or the bookings list without a sign-in), a file outside the posted
folder, or the kiosk's disk: a body announced past the kiosk's limit is refused at once, not first written to a
temporary file (a Pi's SD card filled by one sender on the Wi-Fi stops the ratings from being saved).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
import requests

from kiosk.bookings import store_document
from kiosk.db import make_engine, make_sessionmaker
from sync.bookings_document import version
from tests.hostile import announce_huge_body
from tests.kiosk.test_rating_holder_served import ADDRESS, EveryAddress, network

pytestmark = pytest.mark.skipif(ADDRESS is None, reason="this machine has no non-loopback IPv4 address")

CODE, NAME = "BK-ATTACK-7731", "Phạm Thị Bí Mật"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("wifi") / "var"
    with EveryAddress(data, demo=True, env={"KIOSK_RESPONSE_INTERVAL": "0"}) as srv:
        srv.lan = f"http://{ADDRESS}:{srv.port}"
        yield srv


def put_booking(server) -> None:
    """Today's booking on the kiosk's list, as its sync would bring it (within the grace: it checks in booked)."""
    at = (datetime.utcnow() + timedelta(hours=7, minutes=5)).strftime("%Y-%m-%dT%H:%M")
    items = [{"code": CODE, "site": "TT", "service": "HT", "at": at, "name": NAME}]
    engine = make_engine(f"sqlite:///{server.data_dir / 'kiosk.db'}")
    try:
        store_document(
            make_sessionmaker(engine), {"v": 1, "version": version(items), "bookings": items}, datetime.utcnow()
        )
    finally:
        engine.dispose()


def db(server, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(server.data_dir / "kiosk.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_a_body_past_the_kiosks_limit_is_refused_before_it_is_sent(server):
    """Content-Length of 900 MB: the answer is a 413 after the first megabyte, not a wait for the rest."""
    answer = announce_huge_body(ADDRESS, server.port, "/api/tickets", "application/json")
    assert answer.startswith(b"HTTP/1.1 413"), f"the kiosk waits for 900 MB (answer so far: {answer[:80]!r})"
    assert requests.get(server.base + "/healthz", timeout=10).status_code == 200


def test_nothing_public_carries_a_token_a_booking_code_or_a_name(server):
    put_booking(server)
    lan = network()
    stranger = lan.post(server.lan + "/api/checkin", json={"code": CODE}, timeout=10)
    assert stranger.status_code == 403, stranger.text  # a booked place is taken at the kiosk, not from the Wi-Fi
    probe = lan.post(server.lan + "/api/checkin", json={"code": "BK-9999"}, timeout=10)
    assert probe.status_code == 403  # nor does an answer tell a code on the list from one that is not
    booked = requests.post(server.base + "/api/checkin", json={"code": CODE}, timeout=10)  # the kiosk's own screen
    assert booked.status_code == 201, booked.text
    visit = lan.post(server.lan + "/api/tickets", json={"services": ["HT", "CT"]}, timeout=10).json()
    events = lan.get(server.lan + "/api/events", timeout=3, stream=True)  # the board's stream, as the calls come
    lan.post(server.lan + "/api/checkin", json={"code": CODE}, timeout=10)  # again: refused, and streamed?
    lan.post(server.lan + "/api/tickets", json={"services": ["HT", "CT"]}, timeout=10)
    streamed = b""
    try:
        for chunk in events.iter_content(1024):
            streamed += chunk
    except requests.exceptions.ConnectionError:  # the read timed out: what came is enough
        pass
    tokens = [t for (t,) in db(server, "SELECT token FROM ticket_state WHERE token IS NOT NULL")]
    assert streamed and not [t for t in tokens if t.encode() in streamed] and CODE.encode() not in streamed
    paths = ["/api/posted", "/niem-yet", "/api/queue", "/display", "/",
             "/api/counters/1/queue", "/admin/bookings", "/admin/bookings.json", "/healthz",
             f"/t/{tokens[0]}", f"/t/{tokens[0]}/state"]  # fmt: skip
    for path in paths:
        answer = lan.get(server.lan + path, timeout=10)
        text = answer.text
        if path.startswith(("/api/counters", "/admin/bookings")):
            assert answer.status_code in (401, 403) or "/login" in answer.url, f"{path} answers a stranger"
        leaks = [t for t in tokens if t in text and not path.startswith(f"/t/{t}")]
        assert not leaks, f"{path} shows a phone token"
        assert CODE not in text and NAME not in text, f"{path} shows the booking"
    assert visit["display_number"]


def test_a_stranger_cannot_count_a_rating_between_two_fields_nor_for_a_booking(server):
    lan = network()
    visit = lan.post(server.lan + "/api/tickets", json={"services": ["HT", "CT"]}, timeout=10).json()
    db_ticket = visit["id"]
    for body in (
        {"level": "very_satisfied", "counter": 1},
        {"level": "very_satisfied", "counter": 2},
        {"level": "very_satisfied", "ticket_id": db_ticket},
        {"level": "very_satisfied", "channel": "phone", "ticket_id": db_ticket},
        {"level": "very_satisfied", "channel": "button", "counter": 1},
    ):
        answer = lan.post(server.lan + "/api/ratings", json=body, timeout=10)
        assert answer.status_code in (201, 400, 403), answer.text
        if answer.status_code == 201:
            assert answer.json()["counted"] is False, f"a stranger's {body} counted"
    counted = db(server, "SELECT COUNT(*) FROM ratings WHERE counted")
    assert counted == [(0,)]


@pytest.mark.parametrize(
    "path",
    [
        "/niem-yet/..%2f..%2fkiosk.db.pdf",
        "/niem-yet/../../kiosk.db.pdf",
        "/niem-yet/%2e%2e%2fkiosk.db.pdf",
        "/niem-yet/" + "a" * 5000 + ".pdf",
        "/niem-yet/00000000000000000000000000000000.pdf",
        "/niem-yet/00000000000000000000000000000000/qr.png",
        "/api/posted?kind=../../etc",
    ],
)
def test_posted_paths_give_no_file_outside_the_posted_folder(server, path):
    answer = network().get(server.lan + path, timeout=10)
    assert answer.status_code in (400, 404), (path, answer.status_code)
    assert b"SQLite format" not in answer.content
