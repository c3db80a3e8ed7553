"""The central server's local time is its setting ``timezone``: the ingest's rollups, a rebuild, the records'
own figures, the pages and the dossier export all place a record in the same local day. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from central.app import create_central_app
from central.exports.dossiers import read_csv
from central.registry import add_device, add_user
from central.reports import figures, periods
from central.reports.localtime import DEFAULT_LOCAL_TIME, LocalTime
from central.reports.query import Scope
from central.reports.rebuild import rebuild
from common.errors import ConfigError
from tests.central.helpers import COMMUNE, TEST_PASSWORD, Signer, envelope, sign_in, wire_record
from tests.central.test_reports_rollups import snapshot

#: 23:30 on 10 March in Ho Chi Minh City, 01:30 on 11 March in Tokyo.
LATE = datetime(2026, 3, 10, 16, 30)


def test_the_zone_must_keep_one_whole_hour_offset_all_year():
    assert DEFAULT_LOCAL_TIME == LocalTime.of("Asia/Ho_Chi_Minh") and DEFAULT_LOCAL_TIME.hours == 7
    assert LocalTime.of("Asia/Tokyo").day(LATE) == date(2026, 3, 11)
    assert LocalTime.of("America/Sao_Paulo").utc_range(date(2026, 3, 10), date(2026, 3, 10)) == (
        datetime(2026, 3, 10, 3),
        datetime(2026, 3, 11, 3),
    )
    for zone in ("Europe/Paris", "Asia/Kolkata", "Nowhere/Village"):  # summer time, half hours, no such zone
        with pytest.raises(ConfigError, match=zone):
            LocalTime.of(zone)


def test_a_central_server_refuses_to_start_with_a_zone_its_reports_cannot_use(tmp_path):
    with pytest.raises(ConfigError, match="Europe/Paris"):
        create_central_app({"data_dir": str(tmp_path), "timezone": "Europe/Paris", "TESTING": True})


@pytest.fixture
def tokyo(tmp_path, central_db, server_clock):
    app = create_central_app(
        {
            "data_dir": str(tmp_path / "central"),
            "central_database_url": central_db,
            "timezone": "Asia/Tokyo",
            "TESTING": True,
        },
        clock=server_clock,
    )
    yield app
    app.extensions["central"].close()


def test_every_figure_places_a_record_in_the_local_day_of_the_setting(tokyo):
    central = tokyo.extensions["central"]
    assert central.local_time.zone == "Asia/Tokyo"
    device = add_device(central, "Quầy 1", COMMUNE, "Xã Tân Hòa")
    records = [
        wire_record("ticket", 1, datetime(2026, 3, 10, 15, 50)),
        wire_record("rating", 2, LATE, dossier_codes="HS-0001"),
        wire_record("rating", 3, datetime(2026, 3, 10, 2, 0), level="unsatisfied", points=0),
    ]
    assert Signer(tokyo.test_client(), device).post(envelope(device[0], records, LATE)).status_code == 200

    incremental = snapshot(central)
    with central.engine.begin() as conn:
        rebuild(conn, None, central.local_time)
    assert snapshot(central) == incremental, "the ingest and a rebuild place records in the same local days"

    with central.engine.connect() as conn:
        for period in (periods.from_range(date(2026, 3, 11), date(2026, 3, 11)), periods.month(2026, 3)):
            built = [
                figures.build(conn, period, Scope(), use_rollups=rollups, local_time=central.local_time)
                for rollups in (True, False)
            ]
            assert built[0] == built[1]

    add_user(central, "quantri", TEST_PASSWORD, "admin")
    web = sign_in(tokyo, "quantri")
    day = {"period": "custom", "from": "2026-03-11", "to": "2026-03-11"}
    report = web.get("/reports/data.json", query_string=day).json
    assert (report["summary"]["ratings"], report["queue"]["issued"]) == (1, 1)
    assert (
        web.get("/reports/data.json", query_string={**day, "from": "2026-03-10", "to": "2026-03-10"}).json["summary"][
            "ratings"
        ]
        == 1
    )  # the unsatisfied press of 11:00 on 10 March
    assert "(Asia/Tokyo)" in web.get("/reports", query_string={**day, "lang": "en"}).text
    (row,) = read_csv(web.get("/reports/dossiers.csv", query_string=day).data)
    assert row["time"].isoformat() == "2026-03-11T01:30:00+09:00"
