"""Every report figure against numbers computed by hand from tests/central/report_fixture.py.

Runs on SQLite and on PostgreSQL (``loaded`` is parametrised). The hand computation, commune A,
first quarter of 2026 (local time): counted presses VS, S, VS, U, VS, S, S(no clerk), S(clock-corrected)
= 3 VS + 4 S + 1 U = 8; satisfied or above 7/8 = 87.5 %; points 3·2 + 4 = 10 → index 100·10/(2·8) = 62.5;
one flagged press (kept apart).
"""

from __future__ import annotations

import pytest

from central.reports import figures, periods
from central.reports.query import Scope
from tests.central import report_fixture

loaded = report_fixture.loaded  # the province, loaded once per database for this module

Q1 = periods.quarter(2026, 1)


def build(app, period=Q1, **scope):
    communes = scope.pop("communes", ("A",))
    with app.extensions["central"].engine.connect() as conn:
        return figures.build(conn, period, Scope(communes=communes, **scope), min_answers=report_fixture.MIN_ANSWERS)


def by_id(rows, key="id"):
    return {row[key]: row for row in rows}


def test_counts_share_index_and_flagged_presses_apart(loaded):
    app, _ = loaded
    report = build(app)
    assert report["summary"] == {
        "ratings": 8,
        "satisfied_plus": 7,
        "satisfied_plus_pct": 87.5,
        "index": 62.5,
        "flagged": 1,
        "points": 10,
    }
    assert [(lv["key"], lv["n"], lv["pct"]) for lv in report["levels"]] == [
        ("very_satisfied", 3, 37.5),
        ("satisfied", 4, 50.0),
        ("unsatisfied", 1, 12.5),
    ]


def test_distribution_by_field(loaded):
    app, _ = loaded
    fields = by_id(build(app)["services"], "code")
    assert (fields["HT"]["ratings"], fields["HT"]["satisfied_plus_pct"], fields["HT"]["index"]) == (4, 100.0, 75.0)
    assert fields["HT"]["flagged"] == 1
    assert (fields["CT"]["ratings"], fields["CT"]["satisfied_plus_pct"], fields["CT"]["index"]) == (3, 66.7, 50.0)
    assert fields[""]["ratings"] == 1  # the press with no field is counted, under "no field"


def test_tt01_clerk_scores_bands_and_left_out_indicators(loaded):
    app, province = loaded
    clerks = by_id(build(app, communes=("A", "B"))["clerks"])
    a1, a2, b1 = (clerks[province.clerks[code]]["tt01"] for code in ("A1", "A2", "B1"))
    # A1: time (2+1+2)/3 = 1.67 → 1.7; contacts (2+1)/2 = 1.5; agencies 1.0; attitude 1.7 (the flagged
    # press's attitude answer is not counted). Total 5.9 of 8 → 7.4 of 10 → "hoàn thành 100%".
    assert a1["scores"] == {"time": 1.7, "contacts": 1.5, "agencies": 1.0, "attitude": 1.7}
    assert (a1["total"], a1["max"], a1["converted"], a1["band"]) == (5.9, 8, 7.4, "full")
    assert a1["band_label"] == "Hoàn thành 100% nhiệm vụ"
    # A2: time 0/1 = 0.0, attitude (2+0)/2 = 1.0; contacts and agencies have no answer: left out.
    assert a2["scores"] == {"time": 0.0, "attitude": 1.0}
    assert (a2["total"], a2["max"], a2["converted"], a2["band"]) == (1.0, 4, 2.5, "low")
    # B1: time 2.0, attitude (1+2)/2 = 1.5 → 3.5 of 4 → 8.8 of 10: 100 %. Had the two missing indicators
    # counted as zero it would be 3.5 of 8 → 4.4: "70 to under 100 %". Left out, not zero.
    assert b1["scores"] == {"time": 2.0, "attitude": 1.5}
    assert (b1["converted"], b1["band"]) == (8.8, "full")


