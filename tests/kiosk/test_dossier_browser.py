"""A USB barcode scanner at the clerk console, in Chromium against a real `kiosk serve`: it types the dossier
code fast and presses Enter — into the field, or wherever the focus is — and the code is attached to the ticket
served without any letter of it being taken for a shortcut (H would complete the ticket, N call the next one)."""

from __future__ import annotations

import sqlite3

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.browser import launch
from tests.kiosk.test_queue_browser import add_clerks
from tests.queue_helpers import PINS
from tests.server import KioskServer

pytestmark = pytest.mark.browser

SCANNED = "000.00.12.H56-250701-0001"  # as printed on the receipt (giấy tiếp nhận)
TYPED = "h56.22.17-250715-0003"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dossier-browser") / "var"
    srv = KioskServer(data, env={"KIOSK_ANNOUNCER": "none"})
    add_clerks(srv)
    srv.start()
    yield srv
    srv.stop()


def scan(page, code: str) -> None:
    """What a USB scanner does: a key every few milliseconds, then Enter."""
    page.keyboard.type(code, delay=4)
    page.keyboard.press("Enter")


def test_a_scanner_attaches_the_code_wherever_the_focus_is(server):
    ticket = requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=5).json()
    requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=5)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(server.base + "/clerk")
        page.select_option("#login-clerk", label="Công chức 1")
        page.fill("#login-pin", PINS[1])
        page.click("#login-form button[type=submit]")
        expect(page.locator("#c-title")).to_have_text("Quầy số 1 – Công chức 1")
        expect(page.locator("#c-dossier")).to_be_hidden()  # nobody served: nothing to attach a code to
        page.keyboard.press("n")
        number = ticket["display_number"]
        expect(page.locator("#c-number")).to_have_text(number)
        expect(page.locator("#c-dossier")).to_be_visible()

        # the focus is on a button (not in the field): the scanned keys are a code, not shortcuts
        page.locator('[data-action="next"]').focus()
        scan(page, SCANNED)
        expect(page.locator("#c-status")).to_have_text(f"Đã gắn mã hồ sơ {SCANNED} cho số {number}.")
        expect(page.locator("#dossier-list li")).to_have_count(1)
        expect(page.locator("#c-number")).to_have_text(number)  # neither completed (H) nor the next called (N)
        scan(page, SCANNED)  # read twice by the scanner: still one code
        expect(page.locator("#c-status")).to_have_text(f"Số {number} đã có mã hồ sơ {SCANNED}.")

        # typed by hand: M goes to the field, Enter attaches (upper case, as the receipt prints it)
        page.keyboard.press("m")
        expect(page.locator("#dossier-code")).to_be_focused()
        page.keyboard.type(TYPED)
        page.keyboard.press("Enter")
        expect(page.locator("#dossier-list li")).to_have_count(2)
        expect(page.locator("#dossier-list")).to_contain_text(TYPED.upper())

        # a Vietnamese input method left on turns letters into Vietnamese ones: the console says what to do
        page.fill("#dossier-code", "ÂB.12")
        page.keyboard.press("Enter")
        expect(page.locator("#c-status")).to_contain_text("tắt bộ gõ tiếng Việt")

        # a code taken off by its button
        page.get_by_role("button", name=f"Gỡ mã hồ sơ {TYPED.upper()}").click()
        expect(page.locator("#dossier-list li")).to_have_count(1)

        # a clerk's single key is still a shortcut: H completes the ticket
        page.locator('[data-action="next"]').focus()
        page.keyboard.press("h")
        expect(page.locator("#c-status")).to_have_text(f"Đã hoàn thành số {number}.")
        expect(page.locator("#c-dossier")).to_be_hidden()
        browser.close()

    rating = requests.post(
        server.base + "/api/ratings", json={"level": "very_satisfied", "channel": "touch", "counter": 1}, timeout=5
    ).json()
    db = sqlite3.connect(server.data_dir / "kiosk.db")
    try:
        stored = db.execute("SELECT ticket_id, dossier_codes FROM ratings WHERE id = ?", (rating["id"],)).fetchall()
        actions = db.execute("SELECT count(*) FROM clerk_actions WHERE action = 'dossier'").fetchone()[0]
    finally:
        db.close()
    assert stored == [(ticket["id"], SCANNED)]
    assert actions == 3  # attached, attached by hand, taken off: the duplicate scan and the refusal left nothing
