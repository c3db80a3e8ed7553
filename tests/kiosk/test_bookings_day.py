"""The booked mark at the clerk console and the day's bookings on `/admin/bookings` (issue 25), on the kiosk's fake
clock (08:00 in Hà Nội on 20/11/2026): a checked-in booking shows "booked 08:10" in the console's line and on the
ticket served, a late one as late; a visit of several fields lists them; the admin's list follows each booking from
expected to checked in, served or no-show, and the public views never carry a booking code or a citizen's name."""

from __future__ import annotations

from datetime import datetime

import pytest

from kiosk.bookings import store_document
from sync.bookings_document import version
from tests.kiosk.test_live_panel import manager  # noqa: F401 (fixture: a client signed in as admin)
from tests.queue_helpers import issue, login

pytestmark = pytest.mark.staffed()

NAME = "Trần Thị Bình"


def put_bookings(app, *bookings: tuple[str, str, str]) -> None:
    """Store (code, field, "YYYY-MM-DDTHH:MM") as the central server's document would bring them."""
    items = [{"code": c, "site": "TT", "service": f, "at": at, "name": NAME} for c, f, at in bookings]
    kiosk = app.extensions["kiosk"]
    assert store_document(
        kiosk.sessions, {"v": 1, "version": version(items), "bookings": items}, datetime(2026, 11, 20)
    )


@pytest.fixture
def booked(app):
    put_bookings(
        app,
        ("BK-0810", "HT", "2026-11-20T08:10"),  # checks in ten minutes early
        ("BK-0730", "HT", "2026-11-20T07:30"),  # comes past its 15 minutes' grace: a walk-in
        ("BK-0700", "CT", "2026-11-20T07:00"),  # never comes: a no-show
        ("BK-0830", "CT", "2026-11-20T08:30"),  # not yet come
        ("BK-T0900", "HT", "2026-11-21T09:00"),  # tomorrow
    )
    return app


def checkin(client, code: str) -> dict:
    answer = client.post("/api/checkin", json={"code": code})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def line_of(clerk) -> dict[str, dict]:
    return {t["display_number"]: t for t in clerk.get("/api/counters/1/queue").get_json()["line"]}


def test_the_console_marks_booked_late_and_several_field_tickets(booked, client, clock):
    clerk = booked.test_client()
    login(clerk, 1)
    walk_in = issue(client)["display_number"]
    on_time = checkin(client, "BK-0810")["display_number"]
    late = checkin(client, "BK-0730")["display_number"]
    several = client.post("/api/tickets", json={"services": ["HT", "CT"]}).get_json()["display_number"]
    line = line_of(clerk)
    assert line[walk_in]["booking"] is None and line[walk_in]["fields_left"] == []
    assert line[on_time]["booking"] == {"at": "08:10", "late": False}
    assert line[late]["booking"] == {"at": "07:30", "late": True}
    assert line[several]["fields_left"] == ["HT", "CT"] and line[several]["booking"] is None

    clock.advance(10 * 60)  # 08:10: the booking's time has come, it goes ahead of the walk-in
    called = clerk.post("/api/counters/1/next").get_json()["ticket"]
    assert called["display_number"] == on_time
    view = clerk.get("/api/counters/1/queue").get_json()
    assert view["counter"]["serving"]["booking"] == {"at": "08:10", "late": False}
    clerk.post("/api/counters/1/hold", json={"reason": "photocopy"})
    held = clerk.get("/api/counters/1/queue").get_json()["held"]
    assert [(h["display_number"], h["booking"]) for h in held] == [(on_time, {"at": "08:10", "late": False})]

    for public in ("/api/queue", "/display", "/ticket", "/"):
        text = client.get(public).get_data(as_text=True)
        assert "BK-0810" not in text and NAME not in text, public
    assert "BK-0810" not in clerk.get("/api/counters/1/queue").get_data(as_text=True)  # the clerk needs no code


def test_admin_lists_today_and_tomorrow_with_where_each_booking_stands(booked, client, manager, clock):  # noqa: F811
    assert booked.test_client().get("/admin/bookings").status_code == 302  # the admin's sign-in first
    assert booked.test_client().get("/admin/bookings.json").status_code == 302
    clerk = booked.test_client()
    login(clerk, 1)
    on_time = checkin(client, "BK-0810")["display_number"]
    late = checkin(client, "BK-0730")["display_number"]

    def states() -> dict[str, str]:
        days = manager.get("/admin/bookings.json").get_json()["days"]
        return {b["code"]: b["state"] for day in days for b in day["bookings"]}

    assert states() == {
        "BK-0700": "no_show",
        "BK-0730": "late",
        "BK-0810": "checked_in",
        "BK-0830": "expected",
        "BK-T0900": "expected",
    }
    clock.advance(10 * 60)
    assert clerk.post("/api/counters/1/next").get_json()["ticket"]["display_number"] == on_time
    assert states()["BK-0810"] == "serving"
    page = manager.get("/admin/bookings").get_data(as_text=True)
    assert f"Đang phục vụ tại quầy 1 · số {on_time}" in page
    assert f"Đến muộn lúc 08:00: lấy số thường {late}" in page
    assert "Không đến: chưa lấy số trước 07:15" in page
    assert "Chưa đến (có thể lấy số đến 08:45)" in page
    assert NAME in page and "BK-0830" in page  # the office's own list: code and name, behind the sign-in
    clerk.post("/api/counters/1/complete")
    clock.advance(20 * 60)
    assert states()["BK-0830"] == "expected"  # 08:30: its time, within the grace
    clock.advance(16 * 60)  # 08:46: past its time and grace
    days = manager.get("/admin/bookings.json").get_json()["days"]
    assert [d["day"] for d in days] == ["2026-11-20", "2026-11-21"]
    today = {b["code"]: b for b in days[0]["bookings"]}
    assert today["BK-0810"]["state"] == "served" and today["BK-0810"]["checked_in_at"] == "08:00"
    assert today["BK-0810"]["ticket"] == on_time
    assert today["BK-0830"]["state"] == "no_show"
    assert days[0]["counts"] == {"booked": 4, "arrived": 2, "late": 1, "served": 1, "expected": 0, "no_show": 2}
    assert days[1]["counts"]["booked"] == 1 and days[1]["bookings"][0]["code"] == "BK-T0900"
    home = manager.get("/admin").get_data(as_text=True)
    assert "4 lịch hẹn, 2 đã đến, 2 không đến" in home and 'href="/admin/bookings"' in home


def test_without_a_list_the_page_says_so(app, manager):  # noqa: F811
    page = manager.get("/admin/bookings").get_data(as_text=True)
    assert "Máy chưa nhận được danh sách lịch hẹn nào từ máy chủ trung tâm." in page
    assert page.count("Không có lịch hẹn nào cho ngày này trong danh sách của máy.") == 2