def test_tt01_commune_scores_round_half_up_and_bands(loaded):
    app, _ = loaded
    communes = by_id(build(app, communes=None)["communes"], "code")
    a = communes["A"]["tt01"]
    # time (2+1+2+0)/4 = 1.25 → 1.3 (half up, not banker's 1.2)
    assert a["scores"] == {"time": 1.3, "contacts": 1.5, "agencies": 1.0, "attitude": 1.4}
    assert (a["total"], a["converted"], a["band"], a["band_label"]) == (5.2, 11.7, "fair", "Khá")
    b = communes["B"]["tt01"]
    assert (b["scores"], b["converted"], b["band"]) == ({"time": 2.0, "attitude": 1.5}, 15.8, "excellent")
    assert communes["C"]["tt01"] is None  # no indicator answered at all: no score, not a zero
    assert (communes["C"]["ratings"], communes["C"]["index"]) == (1, 100.0)


def test_attitude_distribution(loaded):
    app, _ = loaded
    attitude = by_id(build(app)["indicators"], "key")["attitude"]
    assert attitude["answers"] == 5
    assert attitude["distribution"] == {"2": 60.0, "1": 20.0, "0": 20.0}
    assert by_id(build(app)["indicators"], "key")["contacts"]["score"] == 1.5


def test_bayesian_ranking(loaded):
    app, province = loaded
    ranked = build(app)["clerks"]
    # overall index 62.5; A1 (4 presses, 75.0): (20·62.5 + 4·75)/24 = 64.58; A2 (3, 50.0): 1400/23 = 60.87
    assert [(c["id"], c["index"], c["bayes"], c["rank"]) for c in ranked] == [
        (province.clerks["A1"], 75.0, 64.6, 1),
        (province.clerks["A2"], 50.0, 60.9, 2),
    ]


def test_daily_trend_uses_corrected_times(loaded):
    app, _ = loaded
    trend = build(app)["trend"]
    assert trend["unit"] == "day"
    # the press made with the clock 40 days behind belongs to 10 February, not 1 January
    assert [(p["bucket"], p["ratings"]) for p in trend["points"]] == [
        ("2026-01-01", 1),
        ("2026-01-05", 2),
        ("2026-01-06", 1),
        ("2026-02-10", 3),
        ("2026-03-02", 1),
    ]
    assert next(p for p in trend["points"] if p["bucket"] == "2026-01-05")["flagged"] == 1


def test_monthly_trend_and_local_month_boundary(loaded):
    app, _ = loaded
    trend = build(app, periods.year(2026))["trend"]
    assert trend["unit"] == "month"
    # 2026-04-01 00:30 local is 31 March in UTC: it belongs to April
    assert [(p["bucket"], p["ratings"]) for p in trend["points"]] == [
        ("2026-01-01", 4),
        ("2026-02-01", 3),
        ("2026-03-01", 1),
        ("2026-04-01", 1),
    ]
    assert build(app, periods.month(2026, 3))["summary"]["ratings"] == 1
    assert build(app, periods.month(2026, 4))["summary"]["ratings"] == 1


def test_heat_map_weekday_hour_local(loaded):
    app, _ = loaded
    cells = {
        (row["weekday"], c["hour"]): (c["ratings"], c["tickets"])
        for row in build(app)["heat"]["rows"]
        for c in row["cells"]
        if c["ratings"] or c["tickets"]
    }
    assert cells == {
        (1, 7): (0, 3),  # Monday 5 Jan: three tickets at 07:30–07:32
        (1, 8): (3, 0),  # Mondays 08:xx: 5 Jan twice, 2 Mar
        (2, 8): (0, 2),  # Tuesday 10 Feb 08:00, 08:05
        (2, 9): (3, 0),  # Tuesdays 09:xx: 6 Jan, 10 Feb twice
        (2, 10): (1, 0),  # the clock-corrected press (uncorrected it would be Thursday 10h)
        (2, 16): (0, 1),  # Tuesday 31 Mar 16:00
        (4, 6): (1, 0),  # Thursday 1 Jan 06:30 (23:30 UTC the day before)
    }


def test_same_period_last_year(loaded):
    app, _ = loaded
    previous = build(app)["previous_year"]
    assert previous["period"]["label"] == "quý I năm 2025"
    assert previous["summary"]["ratings"] == 2
    assert (previous["summary"]["satisfied_plus_pct"], previous["summary"]["index"]) == (50.0, 25.0)
    assert previous["change"] == {"ratings": 6, "ratings_pct": 300.0, "satisfied_plus_pct": 37.5, "index": 37.5}


