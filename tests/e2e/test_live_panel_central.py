"""The commune's live panel at the central server (issue 25): a real `kiosk-central serve` and a real `kiosk serve`.

The kiosk posts its panel when it changes: a clerk's log-in, a ticket, a call are on the commune's page within
seconds. Its commune's viewer reads it, another commune's viewer is refused, its commune_admin sets the thresholds,
and a kiosk that stops posting is shown as lost since its last post, never with its old state as if current.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.central_server import CentralServer
from tests.central_server import sign_in as sign_in_as
from tests.queue_helpers import PINS, add_clerks
from tests.server import KioskServer

pytestmark = pytest.mark.slow
COMMUNE, NAME = "42001", "Xã Thạch Hà"
OTHER, OTHER_NAME = "42002", "Xã Thạch Lạc"
PASSWORD = "mat-khau-quan-tri"


def sign_in(base: str, username: str) -> requests.Session:
    return sign_in_as(base, username, PASSWORD)


def wait_for(read, check, within: float = 15.0):
    deadline = time.monotonic() + within
    while True:
        found = read()
        if check(found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.3)


@pytest.fixture
def central_server(tmp_path):
    server = CentralServer(tmp_path / "central", env={"KIOSK_CENTRAL_PANEL_OFFLINE_SECONDS": "6"})
    server.cli("init")
    with server:
        yield server


@pytest.fixture
def kiosk_server(central_server, tmp_path):
    central = central_server
    device = central.add_device("Kiosk Trung tâm", COMMUNE, NAME)
    central.add_device("Kiosk Thạch Lạc", OTHER, OTHER_NAME)
    central.cli("add-user", "truong.bp", "--role", "commune_admin", "--commune", COMMUNE, "--password", PASSWORD)
    central.cli("add-user", "xem.thachha", "--role", "commune_viewer", "--commune", COMMUNE, "--password", PASSWORD)
    central.cli("add-user", "xem.thachlac", "--role", "commune_viewer", "--commune", OTHER, "--password", PASSWORD)
    server = KioskServer(
        tmp_path / "kiosk",
        env={
            "KIOSK_COMMUNE_CODE": COMMUNE,
            "KIOSK_COMMUNE_NAME": f"UBND {NAME}",
            "KIOSK_CENTRAL_URL": central.base,
            "KIOSK_SYNC_INTERVAL": "3600",
            "KIOSK_PANEL_PUSH_EVERY": "1",
            "KIOSK_ANNOUNCER": "none",
            **device,
        },
    )
    server.cli("init")
    add_clerks(server)
    with server:
        yield server


def test_the_commune_sees_its_counters_live_and_a_lost_kiosk_as_lost(central_server, kiosk_server):
    central, kiosk = central_server, kiosk_server
    viewer = sign_in(central.base, "xem.thachha")
    panel = f"{central.base}/panel/{COMMUNE}.json"

    def counter_one():
        found = viewer.get(panel, timeout=10).json()["kiosks"]
        mine = next(k for k in found if k["name"] == "Kiosk Trung tâm")
        return mine, next((c for c in mine["counters"] if c["number"] == 1), None)

    clerk = requests.Session()
    assert clerk.post(f"{kiosk.base}/api/clerk/login", json={"counter": 1, "pin": PINS[1]}, timeout=10).ok
    ticket = requests.post(f"{kiosk.base}/api/tickets", json={"service": "HT"}, timeout=10).json()
    mine, one = wait_for(counter_one, lambda f: f[1] is not None and f[1]["clerk"] == "Công chức 1")
    assert not mine["offline"] and one["state"] == "open"
    assert wait_for(counter_one, lambda f: any(x["code"] == "HT" and x["waiting"] == 1 for x in f[0]["fields"]))

    assert clerk.post(f"{kiosk.base}/api/counters/1/next", timeout=10).ok
    _, one = wait_for(counter_one, lambda f: f[1]["serving"] is not None)
    assert one["serving"]["display_number"] == ticket["display_number"]
    page = viewer.get(f"{central.base}/panel/{COMMUNE}", timeout=10).text
    assert "Bảng theo dõi trực tiếp" in page and "Công chức 1" in page and ticket["display_number"] in page

    # Roles: another commune's viewer is refused; only the commune's admin sets the thresholds.
    stranger = sign_in(central.base, "xem.thachlac")
    assert stranger.get(f"{central.base}/panel/{COMMUNE}", timeout=10).status_code == 403
    assert stranger.get(panel, timeout=10).status_code == 403
    assert stranger.get(f"{central.base}/panel/{COMMUNE}/part", timeout=10).status_code == 403
    assert "thresholds-form" not in page  # a viewer reads, it does not set
    admin = sign_in(central.base, "truong.bp")
    form = admin.get(f"{central.base}/panel/{COMMUNE}", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    saved = admin.post(
        f"{central.base}/panel/{COMMUNE}/thresholds",
        data={"wait_minutes": "15", "pause_minutes": "10", "csrf_token": token},
        timeout=10,
    )
    assert saved.status_code == 200 and "Đã lưu ngưỡng cảnh báo." in saved.text
    assert viewer.get(panel, timeout=10).json()["thresholds"] == {"wait_minutes": 15.0, "pause_minutes": 10.0}
    bad = admin.post(
        f"{central.base}/panel/{COMMUNE}/thresholds",
        data={"wait_minutes": "0", "pause_minutes": "10", "csrf_token": token},
        timeout=10,
    )
    assert bad.status_code == 400 and "Ngưỡng là số phút từ 1 đến 600." in bad.text
    own = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # the viewer's own form token
    refused = viewer.post(
        f"{central.base}/panel/{COMMUNE}/thresholds",
        data={"wait_minutes": "5", "pause_minutes": "5", "csrf_token": own},
        timeout=10,
    )
    assert refused.status_code == 403
    assert viewer.get(panel, timeout=10).json()["thresholds"]["wait_minutes"] == 15.0

    # The kiosk stops: its panel is shown as lost, not as its last state.
    kiosk.stop()
    mine, one = wait_for(counter_one, lambda f: f[0]["offline"], within=20)
    assert one is None and mine["last_at"]
    page = viewer.get(f"{central.base}/panel/{COMMUNE}/part", timeout=10).text
    assert f"Mất kết nối từ {mine['last_at']}" in page and "Công chức 1" not in page
    other = sign_in(central.base, "xem.thachlac").get(f"{central.base}/panel/{OTHER}/part", timeout=10).text
    assert "Chưa nhận được trạng thái trực tiếp nào từ ki-ốt này." in other


@pytest.mark.browser
def test_the_central_page_follows_the_kiosk_without_reloading(central_server, kiosk_server, browser):
    central, kiosk = central_server, kiosk_server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{central.base}/login?next=/panel")
    page.fill("input[name=username]", "xem.thachha")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Bảng theo dõi trực tiếp — Xã Thạch Hà")  # its one commune, directly
    page.evaluate("window.notReloaded = true")
    desk = page.locator("tr[data-counter='1']")
    expect(desk).to_have_attribute("data-state", "closed", timeout=15_000)

    clerk = requests.Session()
    assert clerk.post(f"{kiosk.base}/api/clerk/login", json={"counter": 1, "pin": PINS[1]}, timeout=10).ok
    ticket = requests.post(f"{kiosk.base}/api/tickets", json={"service": "HT"}, timeout=10).json()
    expect(desk.locator("td.who")).to_have_text("Công chức 1", timeout=15_000)
    expect(page.locator("tr[data-field='HT'] td.waiting")).to_have_text("1", timeout=15_000)
    assert clerk.post(f"{kiosk.base}/api/counters/1/next", timeout=10).ok
    expect(desk.locator("td.serving")).to_have_text(ticket["display_number"], timeout=15_000)
    assert page.evaluate("window.notReloaded") is True

    kiosk.stop()
    expect(page.locator(".offline-note")).to_contain_text("Mất kết nối từ", timeout=20_000)
    expect(desk).to_have_count(0)
    page.close()
