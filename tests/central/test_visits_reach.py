"""Visits and services apart (central.reports.visits) come from the rollups (rollup_services), so a province's
year counts the services of a visit's earlier fields and its rating for each field and clerk — as a commune's day
does — and every export renders. The rollups are the same whatever order the records arrive in, and a rebuild
gives them again row for row (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from central import exports
from central.reports import figures, periods
from central.reports.query import Scope
from central.reports.rebuild import rebuild
from tests.central import report_fixture as fx
from tests.central.test_reports_rollups import snapshot

# --- the records (worked out by hand) ---------------------------------------------------------------------------
# commune A, 10 March 2026: visit V of two fields — Hộ tịch at counter 1 by A1 (called 08:02, done 08:12: 600 s),
#   then Chứng thực at counter 2 by A2 (08:14–08:26: 720 s); rated very satisfied at counter 2 (A2), "HT CT".
# commune B, 1 July 2026: visit W of one field — Hộ tịch at counter 1 by B1 (09:05–09:13: 480 s), rated satisfied.
# A province's year: 2 visits, 3 services; service time (600 + 720 + 480) / 3 = 600 s = 10.0 min.
#   Hộ tịch: 1 visit ended there (W), 2 services, (600 + 480) / 2 = 540 s = 9.0 min; 2 ratings (W's, and V's
#   once more for its Hộ tịch). Chứng thực: 1 visit (V), 1 service, 12.0 min; 1 rating.
#   A1: 1 service, no visit ended, 1 rating (V's, for his field); A2 and B1: 1 service, 1 visit, 1 rating each.


def _records(central) -> tuple[dict[str, fx.Feed], dict[str, str]]:
    """Communes A and B, their kiosks and clerks, and the records above, not sent yet."""
    from central.registry import add_commune, add_device
    from kiosk.db import transaction
    from tests.central.helpers import import_catalog

    add_commune(central, "A", "Xã An Bình", "D1", "P1")
    add_commune(central, "B", "Xã Bình Minh", "D1", "P1")
    feeds = {code: fx.Feed(central, code, add_device(central, f"Kiosk {code}", code)[0]) for code in "AB"}
    with transaction(central.sessions) as s:
        clerks = [{"code": "A1", "name": "Nguyễn Văn An", "pin": "1111", "counter": 1}]
        clerks.append({"code": "A2", "name": "Trần Thị Bình", "pin": "2222", "counter": 2})
        import_catalog(s, "A", {"clerks": clerks})
        import_catalog(s, "B", {"clerks": [{"code": "B1", "name": "Lê Văn Cường", "pin": "3333", "counter": 1}]})
    ids = {**fx.clerk_ids(central, "A"), **fx.clerk_ids(central, "B")}
    a1, a2, b1 = ids["A1"], ids["A2"], ids["B1"]
    fa, fb = feeds["A"], feeds["B"]
    v = fa.ticket("2026-03-10T08:00:00", "HT", 1)
    fa.action("2026-03-10T08:02:00", "call", v, 1, a1)
    fa.action("2026-03-10T08:12:00", "complete", v, 1, a1, {"service": "HT", "field": 1, "fields": 2})
    fa.action("2026-03-10T08:12:00", "transfer", v, 1, a1, {"from": "HT", "to": "CT", "next_field": True})
    fa.action("2026-03-10T08:14:00", "call", v, 2, a2)
    fa.action("2026-03-10T08:26:00", "complete", v, 2, a2, {"service": "CT", "field": 2, "fields": 2})
    rating = fa.rating("2026-03-10T08:27:00", "very_satisfied", "CT", 2, a2)
    rating.update(ticket_id=v["id"], services="HT CT")
    w = fb.ticket("2026-07-01T09:00:00", "HT", 1)
    fb.action("2026-07-01T09:05:00", "call", w, 1, b1)
    fb.action("2026-07-01T09:13:00", "complete", w, 1, b1)
    rating = fb.rating("2026-07-01T09:14:00", "satisfied", "HT", 1, b1)
    rating["ticket_id"] = w["id"]
    return feeds, ids


def _send(feed: fx.Feed, order: list[list[int]]) -> None:
    """Send the feed's pending records in batches of the given positions, in that order."""
    records = feed.pending
    for positions in order:
        feed.pending = [records[i] for i in positions]
        feed.send()


def test_a_provinces_year_counts_services_and_still_exports(central):
    feeds, ids = _records(central)
    _send(feeds["A"], [list(range(7))])
    _send(feeds["B"], [list(range(4))])
    with central.engine.connect() as conn:
        year = figures.build(conn, periods.year(2026), Scope(communes=None))
        raw = figures.build(conn, periods.year(2026), Scope(communes=None), use_rollups=False)
    q = year["queue"]
    assert (q["issued"], q["served"], q["services_served"], q["mean_service_min"]) == (2, 2, 3, 10.0)
    fields = {f["code"]: (f["served"], f["services_served"], f["mean_service_min"]) for f in q["services"]}
    assert fields == {"HT": (1, 2, 9.0), "CT": (1, 1, 12.0)}
    people = {c["id"]: (c["served"], c["services_served"]) for c in q["clerks"]}
    assert people == {ids["A1"]: (0, 1), ids["A2"]: (1, 1), ids["B1"]: (1, 1)}
    assert year["summary"]["ratings"] == 2  # one citizen, one visit, one rating each
    assert {s["code"]: s["ratings"] for s in year["services"]} == {"HT": 2, "CT": 1}
    assert {c["id"]: c["n"] for c in year["clerks"]} == {ids["A1"]: 1, ids["A2"]: 1, ids["B1"]: 1}
    for key in ("queue", "services", "clerks"):  # the rollups say what the records say
        assert year[key] == raw[key]
    text = exports.render(year, "csv", "Tỉnh").decode("utf-8-sig")
    assert "Lượt phục vụ theo lĩnh vực (một lượt đến nhiều lĩnh vực tính mỗi lĩnh vực một lượt),3" in text
    for fmt in ("xlsx", "docx"):
        assert exports.render(year, fmt, "Tỉnh")


@pytest.mark.parametrize(
    "order",
    [
        [[6], [2, 3, 4, 5], [0, 1]],  # the rating first, the fields' actions before their ticket, the first call last
        [[0, 1, 2], [6], [3, 4, 5]],  # the rating before the last field's completion
        [[0, 1, 2, 3, 4, 5, 6]],
    ],
)
@pytest.mark.parametrize("way", ["server", "reference"])  # the typed reading of a batch, and the reference one
def test_services_rollups_whatever_order_the_records_come_in(central, order, way, monkeypatch):
    monkeypatch.setattr(fx, "WAY", way)
    feeds, ids = _records(central)
    _send(feeds["A"], order)
    _send(feeds["B"], [[2, 3], [0, 1]])
    incremental = snapshot(central)
    assert incremental["rollup_services"]
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == incremental
    with central.engine.connect() as conn:
        quarter = figures.build(conn, periods.quarter(2026, 1), Scope(communes=("A",)))
    q = quarter["queue"]
    assert (q["served"], q["services_served"], q["mean_service_min"]) == (1, 2, 11.0)  # (600 + 720) / 2 s
    assert {c["id"]: c["n"] for c in quarter["clerks"]} == {ids["A1"]: 1, ids["A2"]: 1}
