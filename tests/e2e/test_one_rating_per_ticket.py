"""One ticket, one counted rating — on the kiosk and in the central report (issue 12, case 2).

The attack as it was reported: one client sends 84 "Không hài lòng" for one ticket in 31 s. Before, all 84
were counted, all attributed to the clerk, and the central report showed her with n = 84 and 0 flagged.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from central.registry import add_user
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, TEST_PASSWORD, sign_in
from tests.queue_helpers import issue, login, make_app


def test_the_report_counts_one_rating_for_a_ticket_rated_84_times(central_app, central, device, serve, tmp_path, clock):
    server = serve(central_app)
    app = make_app(
        tmp_path / "pi",
        clock,
        central_url=server.url,
        device_id=device[0],
        device_secret=device[1],
        commune_code=COMMUNE,
    )
    kiosk = app.extensions["kiosk"]
    try:
        clerk = app.test_client()
        ticket = issue(clerk)
        clerk_id = login(clerk, 1).json["clerk"]["id"]
        assert clerk.post("/api/counters/1/next").status_code == 200
        assert clerk.post("/api/counters/1/complete").status_code == 200
        for _ in range(84):
            screen = app.test_client()
            screen.get("/?counter=1")
            body = {"level": "unsatisfied", "counter": 1, "ticket_id": ticket["id"]}
            assert screen.post("/api/ratings", json=body).status_code == 201
            clock.advance(31 / 84)
        report = SyncClient(kiosk, backoff=0.01, max_backoff=0.05).run()
        assert report.ok, report.message()
    finally:
        kiosk.close()

    add_user(central, "quantri", TEST_PASSWORD, "admin")
    client = sign_in(central_app, "quantri")
    data = client.get("/reports/data.json?period=month&year=2026&month=11").json
    assert (data["summary"]["ratings"], data["summary"]["flagged"]) == (1, 83)
    [her] = [c for c in data["clerks"] if c["id"] == clerk_id]
    assert (her["ratings"], her["flagged"]) == (1, 83)
