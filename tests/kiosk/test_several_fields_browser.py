"""Several fields in one visit on the ticket screen (issue 25), in Chromium at 800×480 in Vietnamese, against a real
`kiosk serve`: "Nhiều lĩnh vực", two tiles, "Lấy số" → one number listing both fields; the clerk then serves both
in one call and completes each with its own dossier code."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.kiosk.test_queue_browser import fits
from tests.queue_helpers import PINS, add_clerks
from tests.server import KioskServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("several-fields") / "var"
    srv = KioskServer(data, env={"KIOSK_TICKET_SECONDS": "2", "KIOSK_ANNOUNCER": "none"})
    add_clerks(srv)
    srv.start()
    yield srv
    srv.stop()


def test_a_citizen_takes_one_number_for_two_fields_and_the_clerk_serves_both(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/ticket")
    expect(page.locator("#several")).to_contain_text("Nhiều lĩnh vực")
    assert fits(page)
    expect(page.locator("#t-take")).to_be_hidden()
    page.click("#several")
    expect(page.locator("#t-take")).to_have_text("Lấy số")
    expect(page.locator("#t-take")).to_be_disabled()
    assert fits(page)
    page.click("[data-service=HT]")
    page.click("[data-service=CT]")
    expect(page.locator("[data-service=HT]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#t-result")).to_be_hidden()  # a touch on a tile chooses, it does not issue
    page.click("#t-take")
    expect(page.locator("#t-result")).to_be_visible()
    number = page.locator("#t-number").inner_text()
    assert number.startswith("A")
    expect(page.locator("#t-service")).to_have_text("Hộ tịch + Chứng thực")
    assert fits(page)
    expect(page.locator("#t-home")).to_be_visible(timeout=8000)  # home again, one tap issues as before
    expect(page.locator("#several")).to_have_attribute("aria-pressed", "false")
    page.click("[data-service=DD]")
    expect(page.locator("#t-service")).to_have_text("Đất đai")
    page.close()

    clerk = requests.Session()
    assert clerk.post(server.base + "/api/clerk/login", json={"counter": 1, "pin": PINS[1]}).status_code == 200
    called = clerk.post(server.base + "/api/counters/1/next").json()["ticket"]
    assert called["display_number"] == number and [f["code"] for f in called["fields"]] == ["HT", "CT"]
    clerk.post(server.base + "/api/counters/1/dossier", json={"code": "HT-7"})
    going_on = clerk.post(server.base + "/api/counters/1/complete").json()["ticket"]
    assert (going_on["status"], going_on["service"], going_on["counter"]) == ("called", "CT", 1)
    clerk.post(server.base + "/api/counters/1/dossier", json={"code": "CT-8"})
    done = clerk.post(server.base + "/api/counters/1/complete").json()["ticket"]
    assert done["status"] == "done"
    assert [(f["code"], f["dossier_codes"]) for f in done["fields"]] == [("HT", ["HT-7"]), ("CT", ["CT-8"])]


def test_the_console_shows_the_fields_adds_one_and_still_fits_1366x768(server, browser):
    ticket = requests.post(server.base + "/api/tickets", json={"services": ["DD", "TP"]}, timeout=5).json()
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(server.base + "/clerk")
    page.select_option("#login-clerk", label="Công chức 2")
    page.select_option("#login-counter", "2")
    page.fill("#login-pin", PINS[2])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#c-title")).to_contain_text("Quầy số 2")
    page.keyboard.press("n")  # the Đất đai ticket of the first test (C001), then this visit
    expect(page.locator("#c-number")).to_have_text("C001")
    page.keyboard.press("n")
    expect(page.locator("#c-number")).to_have_text(ticket["display_number"])
    expect(page.locator("#c-fields")).to_have_text("Các lĩnh vực của lượt này: Đất đai · Tư pháp – khác")
    page.get_by_role("button", name="Thêm lĩnh vực").click()
    expect(page.locator("#c-transfer-ask")).to_have_text("Thêm lĩnh vực nào cho lượt này? (Esc: hủy)")
    options = page.locator("#c-transfer-options button")
    assert "Tư pháp – khác" not in options.all_inner_texts()  # the visit carries it already
    options.filter(has_text="Hộ tịch").click()
    expect(page.locator("#c-status")).to_have_text(f"Đã thêm Hộ tịch cho số {ticket['display_number']}.")
    expect(page.locator("#c-fields")).to_contain_text("Hộ tịch")
    page.evaluate("window.scrollTo(0, 0)")
    buttons = page.locator("[data-action]")
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box is None or (box["y"] + box["height"] <= 768 and box["x"] + box["width"] <= 1366), box
    page.keyboard.press("h")  # Đất đai completed apart; counter 2 handles Tư pháp: the call goes on
    expect(page.locator("#c-fields")).to_have_text("Các lĩnh vực của lượt này: ✓ Đất đai · Tư pháp – khác · Hộ tịch")
    expect(page.locator("#c-number")).to_have_text(ticket["display_number"])
    page.close()
