"""The clerk console's line in calling order, in Chromium against a real `kiosk serve` (1366×768, Vietnamese): a
booking whose time has come is listed first, above the walk-ins who came before it, and "next" calls it; then the
walk-in that waited (a booking does not go twice in a row) heads the line."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.a11y import axe_violations, describe
from tests.kiosk.test_bookings_day_browser import CODE, server  # noqa: F401 (fixture: a booking 5 minutes ago)
from tests.kiosk.test_holds_browser import _log_in

pytestmark = pytest.mark.browser


def test_the_due_booking_is_listed_first_and_next_calls_it(server, browser):  # noqa: F811
    base, at = server.base, f"{server.booked:%H:%M}"

    def take(body: dict) -> str:
        return requests.post(base + "/api/tickets", json=body, timeout=10).json()["display_number"]

    walk_in, urgent = take({"service": "HT"}), take({"service": "CT", "priority": True})
    answer = requests.post(base + "/api/checkin", json={"code": CODE}, timeout=10)
    assert answer.status_code == 201, answer.text
    booked = answer.json()["display_number"]

    clerk = browser.new_page(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    _log_in(clerk, base)
    rows = clerk.locator("#c-line tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(booked)  # checked in last, listed first: its time has come
    expect(rows.nth(0).locator(".c-booked")).to_have_text(f"Đặt lịch {at}")
    expect(rows.nth(0)).to_have_class("c-next")
    expect(rows.nth(1)).to_contain_text(urgent)
    expect(rows.nth(2)).to_contain_text(walk_in)
    violations = axe_violations(clerk)
    assert not violations, describe(violations)

    clerk.keyboard.press("n")
    expect(clerk.locator("#c-number")).to_have_text(booked)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(urgent)
    clerk.keyboard.press("n")
    expect(clerk.locator("#c-number")).to_have_text(urgent)
    expect(rows.nth(0)).to_contain_text(walk_in)
    clerk.close()
