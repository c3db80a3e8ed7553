"""The clerk console fits a 1366×768 screen (issue 22, point 7): with a citizen served and two dossier codes
attached, every action button — "Vắng mặt", "Chuyển", "Tạm dừng" included — is in the viewport without
scrolling. In Chromium against a real `kiosk serve`."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.kiosk.test_dossier_browser import server  # noqa: F401 (fixture: a kiosk with its clerks)
from tests.queue_helpers import PINS

pytestmark = pytest.mark.browser

CODES = ("000.00.12.H56-250701-0001", "000.00.12.H56-250701-0002")


def test_every_action_button_is_visible_at_1366x768_with_two_dossier_codes(server, browser):  # noqa: F811
    for _ in range(3):
        requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=5)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(server.base + "/clerk")
    page.select_option("#login-clerk", label="Công chức 1")
    page.fill("#login-pin", PINS[1])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#c-title")).to_have_text("Quầy số 1 – Công chức 1")
    page.keyboard.press("n")
    expect(page.locator("#c-dossier")).to_be_visible()
    for n, code in enumerate(CODES, 1):
        page.fill("#dossier-code", code)
        page.keyboard.press("Enter")
        expect(page.locator("#dossier-list li")).to_have_count(n)  # each code attached before the next is typed
    page.evaluate("window.scrollTo(0, 0)")
    buttons = page.locator("[data-action]")
    assert buttons.count() >= 6
    outside = []
    for i in range(buttons.count()):
        button = buttons.nth(i)
        if not button.is_visible():
            continue
        box = button.bounding_box()
        if box["y"] < 0 or box["y"] + box["height"] > 768 or box["x"] + box["width"] > 1366:
            outside.append((button.inner_text(), box))
    height = page.evaluate("document.documentElement.scrollHeight")
    assert not outside, f"below the fold (page {height} px tall): {outside}"
    for name in ("Vắng mặt", "Chuyển", "Tạm dừng"):
        assert page.get_by_role("button", name=name).first.is_visible(), name
    page.close()
