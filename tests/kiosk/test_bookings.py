"""Bookings at the kiosk: `POST /api/checkin {"code"}` (booked, early, late past the grace, unknown, twice, another
day), and the calling rule through the real console API: a checked-in booking is called at its time ahead of the
walk-ins of its field, never twice in a row while walk-ins wait; an early one waits for its time or for an empty
line (kiosk.booking_rule). The phones' "ahead" stays what the calls then do."""

from __future__ import annotations

from datetime import datetime

import pytest

from common.settings import DEFAULT_SERVICES
from kiosk.bookings import store_document
from sync.bookings_document import version
from tests.queue_helpers import issue, login, make_app, rows

#: The fake clock starts at 08:00 in Hà Nội time on 20/11/2026.
DAY = "2026-11-20"


def put_bookings(app, *bookings: tuple[str, str, str]) -> None:
    """Store (code, field, HH:MM of the day) as the central server's document would bring them."""
    items = [
        {"code": c, "site": "TT", "service": f, "at": f"{DAY}T{t}", "name": "Nguyễn Văn An"} for c, f, t in bookings
    ]
    kiosk = app.extensions["kiosk"]
    assert store_document(
        kiosk.sessions, {"v": 1, "version": version(items), "bookings": items}, datetime(2026, 11, 20)
    )


@pytest.fixture
def kiosk_app(tmp_path, clock):
    app = make_app(tmp_path / "var", clock, services=DEFAULT_SERVICES[:1], counters=[{"number": 1, "services": ["HT"]}])
    yield app
    app.extensions["kiosk"].close()


def checkin(client, code: str):
    return client.post("/api/checkin", json={"code": code})


def test_a_booking_checks_in_once_on_its_day_and_late_ones_as_walk_ins(kiosk_app, clock, tmp_path):
    put_bookings(kiosk_app, ("HT-0001", "HT", "08:30"), ("HT-0002", "HT", "07:30"), ("HT-0003", "HT", "09:00"))
    citizen = kiosk_app.test_client()
    done = checkin(citizen, " ht-0001 ")  # typed in lower case with spaces
    assert done.status_code == 201, done.get_json()
    ticket = done.get_json()
    assert ticket["display_number"] == "A001"
    assert ticket["booking"] == {"code": "HT-0001", "at": "08:30", "late": False}
    again = checkin(citizen, "HT-0001")
    assert again.status_code == 409 and again.get_json()["error"] == "Lịch hẹn HT-0001 đã lấy số rồi."
    assert checkin(citizen, "HT-9999").status_code == 404
    late = checkin(citizen, "HT-0002").get_json()  # 07:30 + 15 minutes' grace < 08:00
    assert late["booking"]["late"] is True
    db = tmp_path / "var" / "kiosk.db"
    marks = dict(rows(db, "SELECT display_number, booked FROM tickets"))
    assert marks == {"A001": 1, "A002": None}  # the late one is a walk-in
    clock.advance(24 * 3600)
    other_day = checkin(citizen, "HT-0003")
    assert other_day.status_code == 409
    assert other_day.get_json()["error"] == "Lịch hẹn HT-0003 là ngày 20/11/2026, không phải hôm nay."
    assert "Nguyễn Văn An" not in done.get_data(as_text=True)  # the name is never shown


def test_a_booking_is_called_at_its_time_ahead_of_walk_ins_without_starving_them(kiosk_app, clock):
    put_bookings(kiosk_app, ("BK-1", "HT", "08:10"), ("BK-2", "HT", "08:10"), ("BK-3", "HT", "08:40"))
    citizen, clerk = kiosk_app.test_client(), kiosk_app.test_client()
    login(clerk, 1)
    walk = [issue(citizen)["display_number"] for _ in range(3)]  # A001–A003 at 08:00
    early = checkin(citizen, "BK-1").get_json()  # 08:00, ten minutes early: A004
    assert early["ahead"] == 3  # behind the walk-ins until its time comes

    def next_number() -> str | None:
        answer = clerk.post("/api/counters/1/next")
        return None if answer.status_code == 204 else answer.get_json()["ticket"]["display_number"]

    def phones() -> dict[str, int]:
        line = kiosk_app.extensions["kiosk"].queue.line
        return {tid: p.ahead for tid, p in line.places(clock.business_day()).items()}

    assert next_number() == walk[0]  # the early booking waits for its time
    clock.advance(11 * 60)  # 08:11: B1's time has come
    b2 = checkin(citizen, "BK-2").get_json()  # due at once: A005
    assert phones()[b2["id"]] == 2  # BK-1, then a walk-in (not two bookings in a row), then B2
    called = clerk.post("/api/counters/1/next").get_json()["ticket"]
    assert (called["display_number"], called["booked_at"][11:16]) == (early["display_number"], "08:10")  # console
    assert [next_number() for _ in range(3)] == [walk[1], b2["display_number"], walk[2]]
    b3 = checkin(citizen, "BK-3").get_json()  # early, and the line is empty: called as a walk-in would be
    assert b3["ahead"] == 0
    assert next_number() == b3["display_number"]
    assert next_number() is None
