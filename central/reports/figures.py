"""One report as a plain dict: the figures a commune quotes, for a period and a scope.

The same dict feeds the page, its JSON, the CSV/XLSX/DOCX exports and `kiosk-central report`, so every
way of reading a report shows the same numbers. Shares and the index are rounded to one decimal (half
up); TT 01 scores and grades follow :mod:`common.tt01` — the very rules the kiosk's `/admin` applies. Flagged
presses (the abuse filter) are reported apart and never enter a share, an index or a score.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from central.identity import load_aliases, short_code, unknown_name
from central.models import Clerk, Commune, ScaleLevel, Service, Site
from central.report_models import NO_CLERK, NO_SERVICE, RollupQueue, RollupRatings
from central.reports import ranking
from central.reports.booked import booked_waits, booking_no_shows
from central.reports.localtime import DEFAULT_LOCAL_TIME, LocalTime
from central.reports.out_of_order import out_of_order
from central.reports.periods import Period
from central.reports.query import QUEUE_SUMS, Query, Scope
from central.reports.suggestions import counts as suggestion_counts
from central.reports.visits import earlier_fields, extra_ratings
from common import tt01
from common.counter_label import NO_COUNTER_VI, counter_label
from common.tt01 import DEFAULT_LEVELS

#: The ways of rating, each reported apart (and all of them in the totals).
CHANNELS = ("touch", "button", "phone")
#: Periods up to this many days get a daily trend; longer ones a monthly trend.
DAILY_TREND_DAYS = 92


def pct(part: float, whole: float) -> float | None:
    return tt01.share_pct(part, whole)


def minutes(seconds: float, n: int) -> float | None:
    return tt01.ratio1(seconds, n * 60)


@dataclass
class Names:
    communes: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (commune, site) → the reception point's name.
    sites: dict[tuple[str, str], str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    clerks: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: A kiosk's id of a person → the commune clerk's id (central.identity): one person, one row.
    aliases: dict[str, str] = field(default_factory=dict)
    levels: list[tuple[str, str]] = field(default_factory=list)
    max_points: int = 2

    def person(self, clerk_id: str) -> str:
        return self.aliases.get(clerk_id, clerk_id)

    def clerk(self, clerk_id: str, commune: str | None = None) -> dict[str, Any]:
        """How a report names a clerk: name, code and commune; one never declared by its short code."""
        info = self.clerks.get(clerk_id)
        if info is None:
            commune_name = self.communes.get(commune or "", {}).get("name")
            return {
                "name": unknown_name(clerk_id),
                "code": None,
                "known": False,
                "short_code": short_code(clerk_id),
                "commune": commune,
                "commune_name": commune_name,
            }
        return {
            "name": info["name"],
            "code": info["code"],
            "known": True,
            "short_code": short_code(clerk_id),
            "commune": info["commune"],
            "commune_name": self.communes.get(info["commune"], {}).get("name", info["commune"]),
        }


def load_names(conn: Connection, communes: tuple[str, ...] | None) -> Names:
    """Names of the communes, fields, clerks and rating levels in scope (for labels only)."""
    names = Names()

    def scoped(query, column):
        return query if communes is None else query.where(column.in_(communes))

    query = select(Commune.code, Commune.name, Commune.district_code, Commune.province_code).order_by(Commune.code)
    for code, name, district, province in conn.execute(scoped(query, Commune.code)):
        names.communes[code] = {"name": name, "district": district, "province": province}
    query = select(Site.commune_code, Site.code, Site.name).order_by(Site.commune_code, Site.code)
    for commune, code, name in conn.execute(scoped(query, Site.commune_code)):
        names.sites[(commune, code)] = name
    query = select(Service.code, Service.name).distinct().order_by(Service.code)
    for code, name in conn.execute(scoped(query, Service.commune_code)):
        names.services.setdefault(code, name)
    query = select(Clerk.id, Clerk.name, Clerk.code, Clerk.commune_code)
    for clerk_id, name, code, commune in conn.execute(scoped(query, Clerk.commune_code)):
        names.clerks[clerk_id] = {"name": name, "code": code, "commune": commune}
    names.aliases = load_aliases(conn, communes)
    seen: dict[str, tuple[int, str]] = {}
    query = select(ScaleLevel.key, ScaleLevel.label, ScaleLevel.points, ScaleLevel.position).distinct()
    for key, label, points, position in conn.execute(
        scoped(query, ScaleLevel.commune_code).order_by(ScaleLevel.position)
    ):
        seen.setdefault(key, (position, label))
        names.max_points = max(names.max_points, points)
    if not seen:
        seen = {key: (i, label) for i, (key, (label, _)) in enumerate(DEFAULT_LEVELS.items())}
    names.levels = [(key, label) for key, (_, label) in sorted(seen.items(), key=lambda kv: kv[1][0])]
    return names


def _totals(n: int, sat: int, points: int, flagged: int, max_points: int) -> dict[str, Any]:
    return {
        "ratings": n,
        "satisfied_plus": sat,
        "satisfied_plus_pct": pct(sat, n),
        "index": tt01.ratio1(points, max_points * n, 100),
        "flagged": flagged,
        "points": points,
    }


class _Acc:
    """counted presses, satisfied or above, points, flagged — per some key."""

    def __init__(self) -> None:
        self.rows: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0, 0])

    def add(self, key: Any, values: list[int]) -> None:
        row = self.rows[key]
        for i, value in enumerate(values):
            row[i] += value


def build(
    conn: Connection,
    period: Period,
    scope: Scope,
    *,
    use_rollups: bool = True,
    compare: bool = True,
    min_answers: int = tt01.MIN_ANSWERS,
    local_time: LocalTime = DEFAULT_LOCAL_TIME,
) -> dict[str, Any]:
    """Every figure of the report of ``period`` over ``scope``.

    ``min_answers`` is the setting ``grade_min_answers``: a clerk's or commune's TT 01 grade needs that many
    answers to one of its indicators, else its band is "Chưa đủ số phiếu" (:func:`common.tt01.grade`).
    ``local_time``: the server's (``Central.local_time``), whose local days the period is made of.
    """
    names = load_names(conn, scope.communes)
    q = Query(conn, period, scope, use_rollups, local_time)
    n, sat, points, flagged = q.ratings().get(None, [0, 0, 0, 0])
    communes, sites, services, clerks = _Acc(), _Acc(), _Acc(), _Acc()
    for acc, by in ((communes, "commune"), (sites, "site"), (services, "service"), (clerks, "clerk")):
        for key, values in q.ratings(by).items():
            acc.add(names.person(key) if by == "clerk" else key, values)
    # a visit of several fields: its rating once for each field served and each clerk who served one (visits.py)
    extra = extra_ratings(q)
    for code, values in extra.by_service.items():
        services.add(code, values)
    for clerk_id, values in extra.by_clerk.items():
        clerks.add(names.person(clerk_id), values)
    levels = q.levels()
    mp = names.max_points
    report: dict[str, Any] = {
        "period": period.as_json(),
        "scope": {
            "communes": list(scope.communes) if scope.communes is not None else None,
            "site": scope.site,
            "service": scope.service,
            "counter": scope.counter,
            "clerk": scope.clerk,
        },
        "summary": _totals(n, sat, points, flagged, mp),
        "grade_min_answers": min_answers,
        # the suggestion box, apart from the ratings: how many came in the period, how many were answered
        "suggestions": suggestion_counts(conn, period, scope.communes, local_time, scope.site),
    }
    known = [key for key, _ in names.levels]
    labels = dict(names.levels)
    report["levels"] = [
        {"key": key, "label": labels.get(key, key), "n": levels.get(key, 0), "pct": pct(levels.get(key, 0), n)}
        for key in known + sorted(set(levels) - set(known))
    ]
    ways = q.channels()
    report["channels"] = [
        {"channel": way, **_totals(*ways.get(way, [0, 0, 0, 0]), mp)}
        for way in [*CHANNELS, *sorted(set(ways) - set(CHANNELS))]
    ]
    indicators: dict[tuple, list[int]] = {}
    for (commune, site, clerk, indicator), values in q.indicators().items():
        key = (commune, site, names.person(clerk), indicator)
        indicators[key] = [a + b for a, b in zip(indicators.get(key, [0] * len(values)), values, strict=True)]
    report["indicators"] = _indicators(indicators)
    clerk_sums = _sums_by(indicators, lambda k: k[2])
    commune_sums = _sums_by(indicators, lambda k: k[0])
    site_sums = _sums_by(indicators, lambda k: (k[0], k[1]))
    queue_by_commune = _queue_totals_by(q.queue("commune"))
    queue_by_site = _queue_totals_by(q.queue("site"))
    report["communes"] = [
        {
            "code": code,
            "name": names.communes.get(code, {}).get("name", code),
            "district": names.communes.get(code, {}).get("district"),
            "province": names.communes.get(code, {}).get("province"),
            **_totals(*communes.rows[code], mp),
            "n": communes.rows[code][0],
            "tt01": tt01.agency_grade(commune_sums.get(code, {}), min_answers),
            "queue": queue_by_commune.get(code),
        }
        # every commune in scope, so that one without a single rating shows up as such
        for code in sorted(
            set(communes.rows)
            | set(commune_sums)
            | set(queue_by_commune)
            | set(() if scope.narrowed or scope.site else names.communes)
        )
    ]
    _rank_communes(report["communes"], ranking.index(points, n, mp), mp)
    site_keys = set(sites.rows) | set(site_sums) | set(queue_by_site)
    if not scope.narrowed:  # every reception point in scope, with or without ratings
        site_keys |= {key for key in names.sites if scope.site is None or key[1] == scope.site}
    report["sites"] = [
        {
            "commune": commune,
            "commune_name": names.communes.get(commune, {}).get("name", commune),
            "code": site,
            "name": names.sites.get((commune, site), site),
            **_totals(*sites.rows[(commune, site)], mp),
            "tt01": tt01.agency_grade(site_sums.get((commune, site), {}), min_answers),
            "queue": queue_by_site.get((commune, site)),
        }
        for commune, site in sorted(site_keys)
    ]
    # a commune's counters (over many communes a table of every counter would be long and slow to read)
    one_commune = scope.communes is not None and len(scope.communes) == 1
    report["counters"] = _counters(q, names, mp) if one_commune else []
    report["districts"] = _districts(report["communes"], mp)
    report["services"] = [
        {"code": code, "name": names.services.get(code, code) if code else "", **_totals(*services.rows[code], mp)}
        for code in sorted(services.rows, key=lambda c: (c == NO_SERVICE, c))
    ]
    people = []
    ids = (set(clerks.rows) | set(clerk_sums)) - {NO_CLERK}
    homes = _homes(conn, [i for i in ids if i not in names.clerks], scope.communes, names)
    for clerk_id in ids:
        people.append(
            {
                "id": clerk_id,
                **names.clerk(clerk_id, homes.get(clerk_id)),
                "n": clerks.rows[clerk_id][0],
                "points": clerks.rows[clerk_id][2],
                **_totals(*clerks.rows[clerk_id], mp),
                "tt01": tt01.clerk_grade(clerk_sums.get(clerk_id, {}), min_answers),
            }
        )
    ranked = ranking.rank(people, ranking.index(points, n, mp), mp)
    for clerk in ranked:
        clerk["bayes"] = tt01.round1(clerk["bayes"])
    report["clerks"] = ranked + sorted((c for c in people if not c["n"]), key=lambda c: c["name"])
    unit = "day" if period.days <= DAILY_TREND_DAYS else "month"
    trend = q.trend(unit)
    report["trend"] = {
        "unit": unit,
        "points": [
            {"bucket": bucket.isoformat(), **_totals(r[0], r[1], r[2], r[3], mp)}
            for bucket, r in sorted(trend.items())
            if r[0] or r[3]  # a day with tickets but no press is not a point of the ratings trend
        ],
    }
    report["heat"] = _heat(q.heat())
    report["queue"] = _queue(q, names, homes)
    report["queue"]["days"] = [
        {"bucket": bucket.isoformat(), "issued": v[0], "served": v[1], "no_show": v[2], "left_waiting": v[0] - v[3]}
        for bucket, v in sorted(q.queue_trend(unit).items())
        if v[0]
    ]
    if compare:
        before = period.previous_year()
        report["previous_year"] = {
            "period": before.as_json(),
            **_previous(Query(conn, before, scope, use_rollups, local_time), mp),
        }
        report["previous_year"]["change"] = _change(report["summary"], report["previous_year"]["summary"])
    return report


def _counters(q: Query, names: Names, mp: int) -> list[dict[str, Any]]:
    """Ratings and queue per counter of a reception point: "TT · Quầy 1" and "CN · Quầy 1" are two rows."""
    ratings, queue = q.ratings("counter"), _queue_totals_by(q.queue("counter"))
    points: dict[str, set[str]] = defaultdict(set)
    for commune, site in names.sites:
        points[commune].add(site)
    rows = []
    for commune, site, number in sorted(set(ratings) | set(queue)):
        points[commune].add(site)
        rows.append(
            {
                "commune": commune,
                "commune_name": names.communes.get(commune, {}).get("name", commune),
                "site": site,
                "site_name": names.sites.get((commune, site), site),
                "number": number or None,
                **_totals(*ratings.get((commune, site, number), [0, 0, 0, 0]), mp),
                "queue": queue.get((commune, site, number)),
            }
        )
    for row in rows:
        # the point, where the commune has more than one to tell apart (common.counter_label)
        row["point"] = row["site"] if len(points[row["commune"]]) > 1 else None
        row["label"] = counter_label(row["point"], row["number"]) if row["number"] else NO_COUNTER_VI
    return rows


def _previous(q: Query, mp: int) -> dict[str, Any]:
    totals = q.ratings().get(None, [0, 0, 0, 0])
    return {"summary": _totals(*totals, mp)}


def _change(now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    def diff(key: str) -> float | None:
        if now[key] is None or before[key] is None:
            return None
        return tt01.round1(now[key] - before[key])

    return {
        "ratings": now["ratings"] - before["ratings"],
        "ratings_pct": pct(now["ratings"] - before["ratings"], before["ratings"]),
        "satisfied_plus_pct": diff("satisfied_plus_pct"),
        "index": diff("index"),
    }


def _sums_by(indicators: dict[tuple, list[int]], who) -> dict[Any, dict[str, tuple[int, int]]]:
    """(answers, points) per indicator, per ``who(key)`` of the (commune, site, clerk, indicator) keys."""
    sums: dict[Any, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for key, (n, points, *_rest) in indicators.items():
        row = sums[who(key)][key[3]]
        row[0] += n
        row[1] += points
    return {who: {k: (v[0], v[1]) for k, v in per.items()} for who, per in sums.items()}


def _indicators(indicators: dict[tuple, list[int]]) -> list[dict[str, Any]]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (_commune, _site, _clerk, indicator), values in indicators.items():
        sums[indicator] = [a + b for a, b in zip(sums[indicator], values, strict=True)]
    result = []
    for key in [*tt01.INDICATORS, *sorted(set(sums) - set(tt01.INDICATORS))]:
        n, points, n2, n1, n0 = sums.get(key, [0, 0, 0, 0, 0])
        known = tt01.INDICATORS.get(key)
        result.append(
            {
                "key": key,
                "number": known.number if known else None,
                "title": known.title if known else key,
                "answers": n,
                "score": tt01.indicator_score(n, points),
                "distribution": {"2": pct(n2, n), "1": pct(n1, n), "0": pct(n0, n)},
                "counts": {"2": n2, "1": n1, "0": n0},
            }
        )
    return result


def _rank_communes(communes: list[dict[str, Any]], mean: float | None, max_points: int) -> None:
    """Each commune's place by the same fair (Bayesian) ranking as the clerks', in place; none without ratings."""
    for commune in ranking.rank(communes, mean, max_points):
        row = next(c for c in communes if c["code"] == commune["code"])
        row["bayes"], row["rank"] = tt01.round1(commune["bayes"]), commune["rank"]
    for row in communes:
        row.setdefault("bayes", None)
        row.setdefault("rank", None)


def _districts(communes: list[dict[str, Any]], max_points: int) -> list[dict[str, Any]]:
    """The communes' figures grouped by former district (huyện, before 1 July 2025), where communes carry one."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for c in communes:
        if c.get("district"):
            row = sums[c["district"]]
            for i, value in enumerate((c["ratings"], c["satisfied_plus"], c["points"], c["flagged"])):
                row[i] += value
            row[4] += 1
            row[5] += (c["queue"] or {}).get("issued", 0)
    return [
        {"code": code, **_totals(*row[:4], max_points), "communes": row[4], "issued": row[5]}
        for code, row in sorted(sums.items())
    ]


