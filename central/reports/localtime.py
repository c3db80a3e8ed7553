"""The reports' calendar: local days, months, weekdays and hours of the central server's time zone (setting
``timezone``, default Asia/Ho_Chi_Minh), in Python and in SQL.

Records carry naive UTC times (the server's ``corrected_time``). The zone must keep one offset from UTC all year
(Vietnam's has had no daylight saving since 1975): then local time is UTC plus that offset everywhere, which lets
the same rule be written once in Python (at ingest: the rollups are keyed by local day) and once per SQL dialect
(rebuilds, raw queries) and agree exactly. The offset must be whole hours too, since the ingest counts presses
alike per UTC hour. Another zone is refused when the server starts (ConfigError). Changing the setting on a
server that holds records needs `kiosk-central rebuild-rollups`: the rollups are keyed by the old local days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any

from sqlalchemy import Date, DateTime, Integer, case, cast, func, literal_column, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from common.errors import ConfigError
from common.settings import DEFAULT_ZONE, time_zone

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class LocalTime:
    """Local time in one zone with a fixed whole-hour offset, for naive UTC times: in Python and in SQL.

    Build it with :meth:`of` (the setting's zone name); the central server keeps one (``Central.local_time``).
    """

    zone: str
    offset: timedelta

    @classmethod
    def of(cls, zone: str) -> LocalTime:
        """The local time of ``zone`` (an IANA name); ConfigError for an unknown zone, or one whose offset from UTC
        changes in the year (summer time) or is not whole hours."""
        tz = time_zone(zone)
        year = datetime.now(UTC).year
        offsets = {tz.utcoffset(datetime(y, month, 1)) for y in (year, year + 1) for month in (1, 4, 7, 10)}
        offset = offsets.pop()
        if offsets or offset is None or offset % HOUR:
            raise ConfigError(
                f"Setting timezone: {zone!r} does not keep one whole-hour offset from UTC all year; the central "
                f"server's reports need a zone such as {DEFAULT_ZONE}."
            )
        return cls(zone, offset)

    @property
    def hours(self) -> int:
        return self.offset // HOUR

    @cached_property
    def tz(self) -> timezone:
        return timezone(self.offset, self.zone)

    def local(self, utc: datetime) -> datetime:
        """A naive UTC time as naive local time."""
        return utc + self.offset

    def aware(self, utc: datetime) -> datetime:
        """A naive UTC time as local time with its offset (ISO 8601 gives ``2026-03-03T09:00:00`` and the offset)."""
        return utc.replace(tzinfo=UTC).astimezone(self.tz)

    def day(self, utc: datetime) -> date:
        """The local day of a naive UTC time."""
        return (utc + self.offset).date()

    def utc_start(self, day: date) -> datetime:
        """Local midnight at the start of ``day``, as naive UTC."""
        return datetime(day.year, day.month, day.day) - self.offset

    def utc_range(self, first: date, last: date) -> tuple[datetime, datetime]:
        """[start, end) in naive UTC covering the local days ``first``..``last`` inclusive."""
        return self.utc_start(first), self.utc_start(last + timedelta(days=1))

    # --- SQL: record times (naive UTC) shifted to local time; ``local=False`` for dates that are local already

    def _plus(self) -> str:
        return f"{self.hours:+d} hours"

    def _shifted(self, expr: Any, dialect: str, local: bool = True) -> Any:
        """``expr`` as local time: UTC + the offset for record times; unchanged for dates that are local already."""
        if not local:
            return cast(expr, DateTime) if dialect == "postgresql" else expr
        if dialect == "postgresql":
            return expr + literal_column(f"interval '{self.hours} hours'")
        return func.datetime(expr, self._plus())

    def sql_day(self, expr: Any, dialect: str) -> ColumnElement:
        if dialect == "postgresql":
            return cast(self._shifted(expr, dialect), Date)
        return type_coerce(func.date(expr, self._plus()), Date)

    def sql_month(self, expr: Any, dialect: str, local: bool = True) -> ColumnElement:
        """First day of the local month of ``expr`` (a UTC record time, or a local date with ``local=False``)."""
        if dialect == "postgresql":
            return cast(func.date_trunc("month", self._shifted(expr, dialect, local)), Date)
        return type_coerce(func.date(self._shifted(expr, dialect, local), "start of month"), Date)

    def sql_dekad(self, expr: Any, dialect: str, local: bool = True) -> ColumnElement:
        """First day of the dekad (1, 11 or 21) of ``expr`` (a UTC record time, or a local date with ``local=False``)."""
        month = self.sql_month(expr, dialect, local)
        if dialect == "postgresql":
            day = cast(func.extract("day", self._shifted(expr, dialect, local)), Integer)
            offset = case((day <= 10, 0), (day <= 20, 10), else_=20)
            return cast(month + offset, Date)
        day = cast(func.strftime("%d", self._shifted(expr, dialect, local)), Integer)
        offset = case((day <= 10, 0), (day <= 20, 10), else_=20)
        return type_coerce(func.date(month, func.printf("+%d days", offset)), Date)

    def sql_year(self, expr: Any, dialect: str, local: bool = True) -> ColumnElement:
        if dialect == "postgresql":
            return cast(func.date_trunc("year", self._shifted(expr, dialect, local)), Date)
        return type_coerce(func.date(self._shifted(expr, dialect, local), "start of year"), Date)

    def sql_weekday(self, expr: Any, dialect: str) -> ColumnElement:
        """ISO weekday of the local time: 1 = Monday … 7 = Sunday."""
        if dialect == "postgresql":
            return cast(func.extract("isodow", self._shifted(expr, dialect)), Integer)
        sunday_zero = cast(func.strftime("%w", expr, self._plus()), Integer)
        return (sunday_zero + 6) % 7 + 1

    def sql_hour(self, expr: Any, dialect: str) -> ColumnElement:
        if dialect == "postgresql":
            return cast(func.extract("hour", self._shifted(expr, dialect)), Integer)
        return cast(func.strftime("%H", expr, self._plus()), Integer)


#: The local time of the setting's default zone: what the report functions use when not given the server's own.
DEFAULT_LOCAL_TIME = LocalTime.of(DEFAULT_ZONE)


# --- the calendar (no zone) ----------------------------------------------------------------------------


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def dekad_of(day: date) -> date:
    """The first day of the day's dekad (tuần: days 1–10, 11–20, 21 to the month's end)."""
    return day.replace(day=1 if day.day <= 10 else 11 if day.day <= 20 else 21)


def dekad_end(first: date) -> date:
    """The last day of the dekad that starts on ``first``."""
    if first.day < 21:
        return first.replace(day=first.day + 9)
    return add_months(first, 1) - timedelta(days=1)


# --- durations ----------------------------------------------------------------------------------------


def sql_seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement:
    """Whole seconds from ``earlier`` to ``later``, rounded half up (as :func:`whole_seconds`)."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", later - earlier) + 0.5), Integer)
    diff = (func.julianday(later) - func.julianday(earlier)) * 86400.0 + 0.5
    # CAST truncates toward zero; for negative differences step down one so that it is a floor.
    return cast(diff, Integer) - cast(diff < cast(diff, Integer), Integer)


def whole_seconds(later: datetime, earlier: datetime) -> int:
    """Python twin of :func:`sql_seconds`."""
    import math

    return math.floor((later - earlier).total_seconds() + 0.5)