def test_queue_figures(loaded):
    app, province = loaded
    q = build(app)["queue"]
    # waits 240, 540, 210, 60, 1200 s → mean 450 s = 7.5 min; whole minutes up 4, 9, 4, 1, 20 → p90 = 20
    # service 360, 300, 600, 600 s → 465 s = 7.75 → 7.8 min
    assert (q["issued"], q["served"], q["no_show"], q["waited"]) == (6, 4, 1, 5)
    assert (q["mean_wait_min"], q["p90_wait_min"], q["mean_service_min"]) == (7.5, 20, 7.8)
    fields = by_id(q["services"], "code")
    # the transferred ticket counts under its final field (HT)
    assert (fields["HT"]["issued"], fields["HT"]["served"], fields["HT"]["no_show"]) == (4, 3, 1)
    assert (fields["HT"]["mean_wait_min"], fields["HT"]["mean_service_min"]) == (9.1, 7.0)
    assert (fields["CT"]["issued"], fields["CT"]["served"], fields["CT"]["mean_service_min"]) == (2, 1, 10.0)
    clerks = by_id(q["clerks"])
    assert (clerks[province.clerks["A1"]]["served"], clerks[province.clerks["A1"]]["mean_service_min"]) == (3, 7.0)
    assert (clerks[province.clerks["A2"]]["served"], clerks[province.clerks["A2"]]["mean_service_min"]) == (1, 10.0)


def test_filters_field_counter_clerk(loaded):
    app, province = loaded
    a2 = build(app, clerk=province.clerks["A2"])
    assert (a2["summary"]["ratings"], a2["summary"]["satisfied_plus_pct"]) == (3, 66.7)
    assert a2["queue"]["served"] == 1 and a2["queue"]["p90_wait_min"] == 1
    counter2 = build(app, counter=2)
    assert counter2["summary"]["ratings"] == 3
    ht = build(app, service="HT")
    assert (ht["summary"]["ratings"], ht["summary"]["flagged"], ht["queue"]["issued"]) == (4, 1, 4)
    # waits of HT tickets: 4, 9, 4, 20 minutes → p90 = 20
    assert ht["queue"]["p90_wait_min"] == 20
    assert [(p["bucket"], p["ratings"]) for p in ht["trend"]["points"]][0] == ("2026-01-05", 2)


@pytest.mark.parametrize(
    "period",
    [
        Q1,
        periods.year(2026),
        periods.month(2026, 2),
        periods.half(2026, 1),
        periods.from_range(*map(periods.parse_date, ("2025-01-01", "2026-04-30"), "ab")),
        periods.from_range(*map(periods.parse_date, ("2025-12-20", "2026-02-12"), "ab")),
    ],
    ids=["quarter", "year", "month", "half", "year+quarter+month", "custom"],
)
@pytest.mark.parametrize(
    "scope", [{"communes": None}, {}, {"service": "HT"}, {"counter": 2}, {"communes": ("A", "B")}], ids=str
)
def test_rollups_give_the_same_figures_as_the_records(loaded, period, scope):
    app, _ = loaded
    scope = dict(scope)
    communes = scope.pop("communes", ("A",))
    with app.extensions["central"].engine.connect() as conn:
        fast = figures.build(conn, period, Scope(communes=communes, **scope))
        slow = figures.build(conn, period, Scope(communes=communes, **scope), use_rollups=False)
    assert fast == slow


def test_custom_period_mixes_rollups_and_records(loaded):
    app, _ = loaded
    period = periods.from_range(*map(periods.parse_date, ("2025-12-20", "2026-02-12"), "ab"))
    spans, parts = period.split()
    # whole dekads (tuần) and months from their rows, the days left over from the day rows
    assert [(grain, start.isoformat()) for grain, start in spans] == [
        ("T", "2025-12-21"),
        ("M", "2026-01-01"),
        ("T", "2026-02-01"),
    ]
    assert [(a.isoformat(), b.isoformat()) for a, b in parts] == [
        ("2025-12-20", "2025-12-20"),
        ("2026-02-11", "2026-02-12"),
    ]
    report = build(app, period)
    # 1 Jan, 5 Jan ×2, 6 Jan (the month of January); 10 Feb ×3 (the dekad 1–10 February)
    assert report["summary"]["ratings"] == 7
    assert report["queue"]["issued"] == 5
