"""The manager's live panel on the kiosk (issue 25): each counter's state and what it serves, for how long; the
waiting per field and the longest wait; a mark past the commune's thresholds (with the kiosk's FakeClock)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from kiosk import admin as admin_auth
from kiosk.clock import FakeClock
from kiosk.db import transaction
from tests.queue_helpers import issue, login

pytestmark = pytest.mark.staffed(panel_wait_alert_minutes=30, panel_pause_alert_minutes=20)

PASSWORD = "mat-khau-quan-tri"


@pytest.fixture
def clock():
    return FakeClock(start=datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # 08:00 in the commune


@pytest.fixture
def manager(app, kiosk):
    """A second client, signed in as administrator (the clerks use ``client``)."""
    with transaction(kiosk.sessions) as s:
        admin_auth.set_password(s, PASSWORD)
    manager = app.test_client()
    page = manager.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert manager.post("/admin/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302
    return manager


def counter(panel: dict, number: int) -> dict:
    return next(c for c in panel["counters"] if c["number"] == number)


def test_panel_needs_the_admin(client):
    assert client.get("/admin/panel").status_code == 302
    assert client.get("/admin/panel.json").status_code == 302


def test_counters_serving_waiting_and_marks_past_the_thresholds(client, manager, clock):
    login(client, 1)
    first = issue(client, "HT")
    issue(client, "HT")
    clock.advance(5 * 60)
    assert client.post("/api/counters/1/next").get_json()["ticket"]["id"] == first["id"]
    clock.advance(90)

    panel = manager.get("/admin/panel.json").get_json()
    one = counter(panel, 1)
    assert one["state"] == "open" and one["clerk"] == "Nguyễn Thị Lan"
    assert one["serving"]["display_number"] == first["display_number"] and one["serving"]["seconds"] == 90
    assert counter(panel, 2)["state"] == "closed" and counter(panel, 2)["serving"] is None
    ht = next(f for f in panel["fields"] if f["code"] == "HT")
    assert ht["waiting"] == 1 and ht["longest_seconds"] == 5 * 60 + 90 and not ht["alert"]
    assert panel["alerts"] == 0

    clock.advance(29 * 60)  # the second ticket has now waited 35 min 30 s: over the commune's 30
    panel = manager.get("/admin/panel.json").get_json()
    assert panel["longest"]["alert"] and panel["longest"]["seconds"] == 35 * 60 + 30
    page = re.sub(r"\s+", " ", manager.get("/admin/panel").get_data(as_text=True))
    assert 'data-field="HT" class="alert"' in page and "vượt ngưỡng" in page
    assert "35 phút 30 giây" in page

    assert client.post("/api/counters/1/pause").status_code == 200
    clock.advance(21 * 60)
    panel = manager.get("/admin/panel.json").get_json()
    one = counter(panel, 1)
    assert one["state"] == "paused" and one["paused_seconds"] == 21 * 60 and one["alert"]
    page = re.sub(r"\s+", " ", manager.get("/admin/panel/part").get_data(as_text=True))
    assert "Tạm dừng 21 phút 0 giây" in page
