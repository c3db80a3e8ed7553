"""The sums behind every figure: rollups for the whole years, quarters and months; records for the rest.

Each method returns plain sums keyed by the dimensions the figures need; :mod:`sync.reports.figures`
turns them into shares, scores and rankings. ``use_rollups=False`` reads only the records (a test
checks that both ways give the same sums). Filters: the communes in scope (None = all), and optionally
one field (service), counter and clerk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, or_, select

from sync.central.models import UUID, IndicatorAnswer, Rating
from sync.central.report_models import (
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
from sync.reports.localtime import add_months, sql_hour, sql_local_day, sql_local_month, sql_weekday, utc_range
from sync.reports.periods import Period
from sync.reports.rollups import SATISFIED_PLUS, WAIT_CAP

#: What ratings() and queue() can break their sums down by, and the rollup column of each.
BY = {"commune": "commune_code", "service": "service_code", "clerk": "clerk_id"}
QUEUE_SUMS = ("issued", "served", "no_show", "waited", "wait_seconds", "service_n", "service_seconds")


@dataclass(frozen=True)
class Scope:
    """Which records a report covers (besides the period)."""

    communes: tuple[str, ...] | None = None
    service: str | None = None
    counter: int | None = None
    clerk: str | None = None
    #: Every id the clerk's records may carry (her own and her aliases); None = just ``clerk``.
    clerk_ids: tuple[str, ...] | None = None

    @property
    def narrowed(self) -> bool:
        """True when a field, counter or clerk is chosen (some rollups do not have those dimensions)."""
        return any(x is not None for x in (self.service, self.counter, self.clerk))


def _add(target: dict, key: Any, values: Iterable[Any]) -> None:
    row = target.get(key)
    values = [int(v or 0) for v in values]
    target[key] = values if row is None else [a + b for a, b in zip(row, values, strict=True)]


class Query:
    def __init__(self, conn: Connection, period: Period, scope: Scope, use_rollups: bool = True) -> None:
        self.conn, self.period, self.scope = conn, period, scope
        self.dialect, self.use_rollups = conn.dialect.name, use_rollups
        if use_rollups:
            self.spans, self.parts = period.split()
        else:
            self.spans, self.parts = [], [(period.start, period.end)]
        self._raw_cache: dict[str, list[tuple]] = {}

    # --- filters --------------------------------------------------------------------------------------

    def _where(self, columns: Any, *, dims: bool = True) -> list:
        s, where = self.scope, []
        if s.communes is not None:
            where.append(columns.commune_code.in_(s.communes))
        if dims and s.service is not None:
            where.append(columns.service_code == s.service)
        if dims and s.counter is not None:
            where.append(columns.counter_number == s.counter)
        if dims and s.clerk is not None:
            where.append(columns.clerk_id.in_(s.clerk_ids or (s.clerk,)))
        return where

    def _spans(self, c: Any) -> list:
        """Rows of the rollup spans: (grain = 'Y' and start in …) or (grain = 'Q' …) or (grain = 'M' …)."""
        by_grain: dict[str, list[date]] = defaultdict(list)
        for grain, start in self.spans:
            by_grain[grain].append(start)
        return [or_(*(and_(c.grain == grain, c.start.in_(starts)) for grain, starts in sorted(by_grain.items())))]

    def _whole_months(self) -> list[date]:
        """First days of the months inside the rollup spans."""
        months = []
        for grain, start in self.spans:
            months += [add_months(start, i) for i in range({"M": 1, "Q": 3, "Y": 12}[grain])]
        return months

    def _during(self, column: Any, parts: list[tuple[date, date]]) -> list:
        """Records whose time falls in any of the day ranges (one query for both ends of a custom period)."""
        ranges = [utc_range(first, last) for first, last in parts]
        return [or_(*(and_(column >= start, column < end) for start, end in ranges))]

    @staticmethod
    def _raw_dims(c: Any) -> tuple:
        return (
            func.coalesce(c.service_code, NO_SERVICE),
            func.coalesce(c.counter_number, NO_COUNTER),
            func.coalesce(c.clerk_id, literal(NO_CLERK, UUID)),
        )

    # --- ratings ----------------------------------------------------------------------------------------

    def _grouped(
        self, name: str, by: str | None, rollup: Any, sums: tuple, raw: Any, raw_keys: tuple, raw_sums: tuple, time: Any
    ):
        """Sums per ``by`` (None: one total) from the rollup spans, plus the leftover days from the records.

        The records are read once per Query, grouped by commune, field and clerk, and folded here.
        """
        out: dict[Any, list[int]] = {}
        if self.spans:
            key = rollup[BY[by]] if by else None
            query = select(*([] if key is None else [key]), *sums).where(*self._where(rollup), *self._spans(rollup))
            for row in self.conn.execute(query if key is None else query.group_by(key)):
                _add(out, None if key is None else row[0], row if key is None else row[1:])
        if self.parts:
            cache = self._raw_cache.get(name)
            if cache is None:
                query = select(*raw_keys, *raw_sums).where(*self._where(raw), *self._during(time, self.parts))
                cache = [tuple(row) for row in self.conn.execute(query.group_by(*raw_keys))]
                self._raw_cache[name] = cache
            position = {"commune": 0, "service": 1, "clerk": 2}.get(by)
            for row in cache:
                _add(out, None if position is None else row[position], row[3:])
        return out

    def ratings(self, by: str | None = None) -> dict[Any, list[int]]:
        """[counted presses, satisfied or above, points, flagged presses] per commune, service or clerk, or in all."""
        c, r = RollupRatings.__table__.c, Rating.__table__.c
        sums = (func.sum(c.ratings), func.sum(c.satisfied_plus), func.sum(c.points), func.sum(c.flagged))
        service, _counter, clerk = self._raw_dims(r)
        keys = (r.commune_code, service, clerk)
        return self._grouped("ratings", by, c, sums, r, keys, self._raw_sums(r), r.corrected_time)

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
        """Counted presses per level (the rollup has the field; a counter or clerk filter reads the records)."""
        out: dict[str, int] = defaultdict(int)
        parts = self.parts
        by_person = self.scope.counter is not None or self.scope.clerk is not None
        if self.spans and not by_person:
            c = RollupLevels.__table__.c
            where = self._where(c, dims=False)
            if self.scope.service is not None:
                where.append(c.service_code == self.scope.service)
            query = select(c.level, func.sum(c.n)).where(*where, *self._spans(c))
            for level, n in self.conn.execute(query.group_by(c.level)):
                out[level] += int(n)
        elif self.spans:
            parts = [(self.period.start, self.period.end)]
        r = Rating.__table__.c
        if parts:
            query = select(r.level, func.count()).where(r.counted.is_(True), *self._where(r))
            query = query.where(*self._during(r.corrected_time, parts))
            for level, n in self.conn.execute(query.group_by(r.level)):
                out[level] += int(n)
        return dict(out)

    def channels(self) -> dict[str, list[int]]:
        """[counted presses, satisfied or above, points, flagged] per channel (touch, button, phone); the
        rollup has the field, a counter or clerk filter reads the records."""
        out: dict[str, list[int]] = {}
        parts = self.parts
        by_person = self.scope.counter is not None or self.scope.clerk is not None
        if self.spans and not by_person:
            c = RollupChannels.__table__.c
            where = self._where(c, dims=False)
            if self.scope.service is not None:
                where.append(c.service_code == self.scope.service)
            sums = (func.sum(c.ratings), func.sum(c.satisfied_plus), func.sum(c.points), func.sum(c.flagged))
            for row in self.conn.execute(select(c.channel, *sums).where(*where, *self._spans(c)).group_by(c.channel)):
                _add(out, row[0], row[1:])
        elif self.spans:
            parts = [(self.period.start, self.period.end)]
        r = Rating.__table__.c
        if parts:
            query = select(r.channel, *self._raw_sums(r)).where(*self._where(r), *self._during(r.corrected_time, parts))
            for row in self.conn.execute(query.group_by(r.channel)):
                _add(out, row[0], row[1:])
        return out

    def indicators(self) -> dict[tuple, list[int]]:
        """(commune, clerk, indicator) → [answers, points, n2, n1, n0], counted ratings only."""
        out: dict[tuple, list[int]] = {}
        if self.spans:
            c = RollupIndicators.__table__.c
            keys = (c.commune_code, c.clerk_id, c.indicator)
            sums = (func.sum(c.n), func.sum(c.points), func.sum(c.n2), func.sum(c.n1), func.sum(c.n0))
            query = select(*keys, *sums).where(*self._where(c), *self._spans(c))
            for row in self.conn.execute(query.group_by(*keys)):
                _add(out, tuple(row[:3]), row[3:])
        r, a = Rating.__table__.c, IndicatorAnswer.__table__.c
        joined = IndicatorAnswer.__table__.join(
            Rating.__table__, and_(r.commune_code == a.commune_code, r.device_id == a.device_id, r.id == a.rating_id)
        )
        clerk = func.coalesce(r.clerk_id, literal(NO_CLERK, UUID))
        keys = (r.commune_code, clerk, a.indicator)
        sums = (
            func.count(),
            func.sum(a.points),
            func.sum(case((a.points >= 2, 1), else_=0)),
            func.sum(case((a.points == 1, 1), else_=0)),
            func.sum(case((a.points <= 0, 1), else_=0)),
        )
        if self.parts:
            query = select(*keys, *sums).select_from(joined).where(r.counted.is_(True), *self._where(r))
            query = query.where(*self._during(r.corrected_time, self.parts))
            for row in self.conn.execute(query.group_by(*keys)):
                _add(out, tuple(row[:3]), row[3:])
        return out

    # --- queue ------------------------------------------------------------------------------------------

    def queue(self, by: str | None = None) -> dict[Any, list[int]]:
        """The QUEUE_SUMS per commune, (final) service or (ending) clerk, or in all."""
        c, f = RollupQueue.__table__.c, TicketFact.__table__.c

        def count_if(condition):
            return func.sum(case((condition, 1), else_=0))

        sums = tuple(func.sum(c[x]) for x in QUEUE_SUMS)
        raw_sums = (
            func.count(),
            count_if(f.outcome == "served"),
            count_if(f.outcome == "no_show"),
            count_if(f.wait_seconds.is_not(None)),
            func.sum(f.wait_seconds),
            count_if(f.service_seconds.is_not(None)),
            func.sum(f.service_seconds),
        )
        keys = (f.commune_code, f.service_code, f.clerk_id)
        return self._grouped("queue", by, c, sums, f, keys, raw_sums, f.issued_at)

    def waits(self) -> dict[int, int]:
        """Called tickets by whole minutes waited (rounded up, capped at WAIT_CAP)."""
        out: dict[int, int] = defaultdict(int)
        f = TicketFact.__table__.c
        bucket = case((f.wait_minutes > WAIT_CAP, WAIT_CAP), else_=f.wait_minutes)
        parts = self.parts
        if self.spans and not self.scope.narrowed:
            c = RollupWait.__table__.c
            query = select(c.minute, func.sum(c.n)).where(*self._where(c, dims=False), *self._spans(c))
            for minute, n in self.conn.execute(query.group_by(c.minute)):
                out[minute] += int(n)
        elif self.spans:
            parts = [(self.period.start, self.period.end)]
        if parts:
            query = select(bucket, func.count()).where(f.wait_minutes.is_not(None), *self._where(f))
            query = query.where(*self._during(f.issued_at, parts))
            for minute, n in self.conn.execute(query.group_by(bucket)):
                out[minute] += int(n)
        return dict(out)

    # --- time patterns ------------------------------------------------------------------------------

    def heat(self) -> dict[tuple[int, int], list[int]]:
        """(ISO weekday, local hour) → [counted ratings, satisfied or above, tickets issued]."""
        out: dict[tuple[int, int], list[int]] = {}
        parts = self.parts
        if self.spans and not self.scope.narrowed:
            c = RollupHeat.__table__.c
            query = select(c.weekday, c.hour, func.sum(c.ratings), func.sum(c.satisfied_plus), func.sum(c.tickets))
            query = query.where(*self._where(c, dims=False), *self._spans(c))
            for row in self.conn.execute(query.group_by(c.weekday, c.hour)):
                _add(out, (row[0], row[1]), row[2:])
        elif self.spans:
            parts = [(self.period.start, self.period.end)]
        r, f = Rating.__table__.c, TicketFact.__table__.c
        if parts:
            wd, hour = sql_weekday(r.corrected_time, self.dialect), sql_hour(r.corrected_time, self.dialect)
            sat = func.sum(case((r.level.in_(SATISFIED_PLUS), 1), else_=0))
            query = select(wd, hour, func.count(), sat).where(r.counted.is_(True), *self._where(r))
            for row in self.conn.execute(query.where(*self._during(r.corrected_time, parts)).group_by(wd, hour)):
                _add(out, (row[0], row[1]), (row[2], row[3], 0))
            wd, hour = sql_weekday(f.issued_at, self.dialect), sql_hour(f.issued_at, self.dialect)
            query = select(wd, hour, func.count()).where(*self._where(f), *self._during(f.issued_at, parts))
            for row in self.conn.execute(query.group_by(wd, hour)):
                _add(out, (row[0], row[1]), (0, 0, row[2]))
        return out

    def trend(self, unit: str) -> dict[date, list[int]]:
        """Day or month → [counted ratings, satisfied or above, points, flagged]."""
        out: dict[date, list[int]] = {}
        r = Rating.__table__.c
        if unit == "day" and self.use_rollups and not self.scope.narrowed:
            for row in self.conn.execute(self._daily()):
                _add(out, row[0], row[1:])
            return out
        parts = self.parts
        if unit == "month" and self.spans:
            table = RollupRatings.__table__ if self.scope.narrowed else RollupTotals.__table__
            c = table.c
            sums = (func.sum(c.ratings), func.sum(c.satisfied_plus), func.sum(c.points), func.sum(c.flagged))
            where = self._where(c, dims=self.scope.narrowed)
            query = select(c.start, *sums).where(*where, c.grain == "M", c.start.in_(self._whole_months()))
            for row in self.conn.execute(query.group_by(c.start)):
                _add(out, row[0], row[1:])
        elif unit == "day":
            parts = [(self.period.start, self.period.end)]
        bucket = (sql_local_day if unit == "day" else sql_local_month)(r.corrected_time, self.dialect)
        if parts:
            query = select(bucket, *self._raw_sums(r)).where(*self._where(r), *self._during(r.corrected_time, parts))
            for row in self.conn.execute(query.group_by(bucket)):
                _add(out, row[0], row[1:])
        return out

    def _daily(self):
        c = RollupTotals.__table__.c
        sums = (func.sum(c.ratings), func.sum(c.satisfied_plus), func.sum(c.points), func.sum(c.flagged))
        query = select(c.start, *sums).where(
            *self._where(c, dims=False), c.grain == "D", c.start.between(self.period.start, self.period.end)
        )
        return query.group_by(c.start)
