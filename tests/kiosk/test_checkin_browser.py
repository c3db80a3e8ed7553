"""Checking in with an appointment in Chromium against a real `kiosk serve`, on the kiosk's 800×480 screen in
Vietnamese: "Đã đặt lịch hẹn" → the code on the on-screen keyboard → a ticket like the others, marked as booked."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser import fits
from tests.server import KioskServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = KioskServer(tmp_path_factory.mktemp("checkin") / "var", env={"KIOSK_ANNOUNCER": "none"})
    srv.cli("init")
    at = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None, second=0, microsecond=0) + timedelta(
        minutes=10
    )
    with sqlite3.connect(srv.data_dir / "kiosk.db") as conn:  # as `kiosk sync` stores a central server's list
        conn.execute(
            "INSERT INTO bookings VALUES ('HT-2026-0042', 'TT', 'HT', ?, 'Nguyễn Văn An')", (at.isoformat(" "),)
        )
        conn.execute("INSERT INTO booking_list VALUES (1, 'v1', ?)", (at.isoformat(" "),))
    srv.start()
    srv.at = at
    yield srv
    srv.stop()


def test_a_booked_citizen_types_the_code_and_gets_a_booked_ticket(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/ticket")
    page.click("text=Đã đặt lịch hẹn")
    expect(page.locator("#t-booking-title")).to_have_text("Nhập mã lịch hẹn")
    assert fits(page)
    page.click("#t-booking-send")
    expect(page.locator("#t-booking-error")).to_have_text("Vui lòng nhập mã lịch hẹn trước.")
    for key in "ht":
        page.click(f'#vk [data-layer=letters] [data-vk="{key}"]')
    page.click('#vk [data-vk-action="layer"]')
    for key in "-2026-0041":
        page.click(f'#vk [data-layer=digits] [data-vk="{key}"]')
    page.click("#t-booking-send")
    expect(page.locator("#t-booking-error")).to_have_text(
        "Không tìm thấy mã lịch hẹn này. Vui lòng kiểm tra lại hoặc hỏi cán bộ."
    )
    page.click('#vk [data-layer=digits] [data-vk-action="back"]')
    page.click('#vk [data-layer=digits] [data-vk="2"]')
    page.click('#vk [data-vk-action="done"]')
    expect(page.locator("#t-number")).to_have_text("A001")
    expect(page.locator("#t-service")).to_contain_text(f"Đã đặt lịch hẹn lúc {server.at:%H:%M}")
    assert fits(page)
    with sqlite3.connect(server.data_dir / "kiosk.db") as conn:
        assert conn.execute("SELECT display_number, booked FROM tickets").fetchall() == [("A001", 1)]
    page.close()


@pytest.fixture(scope="module")
def full_kiosk(tmp_path_factory):
    """`kiosk serve --demo` (procedures and posted documents held) with today's bookings too: the ticket screen's
    four links at once."""
    srv = KioskServer(tmp_path_factory.mktemp("full") / "var", demo=True, env={"KIOSK_ANNOUNCER": "none"})
    srv.start()
    at = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None, second=0, microsecond=0)
    with sqlite3.connect(srv.data_dir / "kiosk.db") as conn:
        conn.execute("INSERT INTO bookings VALUES ('HT-2026-0042', 'TT', 'HT', ?, '')", (at.isoformat(" "),))
        conn.execute("INSERT INTO booking_list VALUES (1, 'v1', ?)", (at.isoformat(" "),))
    yield srv
    srv.stop()


@pytest.mark.parametrize("size", [(800, 480), (1024, 600)])
def test_the_ticket_screen_keeps_its_tiles_with_every_link_shown(full_kiosk, browser, size):
    """Lookup, suggestion box, rules and fees, appointment: the four links on a row of their own, whole, and the
    title on one line; the field tiles stay big enough to touch and read (the links beside the title squeezed it
    to a word per line and the tiles to slivers, cut off at the right)."""
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(full_kiosk.base + "/ticket")
    links = page.locator("#t-home .t-links > *")
    expect(links).to_have_count(4)
    assert fits(page)
    for box in (links.nth(i).bounding_box() for i in range(4)):
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 60, box
    title = page.locator("#t-title")
    line = float(title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert title.bounding_box()["height"] < 1.5 * line, "the title is broken over several lines"
    tiles = page.locator("#t-home .t-tile")
    for i in range(tiles.count()):
        box = tiles.nth(i).bounding_box()
        assert box["height"] >= 60 and box["y"] + box["height"] <= height, box  # a touch target, whole
        name = tiles.nth(i).locator(".t-name")
        assert name.evaluate("e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight + 1")
    page.close()
