"""GET /healthz: the fields of DESIGN.md, with values that follow what happened."""

from __future__ import annotations

import os


def test_health_reports_database_unsynced_records_and_clock(client, clock):
    report = client.get("/healthz")
    assert report.status_code == 200
    assert set(report.json) >= {"db", "printer", "unsynced", "last_sync", "clock_synced"}
    assert report.json["db"] == "ok" and report.json["unsynced"] == 0 and report.json["last_sync"] is None

    client.post("/api/ratings", json={"level": "satisfied", "criteria": {"time": "satisfied"}, "comment": "Tốt"})
    client.post("/api/ratings", json={"level": "very_satisfied", "counter": 2})
    assert client.get("/healthz").json["unsynced"] == 4  # two ratings, one indicator answer, one comment

    clock.set_synced(False)
    assert client.get("/healthz").json["clock_synced"] is False


def test_health_says_when_the_database_is_gone(client, kiosk):
    path = kiosk.settings.database_url.split("///", 1)[1]
    kiosk.ratings.close()
    kiosk.engine.dispose()
    os.rename(path, path + ".moved")
    os.makedirs(path)  # a directory where the database file was: SQLite cannot open it
    try:
        report = client.get("/healthz")
        assert report.status_code == 503
        assert report.json["db"] == "damaged" and "replaced" in report.json["db_detail"]
    finally:
        os.rmdir(path)
        os.rename(path + ".moved", path)


def test_health_says_the_last_upgrade_was_rolled_back(client, kiosk):
    assert client.get("/healthz").json["upgrade"] is None  # no upgrade tried yet
    # what systemd/kiosk-upgrade.sh writes after putting the previous package back
    (kiosk.settings.data_path / "upgrade.json").write_text(
        '{"outcome": "rolled_back", "from": "0.1.0", "to": "0.1.1", "at": "2026-12-06T02:14:00Z",'
        ' "detail": "kiosk.service did not reach READY and answer /healthz within 60 s"}'
    )
    report = client.get("/healthz")
    assert report.status_code == 200  # the previous version serves: the kiosk is healthy
    assert report.json["upgrade"]["outcome"] == "rolled_back" and report.json["upgrade"]["to"] == "0.1.1"
    assert "upgrade rolled back" in report.json["warnings"]
