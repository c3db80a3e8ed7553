"""A booked citizen through the office's day, in Chromium against a real `kiosk serve`, in Vietnamese (issue 25):
the citizen checks in on the ticket screen; the clerk console (1366×768, and 1024×600) marks the ticket
"Đặt lịch HH:MM" in the line and, once called, on the ticket served; `/admin/bookings` says where each booking
stands — being served, served, and a past-due one as a no-show. The public screens (the ticket screen, the board,
the phone page) never show the booking's code or the citizen's name. axe finds nothing serious on the new views."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from tests.a11y import axe_violations, describe
from tests.kiosk.test_admin import PASSWORD  # the admin password the kiosk tests set (a test value, not a secret)
from tests.kiosk.test_holds_browser import _log_in
from tests.queue_helpers import add_clerks, set_admin_password
from tests.server import KioskServer

pytestmark = pytest.mark.browser


CODE, MISSED, NAME = "HT-2026-0042", "HT-2026-0007", "Nguyễn Văn An"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A booking 30 minutes ago must fall on today: in Hà Nội's first 40 minutes the kiosk keeps Tokyo's day (UTC+9).
    zone = "Asia/Ho_Chi_Minh"
    if datetime.now(ZoneInfo(zone)).hour == 0 and datetime.now(ZoneInfo(zone)).minute < 40:
        zone = "Asia/Tokyo"
    now = datetime.now(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)
    env = {"KIOSK_ANNOUNCER": "none", "KIOSK_TIMEZONE": zone}
    srv = KioskServer(tmp_path_factory.mktemp("bookings-day") / "var", env=env)
    srv.env["KIOSK_RATING_URL"] = srv.base + "/rate"  # phones reach the kiosk (here on loopback)
    add_clerks(srv)
    set_admin_password(srv, PASSWORD)
    booked, missed = now - timedelta(minutes=5), now - timedelta(minutes=30)
    with sqlite3.connect(srv.data_dir / "kiosk.db") as conn:  # as `kiosk sync` stores a central server's list
        conn.executemany(
            "INSERT INTO bookings VALUES (?, 'TT', 'HT', ?, ?)",
            [(CODE, booked.isoformat(" "), NAME), (MISSED, missed.isoformat(" "), "Lê Thị Cúc")],
        )
        received = datetime.now(UTC).replace(tzinfo=None, microsecond=0)  # naive UTC, as `kiosk sync` stores it
        conn.execute("INSERT INTO booking_list VALUES (1, 'v1', ?)", (received.isoformat(" "),))
    srv.start()
    srv.booked, srv.missed = booked, missed
    srv.received = received.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    yield srv
    srv.stop()


def _log_in_admin(page, base: str) -> None:
    page.goto(base + "/admin/bookings")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Lịch hẹn")


def _check_in(page, base: str) -> None:
    page.goto(base + "/ticket")
    page.click("text=Đã đặt lịch hẹn")
    for key in "ht":
        page.click(f'#vk [data-layer=letters] [data-vk="{key}"]')
    page.click('#vk [data-vk-action="layer"]')
    for key in CODE[2:]:
        page.click(f'#vk [data-layer=digits] [data-vk="{key}"]')
    page.click('#vk [data-vk-action="done"]')


def _says_nothing_private(page, where: str) -> None:
    shown, html = page.locator("body").inner_text(), page.content()
    for private in (CODE, MISSED, NAME, "Lê Thị Cúc"):
        assert private not in shown and private not in html, (where, private)


def test_a_booking_checked_in_is_marked_at_the_console_and_followed_on_admin(server, browser):
    base, at = server.base, f"{server.booked:%H:%M}"
    walk_in = requests.post(base + "/api/tickets", json={"service": "HT"}, timeout=10).json()["display_number"]

    kiosk_screen = browser.new_page(viewport={"width": 800, "height": 480})
    _check_in(kiosk_screen, base)
    expect(kiosk_screen.locator("#t-number")).to_have_text("A002")
    expect(kiosk_screen.locator("#t-service")).to_contain_text(f"Đã đặt lịch hẹn lúc {at}")
    _says_nothing_private(kiosk_screen, "ticket screen after check-in")

    several = requests.post(base + "/api/tickets", json={"services": ["HT", "CT"]}, timeout=10).json()
    clerk = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in(clerk, base)
    expect(clerk.locator("#c-line tr", has_text=several["display_number"])).to_contain_text("Hộ tịch + Chứng thực")
    row = clerk.locator("#c-line tr", has_text="A002")
    expect(row.locator(".c-booked")).to_have_text(f"Đặt lịch {at}")
    expect(clerk.locator("#c-line tr", has_text=walk_in).locator(".c-booked")).to_have_count(0)
    violations = axe_violations(clerk)
    assert not violations, describe(violations)

    small = browser.new_page(viewport={"width": 1024, "height": 600})
    _log_in(small, base)
    mark = small.locator("#c-line tr", has_text="A002").locator(".c-booked")
    expect(mark).to_have_text(f"Đặt lịch {at}")
    box = mark.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1024, box  # on the screen, not cut off at the side
    assert small.evaluate("document.documentElement.scrollWidth") <= 1024
    assert float(mark.evaluate("el => getComputedStyle(el).fontSize").rstrip("px")) >= 14
    small.close()

    clerk.keyboard.press("n")  # its time has come: called ahead of the walk-in who came first
    expect(clerk.locator("#c-number")).to_have_text("A002")
    expect(clerk.locator("#c-booking")).to_have_text(f"Đặt lịch {at}")
    expect(clerk.locator("#c-booking")).to_be_visible()
    violations = axe_violations(clerk)
    assert not violations, describe(violations)

    admin = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in_admin(admin, base)
    today = admin.locator("#bookings-today")
    booking = today.locator(f"tr[data-code='{CODE}']")
    expect(booking).to_have_attribute("data-state", "serving")
    expect(booking.locator("td.state")).to_have_text("Đang phục vụ tại quầy 1 · số A002")
    expect(booking).to_contain_text(NAME)
    expect(admin.locator("#bookings-received")).to_contain_text(f"lúc {server.received:%H:%M %d/%m/%Y}")
    missed = today.locator(f"tr[data-code='{MISSED}']")
    expect(missed).to_have_attribute("data-state", "no_show")
    until = f"{server.missed + timedelta(minutes=15):%H:%M}"
    expect(missed.locator("td.state")).to_have_text(f"Không đến: chưa lấy số trước {until}")
    expect(today.locator("[data-count=booked]")).to_have_text("2")
    expect(today.locator("[data-count=arrived]")).to_have_text("1")
    expect(today.locator("[data-count=no_show]")).to_have_text("1")
    violations = axe_violations(admin)
    assert not violations, describe(violations)

    clerk.keyboard.press("h")
    expect(clerk.locator("#c-status")).to_have_text("Đã hoàn thành số A002.")
    expect(clerk.locator("#c-booking")).to_be_hidden()
    admin.reload()
    expect(booking).to_have_attribute("data-state", "served")
    expect(booking.locator("td.state")).to_contain_text("Đã phục vụ · số A002")
    admin.goto(base + "/admin")
    admin.get_by_role("link", name="Lịch hẹn").first.click()
    expect(admin).to_have_url(base + "/admin/bookings")

    with sqlite3.connect(server.data_dir / "kiosk.db") as conn:
        token = conn.execute(
            "SELECT ts.token FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id WHERE t.display_number = 'A002'"
        ).fetchone()[0]
    public = browser.new_page(viewport={"width": 1280, "height": 720})
    public.goto(base + "/display")
    expect(public.locator("body")).to_contain_text("A002")
    _says_nothing_private(public, "board")
    public.goto(f"{base}/t/{token}")
    expect(public.locator("body")).to_contain_text("A002")
    _says_nothing_private(public, "phone page")
    public.goto(base + "/ticket")
    _says_nothing_private(public, "ticket screen")
    for page in (kiosk_screen, clerk, admin, public):
        page.close()
