"""Hold and pick, from the counter to the commune's report: a hold that runs out is a no-show, a ticket called out
of turn is counted as such, a held ticket called back is served once — after a real signed sync to the central
server, on its reports page. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from central.registry import add_user
from kiosk.clock import FakeClock
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, TEST_PASSWORD, sign_in
from tests.queue_helpers import issue, login, make_app

DAY = "period=custom&from=2026-11-20&to=2026-11-20"  # the kiosk's FakeClock: 20 November 2026, 08:00 local


def card(page: str, card_id: str) -> int:
    found = re.search(rf'id="{card_id}"><div class="value">(\d+)<', page)
    assert found, f"no card {card_id} on the report"
    return int(found.group(1))


def test_expired_holds_and_picks_out_of_turn_reach_the_report(central_app, central, device, serve, tmp_path):
    server = serve(central_app)
    clock = FakeClock()
    kiosk_app = make_app(tmp_path / "kiosk", clock, central_url=server.url, device_id=device[0],
                         device_secret=device[1], commune_code=COMMUNE, hold_minutes=15)  # fmt: skip
    try:
        client = kiosk_app.test_client()
        login(client, 1)
        a, b, c = issue(client), issue(client), issue(client)
        assert client.post("/api/counters/1/next").get_json()["ticket"]["id"] == a["id"]
        assert client.post("/api/counters/1/hold", json={"reason": "missing_paper"}).status_code == 200
        clock.advance(16 * 60)  # A never came back with the paper
        assert client.get("/api/counters/1/queue").get_json()["held"] == []
        picked = client.post("/api/counters/1/call", json={"ticket_id": c["id"]})  # B was next: out of turn
        assert picked.status_code == 200
        clock.advance(120)
        assert client.post("/api/counters/1/complete").status_code == 200
        assert client.post("/api/counters/1/next").get_json()["ticket"]["id"] == b["id"]
        assert client.post("/api/counters/1/hold", json={"reason": "photocopy"}).status_code == 200
        clock.advance(300)
        assert client.post("/api/counters/1/call", json={"ticket_id": b["id"]}).status_code == 200  # back in time
        clock.advance(60)
        assert client.post("/api/counters/1/complete").status_code == 200
        report = SyncClient(kiosk_app.extensions["kiosk"], backoff=0.01, max_backoff=0.05).run()
        assert report.ok, report.message()
    finally:
        kiosk_app.extensions["kiosk"].close()

    add_user(central, "quantri", TEST_PASSWORD, "admin")
    page = sign_in(central_app, "quantri").get(f"/reports?{DAY}").get_data(as_text=True)
    assert card(page, "no-shows") == 1  # the expired hold
    assert card(page, "out-of-order") == 1  # C before B; B's return is not out of turn
    assert "gọi ngoài thứ tự" in page
