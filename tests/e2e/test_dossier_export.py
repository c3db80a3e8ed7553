"""Dossier codes from the counter to the province's CSV: a clerk attaches the codes of the tickets she serves
on a kiosk, the citizens rate, the kiosk syncs through the signed protocol, and the central server lists the
ratings per dossier code — on the page's link and with `kiosk-central export-dossiers`, in the documented
format (docs/dossiers.md), within the reader's scope. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from click.testing import CliRunner

from central.cli import main
from central.exports.dossiers import HEADERS, read_csv
from central.registry import add_commune, add_user
from kiosk.clock import FakeClock
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, OTHER_COMMUNE, TEST_PASSWORD, sign_in
from tests.queue_helpers import issue, login, make_app

DAY = "period=custom&from=2026-11-20&to=2026-11-20"  # the kiosk's FakeClock: 20 November 2026, 08:00 local


def serve_citizen(client, clock, codes: list[str], level: str) -> None:
    """One citizen at counter 1: called, the dossier codes attached, completed, then the rating."""
    issue(client, "HT")
    assert client.post("/api/counters/1/next").status_code == 200
    for code in codes:
        assert client.post("/api/counters/1/dossier", json={"code": code}).status_code == 200
    assert client.post("/api/counters/1/complete").status_code == 200
    clock.advance(10)
    rated = client.post("/api/ratings", json={"level": level, "channel": "touch", "counter": 1})
    assert rated.status_code == 201 and rated.get_json()["counted"]
    clock.advance(120)


def test_ratings_per_dossier_code_from_the_counter_to_the_csv(central_app, central, device, serve, tmp_path):
    server = serve(central_app)
    clock = FakeClock()
    kiosk_app = make_app(
        tmp_path / "kiosk",
        clock,
        central_url=server.url,
        device_id=device[0],
        device_secret=device[1],
        commune_code=COMMUNE,
    )
    try:
        client = kiosk_app.test_client()
        login(client, 1)
        serve_citizen(client, clock, ["000.00.12.H56-261120-0001", "000.00.12.H56-261120-0002"], "very_satisfied")
        serve_citizen(client, clock, ["000.00.12.H56-261120-0003"], "unsatisfied")
        serve_citizen(client, clock, [], "satisfied")  # no dossier handed in: not in the export
        report = SyncClient(kiosk_app.extensions["kiosk"], backoff=0.01, max_backoff=0.05).run()
        assert report.ok, report.message()
    finally:
        kiosk_app.extensions["kiosk"].close()

    add_user(central, "quantri", TEST_PASSWORD, "admin")
    data = sign_in(central_app, "quantri").get(f"/reports/dossiers.csv?{DAY}").data
    assert data.startswith("\ufeff".encode()) and data.splitlines()[0].decode("utf-8-sig").split(",") == HEADERS
    rows = read_csv(data)
    assert [(r["dossier"], r["level_code"], r["points"]) for r in rows] == [
        ("000.00.12.H56-261120-0001", "very_satisfied", 2),
        ("000.00.12.H56-261120-0002", "very_satisfied", 2),
        ("000.00.12.H56-261120-0003", "unsatisfied", 0),
    ]
    first = rows[0]
    assert (first["level"], first["field"], first["field_code"], first["clerk"], first["clerk_code"]) == (
        "Rất hài lòng",
        "Hộ tịch",
        "HT",
        "Nguyễn Thị Lan",
        "CC01",
    )
    assert (first["unit_code"], first["site"]) == (COMMUNE, "Trung tâm Phục vụ hành chính công")
    assert first["time"].utcoffset().total_seconds() == 7 * 3600 and first["time"].date().isoformat() == "2026-11-20"
    assert rows[0]["rating_id"] == rows[1]["rating_id"] != rows[2]["rating_id"]
    assert rows[2]["level"] == "Không hài lòng"

    # the command writes the same file
    settings = central.settings
    env = {"KIOSK_DATA_DIR": str(settings["data_dir"]), "KIOSK_CENTRAL_DATABASE_URL": settings["central_database_url"]}
    out = tmp_path / "ma-ho-so.csv"
    done = CliRunner().invoke(
        main,
        ["export-dossiers", "--from", "2026-11-20", "--to", "2026-11-20", "--out", str(out), "--commune", COMMUNE],
        env=env,
        obj={},
    )
    assert done.exit_code == 0 and "3 rows" in done.output, done.output
    assert out.read_bytes() == data
    refused = CliRunner().invoke(
        main, ["export-dossiers", "--from", "2026-11-21", "--to", "2026-11-20", "--out", str(out)], env=env, obj={}
    )
    assert refused.exit_code == 2 and "swap --from and --to" in refused.output

    # another commune's viewer: refused for this commune, an empty file for its own
    add_commune(central, OTHER_COMMUNE, "Xã Bên Cạnh")
    add_user(central, "xem-ben", TEST_PASSWORD, "commune_viewer", OTHER_COMMUNE)
    other = sign_in(central_app, "xem-ben")
    assert other.get(f"/reports/dossiers.csv?{DAY}&commune={COMMUNE}").status_code == 403
    assert read_csv(other.get(f"/reports/dossiers.csv?{DAY}").data) == []
