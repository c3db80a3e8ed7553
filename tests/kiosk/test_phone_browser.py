"""A citizen's phone (360×740) against a real `kiosk serve`: the QR code decoded out of the printed ticket
(the spool printer's ESC/POS raster, read back by zxing-cpp) opens the ticket's page; the place in line
drops as others are served, the page says which counter once called, offers the rating once served, and a
second rating of the same ticket is kept but not counted."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import requests
import zxingcpp
from playwright.sync_api import expect, sync_playwright

from tests.browser import launch
from tests.escpos_raster import decode
from tests.queue_helpers import PINS, add_clerks
from tests.server import KioskServer

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def printed_qr(spool: Path, number: str, timeout: float = 10.0) -> str:
    """The text of the QR code on the printed ticket ``number``, decoded from its ESC/POS bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(spool.glob(f"*-{number}-*.bin"))
        if found:
            picture = decode(found[-1].read_bytes()).convert("L")
            codes = [c for c in zxingcpp.read_barcodes(picture) if c.format == zxingcpp.BarcodeFormat.QRCode]
            assert len(codes) == 1, f"one QR code on ticket {number}, found {len(codes)}"
            return codes[0].text
        time.sleep(0.05)
    raise AssertionError(f"ticket {number} was not printed into {spool}")


@pytest.fixture
def server(tmp_path):
    spool = tmp_path / "spool"
    srv = KioskServer(tmp_path / "var", env={"KIOSK_PRINTER": f"spool:{spool}", "KIOSK_ANNOUNCER": "none"})
    srv.env["KIOSK_RATING_URL"] = srv.base + "/rate"  # the kiosk's address on the office Wi-Fi (here loopback)
    add_clerks(srv)
    srv.start()
    srv.spool = spool
    yield srv
    srv.stop()


def clerk_session(server: KioskServer, counter: int = 1) -> requests.Session:
    clerk = requests.Session()
    assert clerk.post(server.base + "/api/clerk/login", json={"counter": counter, "pin": PINS[counter]}).ok
    return clerk


def test_a_phone_follows_its_ticket_from_the_printed_qr_to_the_rating(server):
    tickets = [requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=10).json() for _ in range(3)]
    mine = tickets[-1]
    link = printed_qr(server.spool, mine["display_number"])
    assert link.startswith(server.base + "/t/") and mine["id"] not in link  # the page's secret, not the id

    clerk = clerk_session(server)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        page.goto(link)
        expect(page.locator("#p-number")).to_have_text(mine["display_number"])
        expect(page.locator("#p-service")).to_have_text("Hộ tịch")
        expect(page.locator("#p-position")).to_have_text("3")
        expect(page.locator("#p-ahead")).to_have_text("2")
        expect(page.locator("#p-live")).to_have_text("Đang cập nhật trực tiếp")
        page.locator("#p-alert-on").tap()  # the citizen turns on sound and vibration
        expect(page.locator("#p-alert-state")).to_be_visible()

        assert clerk.post(server.base + "/api/counters/1/next").json()["ticket"]["id"] == tickets[0]["id"]
        expect(page.locator("#p-position")).to_have_text("2")  # live, without reloading the page
        expect(page.locator("#p-ahead")).to_have_text("1")
        expect(page.locator("#p-recent li").first).to_contain_text(tickets[0]["display_number"])
        clerk.post(server.base + "/api/counters/1/next")
        expect(page.locator("#p-position")).to_have_text("1")
        expect(page.locator("#p-wait")).to_have_text("Ông/bà là người tiếp theo")

        page.evaluate("() => { window.__vibrations = []; navigator.vibrate = (p) => __vibrations.push(p) > 0; }")
        called_at = time.monotonic()
        assert clerk.post(server.base + "/api/counters/1/next").json()["ticket"]["id"] == mine["id"]
        expect(page.locator("#p-status-text")).to_have_text("Đã đến lượt ông/bà", timeout=1000)
        assert time.monotonic() - called_at < 1.5
        expect(page.locator("#p-counter-n")).to_have_text("1")
        size = page.locator(".p-counter").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 48, f"the counter is said in big letters ({size} px)"
        assert page.evaluate("window.__vibrations.length") == 1
        assert page.title().startswith("Quầy 1")
        expect(page.locator("#p-rate")).to_be_hidden()  # no rating before the service is completed
        page.screenshot(path=str(Path("test-artifacts") / "phone-called.png"), full_page=True)

        clerk.post(server.base + "/api/counters/1/complete")
        expect(page.locator("#p-rate")).to_be_visible()
        page.locator("label.level-very_satisfied").tap()
        page.locator("summary").tap()
        page.locator("input[name=q_time][value=satisfied]").check()
        page.locator("#p-comment").fill("Cán bộ hướng dẫn tận tình")
        page.locator("#p-send").tap()
        expect(page.locator("#p-rated")).to_be_visible()
        expect(page.locator("#p-rate")).to_be_hidden()
        expect(page.locator("#p-again")).to_be_hidden()
        page.screenshot(path=str(Path("test-artifacts") / "phone-rated.png"), full_page=True)

        page.reload()  # "rate later" cannot rate twice: the page remembers the ticket was rated
        expect(page.locator("#p-rated")).to_be_visible()
        expect(page.locator("#p-rate")).to_be_hidden()
        browser.close()

    token = link.rsplit("/", 1)[1]
    again = requests.post(f"{server.base}/t/{token}/rating", json={"level": "unsatisfied"}, timeout=10)
    assert again.status_code == 201 and again.json()["counted"] is False and again.json()["flag"] == "duplicate_ticket"
    db = sqlite3.connect(server.data_dir / "kiosk.db")
    try:
        ratings = db.execute("SELECT level, channel, counted, counter_number FROM ratings WHERE ticket_id = ?",
                             (mine["id"],)).fetchall()  # fmt: skip
        answers = db.execute("SELECT indicator, level FROM indicator_answers").fetchall()
        comments = db.execute("SELECT text FROM comments").fetchall()
    finally:
        db.close()
    assert sorted(ratings) == [("unsatisfied", "phone", 0, 1), ("very_satisfied", "phone", 1, 1)]
    assert answers == [("time", "satisfied")] and comments == [("Cán bộ hướng dẫn tận tình",)]


def test_the_page_in_english_and_a_wrong_token_is_a_plain_404(server):
    requests.post(server.base + "/api/tickets", json={"service": "CT"}, timeout=10)
    link = printed_qr(server.spool, "B001")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=PHONE, is_mobile=True)
        page.goto(link)
        expect(page.locator("#p-position")).to_have_text("1")
        page.locator(".lang-switch a").click()
        expect(page.locator("#p-number-label")).to_have_text("Your queue number")
        expect(page.locator("#p-wait")).to_have_text("You are next")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways ({width} px)"
        wrong = page.goto(link[:-4] + "AAAA")
        assert wrong.status == 404
        browser.close()
