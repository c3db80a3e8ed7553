"""The live panel in Chromium against a real `kiosk serve` (issue 25): the admin watches the counters while a clerk
works; the page follows the calls and pauses without a reload, and marks a wait and a pause past the thresholds
(set small here, 3 seconds, through the settings' environment variables)."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.queue_helpers import PINS, add_clerks, set_admin_password
from tests.server import KioskServer

pytestmark = pytest.mark.browser

PASSWORD = "mat-khau-quan-tri"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("live-panel") / "var"
    env = {
        "KIOSK_ANNOUNCER": "none",
        "KIOSK_PANEL_WAIT_ALERT_MINUTES": "0.05",
        "KIOSK_PANEL_PAUSE_ALERT_MINUTES": "0.05",
    }
    srv = KioskServer(data, env=env)
    add_clerks(srv)
    set_admin_password(srv, PASSWORD)
    srv.start()
    yield srv
    srv.stop()


def clerk(server, counter: int) -> requests.Session:
    s = requests.Session()
    answer = s.post(server.base + "/api/clerk/login", json={"counter": counter, "pin": PINS[counter]}, timeout=5)
    assert answer.status_code == 200, answer.text
    return s


def test_the_panel_follows_the_counters_live_and_marks_long_waits(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.base + "/admin/panel")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    expect(page.locator("h1")).to_have_text("Bảng theo dõi trực tiếp")
    expect(page.locator("#panel-counters tr[data-counter='1']")).to_have_attribute("data-state", "closed")
    page.evaluate("window.notReloaded = true")

    one, two = clerk(server, 1), clerk(server, 2)
    expect(page.locator("#panel-counters tr[data-counter='1'] td.who")).to_have_text("Công chức 1")
    first = requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=5).json()
    expect(page.locator("#panel-waiting")).to_have_text("1")
    row = page.locator("#panel-fields tr[data-field='HT']")
    expect(row).to_have_class("alert", timeout=20_000)  # waited past 3 s: marked, no event needed
    expect(row).to_contain_text("vượt ngưỡng")
    expect(page.locator("#panel-longest")).to_contain_text(first["display_number"])

    assert one.post(server.base + "/api/counters/1/next", timeout=5).status_code == 200
    desk = page.locator("#panel-counters tr[data-counter='1']")
    expect(desk.locator("td.serving")).to_have_text(first["display_number"])
    expect(desk).to_have_attribute("data-state", "open")
    expect(page.locator("#panel-waiting")).to_have_text("0")

    assert two.post(server.base + "/api/counters/2/pause", timeout=5).status_code == 200
    paused = page.locator("#panel-counters tr[data-counter='2']")
    expect(paused).to_have_attribute("data-state", "paused")
    expect(paused.locator("td.state")).to_contain_text("Tạm dừng")
    expect(paused).to_have_class("state-paused alert", timeout=20_000)
    expect(paused.locator("td.state")).to_contain_text("vượt ngưỡng")
    assert page.evaluate("window.notReloaded") is True  # every change came live, the page never reloaded
    page.close()
