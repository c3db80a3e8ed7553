"""The posted documents in Chromium against a real `kiosk serve --demo`: "Niêm yết" from the ticket screen at the
kiosk's 800×480, the rules and the fee table big and without scrolling sideways, a form's PDF in its frame beside the
QR that takes it to a phone, back to the start after idle; and the display board showing the rules and fees between
calls, giving the screen to a call at once."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from common.posted_examples import FEES_ID, FORM_ID
from tests.server import KioskServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = KioskServer(
        tmp_path_factory.mktemp("posted") / "var",
        demo=True,
        env={"KIOSK_ANNOUNCER": "none", "KIOSK_DETAIL_SECONDS": "5"},
    )
    srv.env["KIOSK_RATING_URL"] = srv.base + "/rate"  # phones reach the kiosk (here on loopback)
    srv.start()
    yield srv
    srv.stop()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_the_posted_screen_at_800x480(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/ticket")
    page.click("text=Niêm yết")
    expect(page.locator("#n-title")).to_have_text("Niêm yết")
    expect(page.locator("#n-items a")).to_have_count(3)
    page.click("text=Bảng phí, lệ phí (cấp xã)")
    page.wait_for_url(f"{server.base}/niem-yet/{FEES_ID}")
    amount = page.locator("#n-fees tr", has_text="Chứng thực bản sao từ bản chính").locator(".n-amount")
    expect(amount).to_have_text("2.000 đ/trang")
    assert amount.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 18
    assert no_sideways_scroll(page)
    page.click("text=Quay lại")
    page.click("text=Tờ khai đăng ký khai sinh")
    frame = page.locator("#n-pdf")
    expect(frame).to_have_attribute("src", f"/niem-yet/{FORM_ID}.pdf#toolbar=0&view=FitH")
    box = frame.bounding_box()
    assert box["width"] >= 400 and box["height"] >= 300  # the form is readable beside its QR
    qr = page.locator(".n-qr img")
    expect(qr).to_be_visible()
    assert qr.evaluate("e => e.naturalWidth") > 100  # the QR image loaded
    assert no_sideways_scroll(page)
    page.wait_for_url(server.base + "/", timeout=12000)  # idle: back to the start
    page.close()


def test_the_board_rotates_rules_and_fees_between_calls_and_a_call_takes_the_screen(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(server.base + "/display?rest=1&turn=2")
    board = page.locator("#d-posted")
    expect(board).to_be_visible(timeout=5000)
    expect(board.locator("h2")).to_have_text("Nội quy Bộ phận Một cửa")
    body = board.locator(".d-posted-body")  # the whole text shows on a 720-line board, the last line included
    assert body.evaluate("e => e.scrollHeight <= e.clientHeight + 1"), "the rules are cut off at the bottom"
    expect(board.locator("h2")).to_have_text("Bảng phí, lệ phí (cấp xã)", timeout=5000)  # it turns
    expect(board).to_contain_text("2.000 đ/trang")
    ticket = requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=5).json()
    clerk = requests.Session()
    assert (
        clerk.post(server.base + "/api/clerk/login", json={"counter": 1, "pin": "1111"}, timeout=5).status_code == 200
    )
    if not board.is_visible():  # the call must find the board showing the posted documents
        expect(board).to_be_visible(timeout=5000)
    assert clerk.post(server.base + "/api/counters/1/next", timeout=5).json()["ticket"]["id"] == ticket["id"]
    expect(board).to_be_hidden(timeout=1000)  # the call takes the screen at once
    expect(page.locator('.d-row[data-counter="1"] .d-number')).to_have_text(ticket["display_number"])
    expect(page.locator("#d-call")).to_contain_text(ticket["display_number"])
    expect(board).to_be_visible(timeout=5000)  # idle again: the rules come back
    clerk.post(server.base + "/api/counters/1/complete", timeout=5)
    page.close()


@pytest.mark.parametrize("path", ["/niem-yet", f"/niem-yet/{FEES_ID}", f"/niem-yet/{FORM_ID}", "/niem-yet/RULES"])
def test_each_posted_screen_is_accessible_at_800x480(server, browser, path):
    """No serious axe violation with AAA contrast, touch targets of 60 px, no text under 18 px (elderly readers)."""
    from common.posted_examples import RULES_ID
    from tests.a11y import axe_violations, describe, small_targets, small_text

    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + path.replace("RULES", RULES_ID))
    found = axe_violations(page, enhanced_contrast=True)
    assert not found, describe(found)
    assert not small_targets(page), small_targets(page)
    assert not small_text(page), small_text(page)
    page.close()
