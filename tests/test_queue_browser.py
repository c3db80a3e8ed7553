"""The queue's screens in Chromium against a real `kiosk serve`: the ticket screen fits and says what printed,
the clerk console works from the keyboard alone, the board follows calls within a second and through a
server restart."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.browser import launch
from tests.queue_helpers import PINS
from tests.server import KioskServer

pytestmark = pytest.mark.browser

SIZES = [(800, 480), (1280, 720), (1920, 1080)]


def add_clerks(server: KioskServer) -> None:
    for counter, pin in PINS.items():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kiosk.cli",
                "add-clerk",
                f"Công chức {counter}",
                "--pin",
                pin,
                "--counter",
                str(counter),
            ],
            env=server.env,
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("queue-browser") / "var"
    srv = KioskServer(data, env={"KIOSK_TICKET_SECONDS": "2", "KIOSK_ANNOUNCER": "none"})
    add_clerks(srv)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def fits(page) -> bool:
    w, h, sw, sh = page.evaluate(
        "[innerWidth, innerHeight, document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    return sw <= w and sh <= h


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_ticket_screen_fits_issues_a_priority_number_and_returns_home(server, browser, size):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(server.base + "/ticket")
    expect(page.locator("#t-title")).to_have_text("Lấy số thứ tự")
    assert fits(page)
    page.click("#priority")
    expect(page.locator("#priority")).to_have_attribute("aria-pressed", "true")
    page.click("[data-service=CT]")
    expect(page.locator("#t-result")).to_be_visible()
    number = page.locator("#t-number").inner_text()
    assert number.startswith("B") and len(number) == 4
    expect(page.locator("#t-service")).to_have_text("Chứng thực · Ưu tiên")
    expect(page.locator("#t-print")).to_have_text("Xin ông/bà ghi nhớ số thứ tự của mình.")
    assert fits(page)
    font = page.eval_on_selector("#t-number", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= 0.25 * min(size)  # very large
    expect(page.locator("#t-home")).to_be_visible(timeout=8000)  # returns home by itself
    expect(page.locator("#priority")).to_have_attribute("aria-pressed", "false")
    page.close()


def test_a_failed_print_tells_the_citizen_to_remember_the_number(tmp_path, browser):
    srv = KioskServer(tmp_path / "var", env={"KIOSK_PRINTER": f"file:{tmp_path}/no-such-dir/lp0"})
    with srv:
        page = browser.new_page(viewport={"width": 800, "height": 480})
        page.goto(srv.base + "/ticket")
        page.click("[data-service=HT]")
        expect(page.locator("#t-number")).to_have_text("A001")
        expect(page.locator("#t-print")).to_have_text("Máy in đang gặp sự cố – xin ghi nhớ số thứ tự của ông/bà")
        assert fits(page)
        page.close()


def test_daily_maximum_is_a_plain_vietnamese_message(tmp_path, browser):
    services = '[{"code": "HT", "name": "Hộ tịch", "prefix": "A", "daily_max": 1}]'
    srv = KioskServer(tmp_path / "var", env={"KIOSK_SERVICES": services, "KIOSK_COUNTERS": '[{"number": 1}]'})
    with srv:
        requests.post(srv.base + "/api/tickets", json={"service": "HT"}, timeout=5)
        page = browser.new_page(viewport={"width": 800, "height": 480})
        page.goto(srv.base + "/ticket")
        page.click("[data-service=HT]")
        expect(page.locator("#t-error-text")).to_have_text(
            "Lĩnh vực này đã hết số thứ tự trong ngày hôm nay. Xin ông/bà liên hệ công chức."
        )
        page.close()


def test_clerk_console_with_the_keyboard_alone(server, browser):
    for _ in range(2):
        requests.post(server.base + "/api/tickets", json={"service": "DD"}, timeout=5)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server.base + "/clerk")
    expect(page.locator("#login-pin")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#login-counter")).to_be_focused()
    page.keyboard.press("ArrowDown")  # counter 2
    page.keyboard.press("Tab")
    page.keyboard.type("0000")
    page.keyboard.press("Enter")
    expect(page.locator("#login-error")).to_contain_text("Sai mã PIN")
    page.keyboard.type(PINS[2])
    page.keyboard.press("Enter")
    expect(page.locator("#c-title")).to_have_text("Quầy số 2 – Công chức 2")
    focused = page.locator(":focus")
    outline = focused.evaluate("e => getComputedStyle(e).outlineStyle")
    assert focused.get_attribute("data-action") == "next" and outline != "none"  # visible focus

    page.keyboard.press("n")
    expect(page.locator("#c-number")).to_have_text("C001")
    expect(page.locator("#c-status")).to_have_text("Đã gọi số C001.")
    page.keyboard.press("l")
    expect(page.locator("#c-status")).to_have_text("Đã gọi lại số C001.")
    page.keyboard.press("c")  # transfer: the choices are numbered keys
    expect(page.locator("#c-transfer")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#c-transfer")).to_be_hidden()
    page.keyboard.press("h")
    expect(page.locator("#c-status")).to_have_text("Đã hoàn thành số C001.")
    page.keyboard.press("p")
    expect(page.locator("#c-paused")).to_be_visible()
    page.keyboard.press("n")
    expect(page.locator("#c-status")).to_have_text("Quầy đang tạm dừng: xin bấm Tiếp tục trước.")
    page.keyboard.press("p")
    expect(page.locator("#c-paused")).to_be_hidden()
    page.keyboard.press("n")
    expect(page.locator("#c-number")).to_have_text("C002")
    page.keyboard.press("v")
    expect(page.locator("#c-status")).to_have_text("Số C002 vắng mặt.")
    snap = requests.get(server.base + "/api/queue", timeout=5).json()
    assert snap["counters"][1]["clerk"] == "Công chức 2" and snap["waiting"]["DD"] == 0
    page.close()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_board_shows_calls_within_a_second_readably(server, browser, size):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(server.base + "/display")
    assert fits(page)
    page.wait_for_timeout(300)  # the live stream is open
    ticket = requests.post(server.base + "/api/tickets", json={"service": "BT"}, timeout=5).json()
    clerk = requests.Session()
    clerk.post(server.base + "/api/clerk/login", json={"counter": 3, "pin": PINS[3]}, timeout=5)
    assert clerk.post(server.base + "/api/counters/3/next", timeout=5).json()["ticket"]["id"] == ticket["id"]
    row = page.locator('.d-row[data-counter="3"] .d-number')
    expect(row).to_have_text(ticket["display_number"], timeout=1000)
    expect(page.locator("#d-call")).to_have_text(
        f"Mời công dân có số thứ tự {ticket['display_number']} đến quầy số 3", timeout=1000
    )
    height = row.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert height >= 0.1 * size[1]  # ~10 % of the screen height: readable from 5 m
    clerk.post(server.base + "/api/counters/3/complete", timeout=5)
    page.close()


@pytest.mark.slow
def test_board_reconnects_by_itself_after_a_server_restart(tmp_path, browser):
    srv = KioskServer(tmp_path / "var", env={"KIOSK_ANNOUNCER": "none"})
    add_clerks(srv)
    srv.start()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(srv.base + "/display")
        page.wait_for_timeout(300)
        srv.kill()
        page.wait_for_timeout(1500)
        srv.start()
        requests.post(srv.base + "/api/tickets", json={"service": "HT"}, timeout=5)
        clerk = requests.Session()
        clerk.post(srv.base + "/api/clerk/login", json={"counter": 1, "pin": PINS[1]}, timeout=5)
        # The stream may reopen a moment after the server is back: call until the board shows it.
        for attempt in range(10):
            clerk.post(srv.base + "/api/counters/1/recall" if attempt else srv.base + "/api/counters/1/next", timeout=5)
            try:
                expect(page.locator('.d-row[data-counter="1"] .d-number')).to_have_text("A001", timeout=1000)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("the board never came back after the restart")
        page.close()
    finally:
        srv.stop()
