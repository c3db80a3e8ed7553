"""A visit of several fields from the counter to the central server (issue 25): one ticket for Hộ tịch and Chứng
thực, each field completed with its own dossier code, one rating; after a real signed sync the central server holds
one rating naming both fields served (``services``), both fields' completions as clerk actions, and the dossier
export gives each dossier the visit's rating. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from central.exports.dossiers import read_csv
from central.models import ClerkAction, Rating
from central.registry import add_user
from kiosk.clock import FakeClock
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, TEST_PASSWORD, sign_in
from tests.queue_helpers import login, make_app

DAY = "period=custom&from=2026-11-20&to=2026-11-20"  # the kiosk's FakeClock: 20 November 2026, 08:00 local


def test_one_visit_of_two_fields_reaches_the_central_server(central_app, central, device, serve, tmp_path):
    server = serve(central_app)
    clock = FakeClock()
    kiosk_app = make_app(
        tmp_path / "kiosk", clock, central_url=server.url, device_id=device[0], device_secret=device[1],
        commune_code=COMMUNE,
    )  # fmt: skip
    try:
        client = kiosk_app.test_client()
        login(client, 1)
        ticket = client.post("/api/tickets", json={"services": ["HT", "CT"], "priority": False}).get_json()
        assert client.post("/api/counters/1/next").status_code == 200
        client.post("/api/counters/1/dossier", json={"code": "000.00.12.H56-261120-0001"})
        clock.advance(300)
        assert client.post("/api/counters/1/complete").get_json()["ticket"]["service"] == "CT"
        client.post("/api/counters/1/dossier", json={"code": "000.00.12.H56-261120-0002"})
        clock.advance(120)
        assert client.post("/api/counters/1/complete").get_json()["ticket"]["status"] == "done"
        rated = client.post("/api/ratings", json={"level": "very_satisfied", "channel": "touch", "counter": 1})
        assert rated.get_json()["counted"]
        report = SyncClient(kiosk_app.extensions["kiosk"], backoff=0.01, max_backoff=0.05).run()
        assert report.ok, report.message()
    finally:
        kiosk_app.extensions["kiosk"].close()

    with central.engine.connect() as conn:
        ratings = conn.execute(select(Rating.ticket_id, Rating.services, Rating.service_code)).all()
        completes = conn.execute(
            select(ClerkAction.detail).where(ClerkAction.action == "complete").order_by(ClerkAction.seq)
        ).all()
    assert [tuple(r) for r in ratings] == [(ticket["id"], "HT CT", "CT")]
    assert [(d["service"], d["field"], d["fields"]) for (d,) in completes] == [("HT", 1, 2), ("CT", 2, 2)]

    add_user(central, "quantri", TEST_PASSWORD, "admin")
    rows = read_csv(sign_in(central_app, "quantri").get(f"/reports/dossiers.csv?{DAY}").data)
    assert [(r["dossier"], r["level_code"]) for r in rows] == [
        ("000.00.12.H56-261120-0001", "very_satisfied"),
        ("000.00.12.H56-261120-0002", "very_satisfied"),
    ]
