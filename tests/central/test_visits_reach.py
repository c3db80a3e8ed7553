"""Visits and services apart are read from the records (central.reports.visits), so — like booked vs walk-in waits —
only for one commune or a period of up to 92 days: a province's year says "—" for services, never a wrong figure,
and every export still renders."""

from __future__ import annotations

from central import exports
from central.reports import figures, periods
from central.reports.query import Scope


def test_a_provinces_year_leaves_services_out_and_still_exports(central):
    with central.engine.connect() as conn:
        year = figures.build(conn, periods.year(2026), Scope(communes=None))
        quarter = figures.build(conn, periods.quarter(2026, 1), Scope(communes=None))
    assert year["queue"]["services_served"] is None  # not read: "—"
    assert quarter["queue"]["services_served"] == 0  # read, and there were none
    text = exports.render(year, "csv", "Tỉnh").decode("utf-8-sig")
    assert "Lượt phục vụ theo lĩnh vực (một lượt đến nhiều lĩnh vực tính mỗi lĩnh vực một lượt)," in text
    for fmt in ("xlsx", "docx"):
        assert exports.render(year, fmt, "Tỉnh")
