"""The queue's screens (ticket, clerk console, board) and the live event stream behind them."""

from __future__ import annotations

import json
import re

import pytest

from common.errors import ConfigError
from tests.queue_helpers import issue, login, make_app

pytestmark = pytest.mark.staffed()  # the commune of tests/queue_helpers.py: clerks at counters 1–3


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not re.search(r"""(src|href)=["']https?://""", html), "screens must work offline"
    return html


def test_ticket_screen_is_vietnamese_with_a_clear_priority_choice(client):
    html = page(client, "/ticket")
    assert "Lấy số thứ tự" in html
    assert "Ưu tiên" in html and "Người cao tuổi, người khuyết tật, phụ nữ có thai" in html
    for name in ["Hộ tịch", "Chứng thực", "Đất đai", "Bảo trợ xã hội", "Người có công", "Tư pháp – khác"]:
        assert name in html
    assert "Máy in đang gặp sự cố – xin ghi nhớ số thứ tự của ông/bà" in html


def test_clerk_console_has_login_actions_and_shortcuts(client):
    html = page(client, "/clerk")
    for words in ["Đăng nhập", "Mã PIN", "Gọi số tiếp theo", "Gọi lại", "Vắng mặt", "Hoàn thành", "Chuyển", "Tạm dừng"]:
        assert words in html
    assert "Quầy số 3" in html and "<kbd>N</kbd>" in html and "In lại" in html


def test_display_board_shows_what_each_counter_serves(client):
    issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    html = page(client, "/display")
    assert "Số vừa gọi" in html and "Đang chờ" in html
    assert re.search(r'data-counter="1">\s*<span class="d-counter">1</span>\s*<span class="d-number">A001</span>', html)
    assert "Mời công dân có số thứ tự {number} đến quầy số {counter}" in html


def test_the_snapshot_lists_each_call_once_and_says_the_kiosks_time(client):
    issue(client)
    issue(client)
    login(client, 1)
    for action in ("next", "recall", "recall", "next"):
        client.post(f"/api/counters/1/{action}")
    snap = client.get("/api/queue").get_json()
    assert [(c["display_number"], c["recall"]) for c in snap["recent"]] == [("A002", False), ("A001", True)]
    assert snap["now"] == "2026-11-20T08:00:00+07:00"  # FakeClock 01:00 UTC, in Asia/Ho_Chi_Minh
    html = page(client, "/display")
    assert '<time id="d-clock" class="d-clock" aria-label="Thời gian">08:00</time>' in html


def test_the_clerk_log_in_lists_the_clerks_with_their_usual_counter_and_no_default_counter(client):
    login(client, 2)
    html = page(client, "/clerk")
    assert '<option value="CC01" data-counter="1">Nguyễn Thị Lan</option>' in html
    assert re.search(r'<select id="login-counter"[^>]*>\s*<option value="">— Chọn quầy —</option>', html)
    assert "Quầy số 2 – Trần Văn Minh đang đăng nhập" in html


def test_home_shows_the_rating_screen_by_default(client):
    assert "Ông/bà có hài lòng với sự phục vụ?" in page(client, "/")
    assert "Lấy số thứ tự" in page(client, "/ticket")


def test_home_screen_setting_puts_the_ticket_screen_at_the_root(tmp_path, clock):
    app = make_app(tmp_path / "var", clock, home_screen="ticket")
    try:
        client = app.test_client()
        assert "Lấy số thứ tự" in page(client, "/")
        assert "Ông/bà có hài lòng với sự phục vụ?" in page(client, "/rate")
    finally:
        app.extensions["kiosk"].close()


def test_a_wrong_home_screen_is_a_config_error(tmp_path, clock):
    with pytest.raises(ConfigError, match="home_screen"):
        make_app(tmp_path / "var", clock, home_screen="tickets")


def read_events(stream, wanted: str, limit: int = 50) -> dict:
    """Read SSE chunks until an event of kind ``wanted``; return its data."""
    buffer = ""
    for _ in range(limit):
        buffer += next(stream).decode()
        for block in buffer.split("\n\n")[:-1]:
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if fields.get("event") == wanted:
                return json.loads(fields["data"])
    raise AssertionError(f"no {wanted} event in {buffer!r}")


def test_the_event_stream_delivers_ticket_called(app, client):
    response = client.get("/api/events", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["X-Accel-Buffering"] == "no"
    stream = iter(response.response)
    assert next(stream).startswith(b"retry:")  # subscribed from here on
    issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    called = read_events(stream, "ticket_called")
    assert (called["display_number"], called["counter"], called["recall"]) == ("A001", 1, False)
    response.close()


def test_an_idle_stream_sends_ping_events_with_the_kiosks_local_time(client, clock):
    response = client.get("/api/events?heartbeat=0.2", buffered=False)
    stream = iter(response.response)
    next(stream)
    # FakeClock: 2026-11-20 01:00 UTC is 08:00 in Asia/Ho_Chi_Minh.
    assert next(stream) == b'event: ping\ndata: {"now": "2026-11-20T08:00:00+07:00"}\n\n'
    response.close()


def test_live_screens_cannot_take_every_web_server_thread(client):
    """A WSGI server that cannot hand streams to the live hub (here Flask's test client) serves each from a
    thread of its own: past MAX_THREADED of them a screen gets 503 and retries (under `kiosk serve` streams
    hold no thread: tests/kiosk/test_live_streams.py)."""
    from kiosk.live import MAX_THREADED

    streams = [client.get("/api/events", buffered=False) for _ in range(MAX_THREADED)]
    assert all(s.status_code == 200 for s in streams)
    refused = client.get("/api/events", buffered=False)
    assert refused.status_code == 503 and "close one" in refused.get_json()["error"]
    streams.pop().close()
    again = client.get("/api/events", buffered=False)
    assert again.status_code == 200
    for s in [*streams, again]:
        s.close()
    assert client.post("/api/tickets", json={"service": "HT"}).status_code == 201