def _queue_totals(v: list[int], earlier: list[int] | None = None) -> dict[str, Any]:
    """Queue figures of the sums ``v`` (visits); ``earlier``: [count, timed, seconds] of the services of fields
    before a visit's last one (central.reports.visits), which count as services and in the service time."""
    issued, served, no_show, waited, wait_s, service_n, service_s = v
    more, more_timed, more_s = earlier or (0, 0, 0)
    service_n, service_s = service_n + more_timed, service_s + more_s
    totals = {
        "issued": issued,
        "served": served,
        "no_show": no_show,
        "waited": waited,
        # never called: still waiting when the offices closed (or, for today, still in the queue)
        "left_waiting": issued - waited,
        "mean_wait_min": minutes(wait_s, waited),
        "served_timed": service_n,
        "mean_service_min": minutes(service_s, service_n),
    }
    if earlier is not None:  # services: fields completed (a visit of two fields served is two)
        totals["services_served"] = served + more
    return totals


def _queue_totals_by(
    sums: dict[Any, list[int]], earlier: dict[Any, list[int]] | None = None
) -> dict[Any, dict[str, Any]]:
    if earlier is None:
        return {k: _queue_totals(v) for k, v in sums.items() if any(v)}
    for key in earlier:
        sums.setdefault(key, [0] * len(QUEUE_SUMS))
    return {k: _queue_totals(v, earlier.get(k, [0, 0, 0])) for k, v in sums.items() if any(v) or k in earlier}


