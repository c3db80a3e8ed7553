"""Hold and pick at the clerk console, in Chromium against a real `kiosk serve`, in Vietnamese at 1366×768: the
clerk puts a citizen on hold (a photocopy), the citizen's phone says "giữ chỗ" with the reason in plain words,
the clerk calls the next one, then calls the held one back with one press and completes; then picks a waiting
ticket out of turn from the list. Every action button, "Giữ chỗ" included, stays on the screen."""

from __future__ import annotations

import sqlite3

import pytest
import requests
from playwright.sync_api import expect

from tests.kiosk.test_phone_browser import PHONE, printed_qr, server  # noqa: F401 (fixture: printer spool, clerks)
from tests.queue_helpers import PINS

pytestmark = pytest.mark.browser


def _log_in(page, base: str) -> None:
    page.goto(base + "/clerk")
    page.select_option("#login-counter", "1")
    page.fill("#login-pin", PINS[1])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#c-title")).to_contain_text("1")


def test_hold_with_a_reason_then_call_back_then_pick_from_the_line(server, browser):  # noqa: F811
    base = server.base
    first, second, third, fourth = (
        requests.post(base + "/api/tickets", json={"service": "HT"}, timeout=10).json() for _ in range(4)
    )
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(printed_qr(server.spool, first["display_number"]))
    clerk = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in(clerk, base)
    board = browser.new_page(viewport={"width": 1280, "height": 720})
    board.goto(base + "/display")
    expect(board.locator("#d-held-box")).to_be_hidden()

    clerk.keyboard.press("n")
    expect(clerk.locator("#c-number")).to_have_text(first["display_number"])
    expect(phone.locator("#p-called")).to_be_visible()

    clerk.get_by_role("button", name="Giữ chỗ").click()
    clerk.get_by_role("button", name="Công dân đi photo giấy tờ").click()
    expect(clerk.locator("#c-status")).to_contain_text(f"Số {first['display_number']} được giữ chỗ đến")
    expect(clerk.locator("#c-number")).to_have_text("—")
    held_row = clerk.locator("#c-held tr")
    expect(held_row).to_have_count(1)
    expect(held_row).to_contain_text("Công dân đi photo giấy tờ")

    expect(phone.locator("#p-status-text")).to_have_text("Giữ chỗ: số của bạn vẫn được giữ")
    expect(phone.locator("#p-held-reason")).to_have_text("Công dân đi photo giấy tờ")
    expect(phone.locator("#p-held-counter")).to_have_text("1")

    expect(board.locator("#d-held li")).to_have_count(1)  # the board shows it held, not waiting
    expect(board.locator("#d-held li")).to_contain_text(first["display_number"])
    expect(board.locator("#d-held li")).to_contain_text("quầy 1, đến")

    _all_buttons_on_screen(clerk)

    clerk.keyboard.press("n")  # the next citizen while the first is photocopying
    expect(clerk.locator("#c-number")).to_have_text(second["display_number"])
    held_row.get_by_role("button").click()  # back from the photocopy: one press
    expect(clerk.locator("#c-status")).to_have_text(f"Đã gọi lại số {first['display_number']} đang giữ chỗ.")
    expect(clerk.locator("#c-number")).to_have_text(first["display_number"])
    expect(clerk.locator("#c-held-box")).to_be_hidden()
    expect(board.locator("#d-held-box")).to_be_hidden()
    expect(phone.locator("#p-called")).to_be_visible()
    clerk.keyboard.press("h")
    expect(phone.locator("#p-status-text")).to_have_text("Đã phục vụ")

    # the elderly man with the fourth ticket has waited at the wrong counter: called from the list
    row = clerk.locator("#c-line tr", has_text=fourth["display_number"])
    row.get_by_role("button", name=f"Gọi số {fourth['display_number']} ngay").click()
    expect(clerk.locator("#c-status")).to_have_text(f"Đã gọi số {fourth['display_number']} ngoài thứ tự.")
    expect(clerk.locator("#c-number")).to_have_text(fourth["display_number"])
    expect(clerk.locator("#c-line tr")).to_have_count(1)  # the third still waits
    expect(clerk.locator("#c-line tr")).to_contain_text(third["display_number"])

    db = sqlite3.connect(server.data_dir / "kiosk.db")
    try:
        marks = db.execute(
            "SELECT t.display_number, ca.action, json_extract(ca.detail, '$.held'), "
            "json_extract(ca.detail, '$.out_of_order'), json_extract(ca.detail, '$.reason') FROM clerk_actions ca "
            "JOIN tickets t ON t.id = ca.ticket_id WHERE ca.action IN ('call', 'hold') ORDER BY ca.seq"
        ).fetchall()
    finally:
        db.close()
    assert marks == [
        (first["display_number"], "call", None, None, None),
        (first["display_number"], "hold", None, None, "photocopy"),
        (second["display_number"], "call", None, None, None),
        (first["display_number"], "call", 1, None, None),
        (fourth["display_number"], "call", None, 1, None),
    ]
    clerk.close()
    phone.close()
    board.close()


def _all_buttons_on_screen(page) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    buttons = page.locator("[data-action]")
    outside = []
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        if box is None or box["y"] < 0 or box["y"] + box["height"] > 768 or box["x"] + box["width"] > 1366:
            outside.append((buttons.nth(i).inner_text(), box))
    assert not outside, outside
