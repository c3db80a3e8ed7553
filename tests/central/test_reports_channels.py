"""Phone ratings (issue 15) reported apart, and in the totals, at the central server: per channel in the
report's figures, page and exports, from the rollups and from the records alike, and kept exact at ingest.

Runs on SQLite and PostgreSQL (the ``central`` fixture is parametrised in conftest.py).
"""

from __future__ import annotations

from central import exports
from central.reports import figures, periods
from central.reports.query import Scope
from central.reports.rebuild import rebuild
from tests.central import report_fixture as fx
from tests.central.test_reports_exports import csv_sections
from tests.central.test_reports_rollups import snapshot


def build(central, use_rollups: bool = True, **scope):
    with central.engine.connect() as conn:
        return figures.build(conn, periods.quarter(2026, 1), Scope(communes=("C",), **scope), use_rollups=use_rollups)


def test_phone_ratings_are_reported_apart_and_in_the_totals(central):
    fx.load(central)
    feed = fx.Feed(central, "C", fx.Feed.device_of(central, "C"), seq=1000, counter=100)
    feed.rating("2026-03-10T10:00:00", "very_satisfied", "HT", 1, channel="phone")
    feed.rating("2026-03-10T15:00:00", "unsatisfied", "HT", 1, channel="phone")
    feed.rating("2026-03-10T15:00:01", "satisfied", "HT", 1, channel="phone", counted=False)  # flagged
    feed.rating("2026-03-11T09:00:00", "satisfied", "CT", 2, channel="touch")
    feed.send()

    report = build(central)
    ways = {row["channel"]: row for row in report["channels"]}
    assert [row["channel"] for row in report["channels"]][:3] == ["touch", "button", "phone"]
    phone = ways["phone"]
    assert (phone["ratings"], phone["satisfied_plus"], phone["satisfied_plus_pct"], phone["flagged"]) == (2, 1, 50.0, 1)
    assert ways["touch"]["ratings"] == 1
    assert sum(row["ratings"] for row in report["channels"]) == report["summary"]["ratings"]  # all in the totals
    assert sum(row["flagged"] for row in report["channels"]) == report["summary"]["flagged"]
    assert build(central, use_rollups=False)["channels"] == report["channels"]  # rollups = records
    assert build(central, service="HT")["channels"] == build(central, use_rollups=False, service="HT")["channels"]
    by_counter = {row["channel"]: row["ratings"] for row in build(central, counter=2)["channels"]}
    assert by_counter["phone"] == 0 and by_counter["touch"] == 1

    incremental = snapshot(central)
    assert any(
        row[5] == "phone" for row in incremental["rollup_channels"]
    )  # (commune, site, grain, start, field, channel…)
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == incremental

    sections = csv_sections(exports.render(report, "csv", "Xã Cẩm Hà"))
    rows = {row[0]: row for row in sections["Theo kênh đánh giá"][1:]}
    assert rows["Điện thoại (mã QR trên phiếu)"][1:4] == ["2", "50,0", "50,0"]


def test_the_reports_page_shows_the_channels(central_app, central):
    from central.registry import add_user
    from tests.central.helpers import sign_in

    fx.load(central)
    add_user(central, "admin", "mật-khẩu-đủ-dài-1", "admin")
    client = sign_in(central_app, "admin", "mật-khẩu-đủ-dài-1")
    page = client.get("/reports?kind=quarter&year=2026&quarter=1").get_data(as_text=True)
    assert 'id="channel-phone"' in page and "Điện thoại (mã QR trên phiếu)" in page
    assert (
        client.get("/reports/data.json?kind=quarter&year=2026&quarter=1").get_json()["channels"][1]["channel"]
        == "button"
    )