def p90(waits: dict[int, int]) -> int | None:
    """Nearest-rank 90th percentile of whole minutes waited: 90 % of called citizens waited at most this."""
    total = sum(waits.values())
    if not total:
        return None
    rank, seen = -(-9 * total // 10), 0
    for minute in sorted(waits):
        seen += waits[minute]
        if seen >= rank:
            return minute
    raise AssertionError("unreachable")


def _homes(conn: Connection, ids: list[str], communes: tuple[str, ...] | None, names: Names) -> dict[str, str]:
    """The commune whose records carry each of these (undeclared) clerk ids."""
    found: dict[str, str] = {}
    for table in (RollupRatings.__table__, RollupQueue.__table__):
        todo = [i for i in ids if i not in found]
        if not todo:
            break
        query = select(table.c.clerk_id, table.c.commune_code).where(table.c.clerk_id.in_(todo)).distinct()
        if communes is not None:
            query = query.where(table.c.commune_code.in_(communes))
        found.update({clerk: commune for clerk, commune in conn.execute(query)})
    return found


def _queue(q: Query, names: Names, homes: dict[str, str]) -> dict[str, Any]:
    earlier = earlier_fields(q)  # the services of a visit's fields before its last (central.reports.visits)
    totals = _queue_totals(q.queue().get(None, [0] * len(QUEUE_SUMS)), earlier.total)
    totals["p90_wait_min"] = p90(q.waits())
    totals["booked"] = booked_waits(q)  # booked vs walk-in (central.reports.booked)
    totals["bookings"] = booking_no_shows(q)  # the period's bookings: checked in, no-show, not known yet
    totals["out_of_order"] = out_of_order(q)  # picked from the line out of turn (kiosk.holds)
    by_service = _queue_totals_by(dict(q.queue("service")), earlier.by_service)
    by_clerk = _queue_totals_by(_by_person(names, q.queue("clerk")), _by_person(names, earlier.by_clerk))
    totals["services"] = [
        {"code": code, "name": names.services.get(code, code), **values} for code, values in sorted(by_service.items())
    ]
    missing = [cid for cid in by_clerk if cid not in names.clerks and cid not in homes and cid != NO_CLERK]
    homes = {**homes, **_homes(q.conn, missing, q.scope.communes, names)} if missing else homes
    totals["clerks"] = sorted(
        (
            {"id": cid, **names.clerk(cid, homes.get(cid)), **values}
            for cid, values in by_clerk.items()
            if cid != NO_CLERK
        ),
        key=lambda c: c["name"],
    )
    return totals


def _by_person(names: Names, sums: dict[str, list[int]]) -> dict[str, list[int]]:
    """Sums per clerk id, added up per person (a clerk known under several ids counts once)."""
    folded: dict[str, list[int]] = {}
    for cid, values in sums.items():
        person = names.person(cid)
        folded[person] = [a + b for a, b in zip(folded.get(person, [0] * len(values)), values, strict=True)]
    return folded


def _heat(cells: dict[tuple[int, int], list[int]]) -> dict[str, Any]:
    hours = [h for (_, h), v in cells.items() if any(v)]
    first, last = (min(hours), max(hours)) if hours else (7, 17)
    first, last = min(first, 7), max(last, 17)
    grid = []
    for weekday in range(1, 8):
        row = []
        for hour in range(first, last + 1):
            n, sat, tickets = cells.get((weekday, hour), [0, 0, 0])
            row.append({"hour": hour, "ratings": n, "satisfied_plus_pct": pct(sat, n), "tickets": tickets})
        grid.append({"weekday": weekday, "cells": row})
    return {
        "hours": [first, last],
        "rows": grid,
        "max_ratings": max((c[0] for c in cells.values()), default=0),
        "max_tickets": max((c[2] for c in cells.values()), default=0),
    }
