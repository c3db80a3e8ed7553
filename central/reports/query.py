"""The sums behind every figure, from the rollups: whole years, whole months and the days at the ends.

Each method returns plain sums keyed by the dimensions the figures need; :mod:`central.reports.figures` turns
them into shares, scores and rankings. Filters: the communes in scope (None = all), and optionally one
reception point (site), field (service), counter and clerk.

Which rollup answers (docs/reports.md, "Rollups"):

* views over communes, sites and fields read the **commune cube** (``rollup_totals``, ``rollup_levels``,
  ``rollup_heat``, ``rollup_wait``, ``rollup_channels``): a province's year is one row per commune and site;
* clerks, counters and the TT 01 indicators read the **people cube** (``rollup_ratings``, ``rollup_queue``,
  ``rollup_indicators``); with a counter or clerk chosen every figure comes from it — but the distribution
  of levels, the ratings per channel, the heat map and the waiting-time histogram, which that cube does not break down by person,
  come from the records of that one commune.

Without a field chosen, the rows of "every field" (:data:`ALL_SERVICES`) are read, one per key. The period is
cut by :meth:`Period.split` into whole years and months, read from their rows, and the days left at its ends,
read from the day rows. ``use_rollups=False`` reads only the records (a test checks that both ways give the
same sums).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, and_, case, func, literal, or_, select

from central.models import UUID, IndicatorAnswer, Rating
from central.report_models import (
    ALL_SERVICES,
    NO_CLERK,
    NO_COUNTER,
    NO_SERVICE,
    RollupChannels,
    RollupHeat,
    RollupIndicators,
    RollupLevels,
    RollupQueue,
    RollupRatings,
    RollupTotals,
    RollupWait,
    TicketFact,
)
from central.reports.localtime import DEFAULT_LOCAL_TIME, LocalTime, add_months
from central.reports.periods import Period
from central.reports.rollups import SATISFIED_PLUS, WAIT_CAP

#: What ratings() and queue() can break their sums down by.
BY = ("commune", "site", "service", "clerk", "counter")
RATING_SUMS = ("ratings", "satisfied_plus", "points", "flagged")
QUEUE_SUMS = ("issued", "served", "no_show", "waited", "wait_seconds", "service_n", "service_seconds")
TOTAL_SUMS = RATING_SUMS + QUEUE_SUMS


@dataclass(frozen=True)
class Scope:
    """Which records a report covers (besides the period)."""

    communes: tuple[str, ...] | None = None
    service: str | None = None
    counter: int | None = None
    clerk: str | None = None
    #: Every id the clerk's records may carry (her own and her aliases); None = just ``clerk``.
    clerk_ids: tuple[str, ...] | None = None
    #: One reception point of the (one) commune in ``communes``.
    site: str | None = None

    @property
    def narrowed(self) -> bool:
        """True when a field, counter or clerk is chosen."""
        return any(x is not None for x in (self.service, self.counter, self.clerk))

    @property
    def personal(self) -> bool:
        """True when a counter or clerk is chosen: only the people cube has those."""
        return self.counter is not None or self.clerk is not None


def _add(target: dict, key: Any, values: Iterable[Any]) -> None:
    row = target.get(key)
    values = [int(v or 0) for v in values]
    target[key] = values if row is None else [a + b for a, b in zip(row, values, strict=True)]


class Query:
    def __init__(
        self,
        conn: Connection,
        period: Period,
        scope: Scope,
        use_rollups: bool = True,
        local_time: LocalTime = DEFAULT_LOCAL_TIME,
    ) -> None:
        self.conn, self.period, self.scope, self.local_time = conn, period, scope, local_time
        self.dialect, self.use_rollups = conn.dialect.name, use_rollups
        self.spans, self.parts = period.split()
        self._cache: dict[tuple, list[tuple]] = {}

    # --- filters --------------------------------------------------------------------------------------

    def _where(self, c: Any, *, person: bool = True, service: bool = True) -> list:
        """The scope as conditions on columns ``c`` (of a rollup or of the records)."""
        s, where = self.scope, []
        if s.communes is not None:
            where.append(c.commune_code.in_(s.communes))
        if s.site is not None:
            where.append(c.site_code == s.site)
        if service and s.service is not None:
            where.append(c.service_code == s.service)
        if person and s.counter is not None:
            where.append(c.counter_number == s.counter)
        if person and s.clerk is not None:
            where.append(c.clerk_id.in_(s.clerk_ids or (s.clerk,)))
        return where

    def _rollup_where(self, c: Any, each_field: bool = False) -> list:
        """Rows of the period's spans and edge days, in scope; of one field, of "every field", or of each field."""
        by_grain: dict[str, list[date]] = defaultdict(list)
        for grain, start in self.spans:
            by_grain[grain].append(start)
        when = [and_(c.grain == grain, c.start.in_(starts)) for grain, starts in sorted(by_grain.items())]
        when += [and_(c.grain == "D", c.start.between(first, last)) for first, last in self.parts]
        where = [or_(*when), *self._where(c, service=False)]
        if self.scope.service is not None:
            where.append(c.service_code == self.scope.service)
        elif each_field:
            where.append(c.service_code != ALL_SERVICES)
        else:
            where.append(c.service_code == ALL_SERVICES)
        return where

    def _read(self, table: Table, keys: tuple[str, ...], sums: tuple[str, ...], each_field: bool = False) -> list:
        """Sums of ``table`` over the period and scope, per ``keys`` (read once per Query)."""
        cache_key = (table.name, keys, sums, each_field)
        if cache_key not in self._cache:
            c = table.c
            query = select(*(c[k] for k in keys), *(func.sum(c[x]) for x in sums))
            query = query.where(*self._rollup_where(c, each_field))
            if keys:
                query = query.group_by(*(c[k] for k in keys))
            self._cache[cache_key] = [tuple(row) for row in self.conn.execute(query)]
        return self._cache[cache_key]

    def _during(self, column: Any, parts: list[tuple[date, date]] | None = None) -> list:
        """Records whose time falls in the period (or in any of ``parts``)."""
        spans = parts or [(self.period.start, self.period.end)]
        ranges = [self.local_time.utc_range(first, last) for first, last in spans]
        return [or_(*(and_(column >= start, column < end) for start, end in ranges))]

    @staticmethod
    def _raw_dims(c: Any) -> tuple:
        return (
            func.coalesce(c.service_code, NO_SERVICE),
            func.coalesce(c.counter_number, NO_COUNTER),
            func.coalesce(c.clerk_id, literal(NO_CLERK, UUID)),
        )

    def _grouped(self, name: str, by: str | None, table: Table, sums: tuple[str, ...], raw) -> dict[Any, list[int]]:
        """Sums per ``by`` (None: one total), from the rollup ``table`` or, without rollups, the records."""
        out: dict[Any, list[int]] = {}
        if not self.use_rollups:
            rows = self._cache.get((name, "raw"))
            if rows is None:
                rows = self._cache[(name, "raw")] = raw()
            position = {"commune": 0, "site": 1, "service": 2, "clerk": 3}.get(by)
            for row in rows:
                if by == "counter":
                    key = (row[0], row[1], row[4])
                else:
                    key = None if position is None else (row[0], row[1]) if by == "site" else row[position]
                _add(out, key, row[5:])
            return out
        keys: tuple[str, ...] = ("commune_code", "site_code")
        if by == "service":
            keys += ("service_code",)
        if by == "clerk":
            keys += ("clerk_id",)
        if by == "counter":
            keys += ("counter_number",)
        each_field = by == "service" and self.scope.service is None
        if table is RollupTotals.__table__:  # one read of the totals serves both the ratings and the queue
            wanted = [TOTAL_SUMS.index(x) for x in sums]
            rows = [
                (*row[: len(keys)], *(row[len(keys) + i] for i in wanted))
                for row in self._read(table, keys, TOTAL_SUMS, each_field)
            ]
        else:
            rows = self._read(table, keys, sums, each_field)
        for row in rows:
            if by is None:
                key = None
            elif by == "commune":
                key = row[0]
            elif by == "site":
                key = (row[0], row[1])
            elif by == "counter":
                key = (row[0], row[1], row[2])
            else:
                key = row[2]
            _add(out, key, row[len(keys) :])
        return out

    # --- ratings ----------------------------------------------------------------------------------------

    def ratings(self, by: str | None = None) -> dict[Any, list[int]]:
        """[counted presses, satisfied or above, points, flagged presses] per commune, (commune, site), service,
        clerk or (commune, site, counter), or in all."""
        people = self.scope.personal or by in ("clerk", "counter")
        table = (RollupRatings if people else RollupTotals).__table__
        return self._grouped("ratings", by, table, RATING_SUMS, self._raw_ratings)

    def _raw_ratings(self) -> list[tuple]:
        r = Rating.__table__.c
        service, counter, clerk = self._raw_dims(r)
        keys = (r.commune_code, r.site_code, service, clerk, counter)
        query = select(*keys, *self._raw_sums(r)).where(*self._where(r), *self._during(r.corrected_time))
        return [tuple(row) for row in self.conn.execute(query.group_by(*keys))]

    @staticmethod
    def _raw_sums(r: Any) -> tuple:
        counted = r.counted.is_(True)
        return (
            func.sum(case((counted, 1), else_=0)),
            func.sum(case((and_(counted, r.level.in_(SATISFIED_PLUS)), 1), else_=0)),
            func.sum(case((counted, r.points), else_=0)),
            func.sum(case((counted, 0), else_=1)),
        )

    def levels(self) -> dict[str, int]:
        """Counted presses per level (a counter or clerk filter reads the records of that one commune)."""
        out: dict[str, int] = defaultdict(int)
        if self.use_rollups and not self.scope.personal:
            for level, n in self._read(RollupLevels.__table__, ("level",), ("n",)):
                out[level] += int(n)
            return dict(out)
        r = Rating.__table__.c
        query = select(r.level, func.count()).where(r.counted.is_(True), *self._where(r))
        for level, n in self.conn.execute(query.where(*self._during(r.corrected_time)).group_by(r.level)):
            out[level] += int(n)
        return dict(out)

    def channels(self) -> dict[str, list[int]]:
        """[counted presses, satisfied or above, points, flagged] per channel (touch, button, phone); a counter
        or clerk filter reads the records of that one commune (the people cube has no channels)."""
        out: dict[str, list[int]] = {}
        if self.use_rollups and not self.scope.personal:
            for row in self._read(RollupChannels.__table__, ("channel",), RATING_SUMS):
                _add(out, row[0], row[1:])
            return out
        r = Rating.__table__.c
        query = select(r.channel, *self._raw_sums(r)).where(*self._where(r), *self._during(r.corrected_time))
        for row in self.conn.execute(query.group_by(r.channel)):
            _add(out, row[0], row[1:])
        return out

    def indicators(self) -> dict[tuple, list[int]]:
        """(commune, site, clerk, indicator) → [answers, points, n2, n1, n0], counted ratings only."""
        out: dict[tuple, list[int]] = {}
        if self.use_rollups:
            keys = ("commune_code", "site_code", "clerk_id", "indicator")
            for row in self._read(RollupIndicators.__table__, keys, ("n", "points", "n2", "n1", "n0")):
                _add(out, tuple(row[:4]), row[4:])
            return out
        r, a = Rating.__table__.c, IndicatorAnswer.__table__.c
        joined = IndicatorAnswer.__table__.join(
            Rating.__table__, and_(r.commune_code == a.commune_code, r.device_id == a.device_id, r.id == a.rating_id)
        )
        clerk = func.coalesce(r.clerk_id, literal(NO_CLERK, UUID))
        keys = (r.commune_code, r.site_code, clerk, a.indicator)
        sums = (
            func.count(),
            func.sum(a.points),
            func.sum(case((a.points >= 2, 1), else_=0)),
            func.sum(case((a.points == 1, 1), else_=0)),
            func.sum(case((a.points <= 0, 1), else_=0)),
        )
        r_service = Rating.__table__.c
        query = select(*keys, *sums).select_from(joined).where(r.counted.is_(True), *self._where(r_service))
        query = query.where(*self._during(r.corrected_time))
        for row in self.conn.execute(query.group_by(*keys)):
            _add(out, tuple(row[:4]), row[4:])
        return out

    # --- queue ------------------------------------------------------------------------------------------

    def queue(self, by: str | None = None) -> dict[Any, list[int]]:
        """The QUEUE_SUMS per commune, (commune, site), (final) service, (ending) clerk or (commune, site, final
        counter), or in all."""
        people = self.scope.personal or by in ("clerk", "counter")
        table = (RollupQueue if people else RollupTotals).__table__
        return self._grouped("queue", by, table, QUEUE_SUMS, self._raw_queue)

    def _raw_queue(self) -> list[tuple]:
        f = TicketFact.__table__.c

        def count_if(condition):
            return func.sum(case((condition, 1), else_=0))

        keys = (f.commune_code, f.site_code, f.service_code, f.clerk_id, func.coalesce(f.counter_number, NO_COUNTER))
        sums = (
            func.count(),
            count_if(f.outcome == "served"),
            count_if(f.outcome == "no_show"),
            count_if(f.wait_seconds.is_not(None)),
            func.sum(f.wait_seconds),
            count_if(f.service_seconds.is_not(None)),
            func.sum(f.service_seconds),
        )
        query = select(*keys, *sums).where(*self._where(f), *self._during(f.issued_at))
        return [tuple(row) for row in self.conn.execute(query.group_by(*keys))]

    def waits(self) -> dict[int, int]:
        """Called tickets by whole minutes waited (rounded up, capped at WAIT_CAP)."""
        out: dict[int, int] = defaultdict(int)
        if self.use_rollups and not self.scope.personal:
            for minute, n in self._read(RollupWait.__table__, ("minute",), ("n",)):
                out[minute] += int(n)
            return dict(out)
        f = TicketFact.__table__.c
        bucket = case((f.wait_minutes > WAIT_CAP, WAIT_CAP), else_=f.wait_minutes)
        query = select(bucket, func.count()).where(f.wait_minutes.is_not(None), *self._where(f))
        for minute, n in self.conn.execute(query.where(*self._during(f.issued_at)).group_by(bucket)):
            out[minute] += int(n)
        return dict(out)

    # --- time patterns ------------------------------------------------------------------------------

    def _weekday_hour(self, moment: Any) -> tuple[Any, Any]:
        """The local ISO weekday and hour of a record time, in SQL."""
        return self.local_time.sql_weekday(moment, self.dialect), self.local_time.sql_hour(moment, self.dialect)

    def heat(self) -> dict[tuple[int, int], list[int]]:
        """(ISO weekday, local hour) → [counted ratings, satisfied or above, tickets issued]."""
        out: dict[tuple[int, int], list[int]] = {}
        if self.use_rollups and not self.scope.personal:
            sums = ("ratings", "satisfied_plus", "tickets")
            for row in self._read(RollupHeat.__table__, ("weekday", "hour"), sums):
                _add(out, (row[0], row[1]), row[2:])
            return out
        r, f = Rating.__table__.c, TicketFact.__table__.c
        wd, hour = self._weekday_hour(r.corrected_time)
        sat = func.sum(case((r.level.in_(SATISFIED_PLUS), 1), else_=0))
        query = select(wd, hour, func.count(), sat).where(r.counted.is_(True), *self._where(r))
        for row in self.conn.execute(query.where(*self._during(r.corrected_time)).group_by(wd, hour)):
            _add(out, (row[0], row[1]), (row[2], row[3], 0))
        wd, hour = self._weekday_hour(f.issued_at)
        query = select(wd, hour, func.count()).where(*self._where(f), *self._during(f.issued_at))
        for row in self.conn.execute(query.group_by(wd, hour)):
            _add(out, (row[0], row[1]), (0, 0, row[2]))
        return out

    def trend(self, unit: str) -> dict[date, list[int]]:
        """Day or month → [counted ratings, satisfied or above, points, flagged]."""
        if not self.use_rollups:
            r = Rating.__table__.c
            return self._raw_trend(unit, r.corrected_time, self._raw_sums(r), self._where(r))
        table = (RollupRatings if self.scope.personal else RollupTotals).__table__
        return self._trend(unit, table, RATING_SUMS)

    def queue_trend(self, unit: str) -> dict[date, list[int]]:
        """Day or month a ticket was issued → [issued, served, no-shows, called] (never called = issued − called)."""
        if not self.use_rollups:
            f = TicketFact.__table__.c
            sums = (
                func.count(),
                func.sum(case((f.outcome == "served", 1), else_=0)),
                func.sum(case((f.outcome == "no_show", 1), else_=0)),
                func.sum(case((f.wait_seconds.is_not(None), 1), else_=0)),
            )
            return self._raw_trend(unit, f.issued_at, sums, self._where(f))
        table = (RollupQueue if self.scope.personal else RollupTotals).__table__
        return self._trend(unit, table, ("issued", "served", "no_show", "waited"))

    def _raw_trend(self, unit: str, moment: Any, sums: tuple, where: list) -> dict[date, list[int]]:
        out: dict[date, list[int]] = {}
        lt = self.local_time
        bucket = (lt.sql_day if unit == "day" else lt.sql_month)(moment, self.dialect)
        query = select(bucket, *sums).where(*where, *self._during(moment))
        for row in self.conn.execute(query.group_by(bucket)):
            _add(out, row[0], row[1:])
        return out

    def _trend(self, unit: str, table: Table, names: tuple[str, ...]) -> dict[date, list[int]]:
        out: dict[date, list[int]] = {}
        c = table.c
        sums = tuple(func.sum(c[x]) for x in names)
        where = [*self._where(c, service=False), c.service_code == (self.scope.service or ALL_SERVICES)]
        if unit == "day":
            days = c.start.between(self.period.start, self.period.end)
            query = select(c.start, *sums).where(c.grain == "D", days, *where).group_by(c.start)
            for row in self.conn.execute(query):
                _add(out, row[0], row[1:])
            return out
        months = self._whole_months()
        dekads = [start for grain, start in self.spans if grain == "T"]
        pieces = [and_(c.grain == "D", c.start.between(first, last)) for first, last in self.parts]
        if months:
            pieces.append(and_(c.grain == "M", c.start.in_(months)))
        if dekads:
            pieces.append(and_(c.grain == "T", c.start.in_(dekads)))
        query = select(c.grain, c.start, *sums).where(or_(*pieces), *where)
        for row in self.conn.execute(query.group_by(c.grain, c.start)):
            _add(out, row[1].replace(day=1), row[2:])
        return out

    def _whole_months(self) -> list[date]:
        """First days of the months inside the rollup spans."""
        months = []
        for grain, start in self.spans:
            months += [add_months(start, i) for i in range({"T": 0, "M": 1, "Y": 12}[grain])]
        return months
