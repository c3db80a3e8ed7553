"""The reports' calendar: Asia/Ho_Chi_Minh local days, months, weekdays and hours, in Python and in SQL.

Records carry naive UTC times (the server's ``corrected_time``). Vietnam has kept UTC+7 with no
daylight saving since 1975, so local time is UTC + 7 hours everywhere — which lets the same rule be
written once in Python (at ingest) and once per SQL dialect (rebuilds, raw queries) and agree exactly.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, Integer, case, cast, func, literal_column, type_coerce
from sqlalchemy.sql.elements import ColumnElement

OFFSET = timedelta(hours=7)
OFFSET_HOURS = 7


def local(utc: datetime) -> datetime:
    return utc + OFFSET


def local_day(utc: datetime) -> date:
    return (utc + OFFSET).date()


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


def utc_start(day: date) -> datetime:
    """Local midnight at the start of ``day``, as naive UTC."""
    return datetime(day.year, day.month, day.day) - OFFSET


def utc_range(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in naive UTC covering the local days ``first``..``last`` inclusive."""
    return utc_start(first), utc_start(last + timedelta(days=1))


# --- SQL ---------------------------------------------------------------------------------------------


def sql_local_day(expr: Any, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return cast(expr + literal_column(f"interval '{OFFSET_HOURS} hours'"), Date)
    return type_coerce(func.date(expr, f"+{OFFSET_HOURS} hours"), Date)


def _shifted(expr: Any, dialect: str, local: bool) -> Any:
    """``expr`` as local time: UTC + 7 h for record times; unchanged for dates that are local already."""
    if not local:
        return cast(expr, DateTime) if dialect == "postgresql" else expr
    if dialect == "postgresql":
        return expr + literal_column(f"interval '{OFFSET_HOURS} hours'")
    return func.datetime(expr, f"+{OFFSET_HOURS} hours")


def sql_local_month(expr: Any, dialect: str, local: bool = True) -> ColumnElement:
    """First day of the local month of ``expr`` (a UTC record time, or a local date with ``local=False``)."""
    if dialect == "postgresql":
        return cast(func.date_trunc("month", _shifted(expr, dialect, local)), Date)
    return type_coerce(func.date(_shifted(expr, dialect, local), "start of month"), Date)


def sql_dekad(expr: Any, dialect: str, local: bool = True) -> ColumnElement:
    """First day of the dekad (1, 11 or 21) of ``expr`` (a UTC record time, or a local date with ``local=False``)."""
    month = sql_local_month(expr, dialect, local)
    if dialect == "postgresql":
        day = cast(func.extract("day", _shifted(expr, dialect, local)), Integer)
        offset = case((day <= 10, 0), (day <= 20, 10), else_=20)
        return cast(month + offset, Date)
    day = cast(func.strftime("%d", _shifted(expr, dialect, local)), Integer)
    offset = case((day <= 10, 0), (day <= 20, 10), else_=20)
    return type_coerce(func.date(month, func.printf("+%d days", offset)), Date)


def sql_quarter(expr: Any, dialect: str, local: bool = True) -> ColumnElement:
    if dialect == "postgresql":
        return cast(func.date_trunc("quarter", _shifted(expr, dialect, local)), Date)
    moment = _shifted(expr, dialect, local)
    back = func.printf("-%d months", (cast(func.strftime("%m", moment), Integer) - 1) % 3)
    return type_coerce(func.date(moment, "start of month", back), Date)


def sql_year(expr: Any, dialect: str, local: bool = True) -> ColumnElement:
    if dialect == "postgresql":
        return cast(func.date_trunc("year", _shifted(expr, dialect, local)), Date)
    return type_coerce(func.date(_shifted(expr, dialect, local), "start of year"), Date)


def sql_weekday(expr: Any, dialect: str) -> ColumnElement:
    """ISO weekday of the local time: 1 = Monday … 7 = Sunday."""
    if dialect == "postgresql":
        return cast(func.extract("isodow", expr + literal_column(f"interval '{OFFSET_HOURS} hours'")), Integer)
    sunday_zero = cast(func.strftime("%w", expr, f"+{OFFSET_HOURS} hours"), Integer)
    return (sunday_zero + 6) % 7 + 1


def sql_hour(expr: Any, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return cast(func.extract("hour", expr + literal_column(f"interval '{OFFSET_HOURS} hours'")), Integer)
    return cast(func.strftime("%H", expr, f"+{OFFSET_HOURS} hours"), Integer)


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
