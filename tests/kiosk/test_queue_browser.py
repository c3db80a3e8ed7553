"""The queue's screens in Chromium against a real `kiosk serve`: the ticket screen fits, says what printed and
forgets "Priority"; the clerk console works from the keyboard alone, asks for the counter and keeps one clerk per
counter; the board follows calls within a second and through a server restart, with the kiosk's clock, each call
once, AAA contrast in every frame of its flash and no old call announced again."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from tests.queue_helpers import PINS, add_clerks
from tests.server import KioskServer

pytestmark = pytest.mark.browser

SIZES = [(800, 480), (1280, 720), (1920, 1080)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("queue-browser") / "var"
    srv = KioskServer(data, env={"KIOSK_TICKET_SECONDS": "2", "KIOSK_ANNOUNCER": "none", "KIOSK_PRIORITY_SECONDS": "3"})
    add_clerks(srv)
    srv.start()
    yield srv
    srv.stop()


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
    expect(page.locator("#login-clerk")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # Công chức 2: his usual counter, 2, is chosen for him
    page.keyboard.press("Tab")
    expect(page.locator("#login-counter")).to_be_focused()
    expect(page.locator("#login-counter")).to_have_value("2")
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
    page.click("#logout")
    expect(page.locator("#c-login")).to_be_visible()
    page.close()


def test_priority_is_off_after_a_ticket_and_after_a_while_untouched(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/ticket")

    def take(expected_service: str) -> None:
        page.click("[data-service=HT]")
        expect(page.locator("#t-result")).to_be_visible()
        expect(page.locator("#t-service")).to_have_text(expected_service)
        page.click("#t-result [data-home]")
        expect(page.locator("#t-home")).to_be_visible()

    page.click("#priority")
    page.click("[data-service=HT]")
    expect(page.locator("#t-service")).to_have_text("Hộ tịch · Ưu tiên")
    expect(page.locator("#priority")).to_have_attribute("aria-pressed", "false")  # at once, for the next citizen
    page.click("#t-result [data-home]")
    take("Hộ tịch")
    # A citizen taps "Ưu tiên" and walks away: after priority_seconds (3 s here) it is off again.
    page.click("#priority")
    expect(page.locator("#priority")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(1500)
    page.mouse.click(5, 5)  # a touch elsewhere on the screen restarts the wait
    page.wait_for_timeout(2000)
    expect(page.locator("#priority")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#priority")).to_have_attribute("aria-pressed", "false", timeout=3000)
    take("Hộ tịch")
    issued = sqlite3.connect(server.data_dir / "kiosk.db").execute(
        "SELECT priority FROM tickets WHERE service_code = 'HT' ORDER BY seq DESC LIMIT 3"
    )
    assert [bool(p) for (p,) in issued] == [False, False, True]
    page.close()


def clerk_page(browser, server):
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()  # its own session cookie
    page.goto(server.base + "/clerk")
    expect(page.locator("#login-clerk")).to_be_visible()
    return page


def test_clerk_login_asks_for_the_counter_and_preselects_the_usual_one(server, browser):
    page = clerk_page(browser, server)
    expect(page.locator("#login-counter")).to_have_value("")  # never a silent "counter 1"
    page.fill("#login-pin", PINS[3])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Xin chọn quầy làm việc.")
    expect(page.locator("#login-counter")).to_be_focused()
    assert requests.get(server.base + "/api/queue", timeout=5).json()["counters"][2]["clerk"] is None
    page.select_option("#login-clerk", label="Công chức 3")
    expect(page.locator("#login-counter")).to_have_value("3")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#c-title")).to_have_text("Quầy số 3 – Công chức 3")
    page.click("#logout")
    page.context.close()


def test_one_clerk_per_counter_a_held_counter_warns_and_needs_a_confirmation(server, browser):
    first = clerk_page(browser, server)
    first.select_option("#login-clerk", label="Công chức 1")
    first.fill("#login-pin", PINS[1])
    first.click("#login-form button[type=submit]")
    expect(first.locator("#c-title")).to_have_text("Quầy số 1 – Công chức 1")

    second = clerk_page(browser, server)
    held = second.locator("#login-counter option[value='1']")
    expect(held).to_have_text("Quầy số 1 – Công chức 1 đang đăng nhập")
    second.select_option("#login-clerk", label="Công chức 3")
    second.select_option("#login-counter", "1")
    expect(second.locator("#login-held")).to_have_text(
        "Công chức 1 đang đăng nhập tại quầy số 1. Đăng nhập ở quầy này sẽ đăng xuất Công chức 1."
    )
    second.fill("#login-pin", PINS[3])
    second.click("#login-form button[type=submit]")
    confirm = second.locator("#login-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.locator("p")).to_have_text(
        "Quầy số 1 đang do Công chức 1 đăng nhập. Nhận quầy này? Công chức 1 sẽ bị đăng xuất."
    )
    # Refused: he chooses another counter; nobody was logged out.
    second.click("#login-cancel")
    expect(confirm).to_be_hidden()
    expect(second.locator("#c-login")).to_be_visible()
    first.keyboard.press("p")
    expect(first.locator("#c-paused")).to_be_visible()  # the first clerk still works
    first.keyboard.press("p")
    assert requests.get(server.base + "/api/queue", timeout=5).json()["counters"][0]["clerk"] == "Công chức 1"

    # Confirmed: he takes the counter, and the first console says why it is back at the log-in.
    second.click("#login-form button[type=submit]")
    expect(confirm).to_be_visible()
    second.click("#login-take")
    expect(second.locator("#c-title")).to_have_text("Quầy số 1 – Công chức 3")
    expect(first.locator("#c-login")).to_be_visible(timeout=3000)
    expect(first.locator("#login-error")).to_have_text("Công chức 3 đã nhận quầy số 1: ông/bà đã được đăng xuất.")
    assert requests.get(server.base + "/api/queue", timeout=5).json()["counters"][0]["clerk"] == "Công chức 3"
    second.click("#logout")
    first.context.close()
    second.context.close()


def test_the_reprint_message_tells_what_the_printer_did(tmp_path, browser):
    srv = KioskServer(tmp_path / "var", env={"KIOSK_PRINTER": f"file:{tmp_path}/no-such-dir/lp0"})
    add_clerks(srv)
    with srv:
        ticket = requests.post(srv.base + "/api/tickets", json={"service": "HT"}, timeout=10).json()
        page = clerk_page(browser, srv)
        page.select_option("#login-clerk", label="Công chức 1")
        page.fill("#login-pin", PINS[1])
        page.click("#login-form button[type=submit]")
        row = page.locator("#c-line tr", has_text=ticket["display_number"])
        expect(row).to_contain_text("in lỗi")
        row.get_by_role("button", name="In lại").click()  # the row also has "Gọi" (call it out of turn)
        expect(page.locator("#c-status")).to_have_text(
            f"Chưa in lại được phiếu số {ticket['display_number']}: máy in mất kết nối.", timeout=10000
        )
        expect(page.locator("#c-status")).to_have_class("c-status c-error")
        page.context.close()


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
def test_board_reconnects_by_itself_after_a_server_restart_and_announces_no_old_call(tmp_path, browser):
    srv = KioskServer(tmp_path / "var", env={"KIOSK_ANNOUNCER": "none"})
    add_clerks(srv)
    srv.start()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(srv.base + "/display")
        page.wait_for_timeout(300)
        requests.post(srv.base + "/api/tickets", json={"service": "HT"}, timeout=5)
        call(srv, 1)
        footer = page.locator("#d-call")
        expect(footer).to_have_text("Mời công dân có số thứ tự A001 đến quầy số 1", timeout=2000)
        page.wait_for_function(  # the call's flash is over
            "document.querySelector('.d-row[data-counter=\"1\"]').getAnimations({subtree: true}).length === 0"
        )
        srv.kill()
        expect(footer).to_have_text("Đang kết nối lại…", timeout=30000)
        srv.start()
        expect(page.locator("html")).not_to_have_class("live-down", timeout=30000)
        # Back: the counter still shows A001, but the footer does not announce it again as if it were new.
        expect(footer).to_have_text("")
        expect(page.locator('.d-row[data-counter="1"] .d-number')).to_have_text("A001")
        flashing = page.locator('.d-row[data-counter="1"]').evaluate("r => r.getAnimations({subtree: true}).length")
        assert flashing == 0
        page.reload()  # the board's own restart: nothing announced either
        expect(page.locator('.d-row[data-counter="1"] .d-number')).to_have_text("A001")
        page.wait_for_timeout(500)
        expect(footer).to_have_text("")
        # A new call after the restart reaches the board.
        requests.post(srv.base + "/api/tickets", json={"service": "HT"}, timeout=5)
        call(srv, 1)
        expect(footer).to_have_text("Mời công dân có số thứ tự A002 đến quầy số 1", timeout=2000)
        assert page.locator("#d-recent li strong").all_inner_texts() == ["A002", "A001"]
        page.close()
    finally:
        srv.stop()


def call(server: KioskServer, counter: int, action: str = "next") -> dict:
    clerk = requests.Session()
    response = clerk.post(
        server.base + "/api/clerk/login", json={"counter": counter, "pin": PINS[counter], "take_over": True}, timeout=5
    )
    assert response.ok, response.text
    answer = clerk.post(f"{server.base}/api/counters/{counter}/{action}", timeout=5)
    assert answer.ok, answer.text
    return answer.json()["ticket"] if answer.status_code == 200 else None


def test_the_board_shows_the_kiosks_time_not_the_board_computers(server, browser):
    # The board computer's zone is New York; the kiosk's is Asia/Ho_Chi_Minh (11 or 12 hours apart).
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, timezone_id="America/New_York")
    page = context.new_page()
    page.goto(server.base + "/display")
    kiosk_time = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    shown = page.locator("#d-clock").inner_text()
    expected = {(kiosk_time + timedelta(minutes=m)).strftime("%H:%M") for m in (-1, 0, 1)}
    assert shown in expected, (shown, expected)
    browser_time = page.evaluate("(() => { const d = new Date(); return [d.getHours(), d.getMinutes()]; })()")
    assert shown != f"{browser_time[0]:02d}:{browser_time[1]:02d}"
    page.wait_for_timeout(1500)  # after the script's own ticking, still the kiosk's time
    assert page.locator("#d-clock").inner_text() in expected
    context.close()


def test_a_recall_is_listed_once_and_every_frame_of_the_flash_keeps_aaa_contrast(server, browser):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(server.base + "/display")
    page.wait_for_timeout(300)  # the live stream is open
    requests.post(server.base + "/api/tickets", json={"service": "NCC"}, timeout=5)
    ticket = call(server, 3)
    number = ticket["display_number"]
    expect(page.locator('.d-row[data-counter="3"] .d-number')).to_have_text(number)
    for _ in range(2):
        call(server, 3, "recall")
    page.wait_for_timeout(500)
    recent = page.locator("#d-recent li strong")
    assert recent.all_inner_texts().count(number) == 1 and recent.first.inner_text() == number
    page.reload()  # the snapshot lists it once too
    assert page.locator("#d-recent li strong").all_inner_texts().count(number) == 1

    call(server, 3, "recall")
    row = page.locator('.d-row[data-counter="3"]')
    expect(row).to_have_class("d-row d-flash")
    frames = row.evaluate(
        """row => {
        const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(v => {
            v = v / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
        const animations = row.getAnimations({ subtree: true });
        animations.forEach(a => a.pause());
        const out = [];
        for (let t = 0; t <= 4000; t += 25) {
          animations.forEach(a => { a.currentTime = t; });
          const bg = getComputedStyle(row).backgroundColor;
          for (const el of row.children) {
            if (!el.textContent.trim()) continue;
            out.push({ t, cls: el.className, color: getComputedStyle(el).color, bg, ratio: ratio(getComputedStyle(el).color, bg) });
          }
        }
        return { count: animations.length, out };
    }"""
    )
    assert frames["count"] >= 2  # the row and its counter number flash
    worst = min(frames["out"], key=lambda f: f["ratio"])
    assert worst["ratio"] >= 7, worst
    assert {f["bg"] for f in frames["out"]} == {"rgb(249, 168, 37)", "rgb(19, 49, 77)"}  # mustard or dark, no blend
    page.close()
