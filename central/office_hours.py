"""When the commune offices are open (setting ``office_hours``), and how many open hours lie between two moments.

The fleet page counts a kiosk's silence in office hours only: a kiosk switched off on Friday at 17:00 and
back on Monday at 7:00 has been silent for no office hour at all, while one that stops on a Tuesday morning
stands out by noon. The setting is a table of days — ``mon`` … ``sun`` or ranges such as ``mon-fri`` — each
with ``"HH:MM-HH:MM"`` periods separated by commas (an empty text: closed that day); a later key overrides an
earlier one, so ``{mon-sat = "07:00-17:00", sat = "07:30-11:30"}`` opens Saturday mornings only. Times are local
(setting ``timezone``). Default: Monday to Friday, 7:00 to 17:00. Public holidays and Tết are listed apart
(setting ``office_closed_days``: dates or ranges ``2027-02-05..2027-02-11``) and count as closed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from common.errors import ConfigError
from common.settings import DEFAULT_ZONE, time_zone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
#: Open time is counted day by day; beyond this many days of silence the exact figure no longer matters.
MAX_DAYS = 400

Minutes = tuple[int, int]  # [start, end) in minutes after local midnight


def _problem(detail: str) -> ConfigError:
    return ConfigError(
        f"Setting office_hours: {detail}. Write days (mon … sun, or a range such as mon-fri) with periods "
        'like "07:00-11:30, 13:30-17:00", e.g. {mon-fri = "07:00-17:00", sat = "07:30-11:30"}.'
    )


def _days(key: str) -> list[int]:
    parts = key.strip().lower().split("-")
    if len(parts) == 1 and parts[0] in DAYS:
        return [DAYS.index(parts[0])]
    if len(parts) == 2 and parts[0] in DAYS and parts[1] in DAYS:
        first, last = DAYS.index(parts[0]), DAYS.index(parts[1])
        if first <= last:
            return list(range(first, last + 1))
    raise _problem(f"{key!r} is not a day or a range of days")


def _periods(key: str, value: Any) -> tuple[Minutes, ...]:
    texts = value if isinstance(value, list) else str(value).split(",")
    periods: list[Minutes] = []
    for text in texts:
        if not str(text).strip():
            continue
        match = _PERIOD.match(str(text))
        if not match:
            raise _problem(f"{text!r} (for {key}) is not a period HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
            raise _problem(f"{text!r} (for {key}) does not end after it starts on the same day")
        periods.append((start, end))
    periods.sort()
    for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
        if start < end:
            raise _problem(f"the periods of {key} overlap")
    return tuple(periods)


def _closed_days(values: Any) -> frozenset[date]:
    days: set[date] = set()
    for value in values or ():
        first, _, last = str(value).strip().partition("..")
        try:
            start, end = date.fromisoformat(first.strip()), date.fromisoformat((last or first).strip())
        except ValueError:
            raise ConfigError(
                f"Setting office_closed_days: {value!r} is not a date YYYY-MM-DD or a range "
                'YYYY-MM-DD..YYYY-MM-DD, e.g. ["2027-02-05..2027-02-11", "2027-04-30"].'
            ) from None
        if end < start or (end - start).days > 366:
            raise ConfigError(f"Setting office_closed_days: {value!r} must end after it starts, within a year.")
        days.update(start + timedelta(days=i) for i in range((end - start).days + 1))
    return frozenset(days)


@dataclass(frozen=True)
class OfficeHours:
    tz: ZoneInfo
    week: tuple[tuple[Minutes, ...], ...]  # Monday first
    closed: frozenset[date] = frozenset()

    @classmethod
    def parse(cls, table: Any, timezone: str = DEFAULT_ZONE, closed_days: Any = ()) -> OfficeHours:
        if not isinstance(table, Mapping):
            raise _problem(f"{table!r} is not a table of days")
        tz = time_zone(timezone)
        week: list[tuple[Minutes, ...]] = [() for _ in DAYS]
        for key, value in table.items():
            periods = _periods(str(key), value)
            for day in _days(str(key)):
                week[day] = periods
        return cls(tz, tuple(week), _closed_days(closed_days))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OfficeHours:
        return cls.parse(settings["office_hours"], settings["timezone"], settings.get("office_closed_days"))

    def periods_on(self, day: date) -> tuple[Minutes, ...]:
        return () if day in self.closed else self.week[day.weekday()]

    def _local(self, utc: datetime) -> datetime:
        return utc.replace(tzinfo=UTC).astimezone(self.tz) if utc.tzinfo is None else utc.astimezone(self.tz)

    def is_open(self, utc: datetime) -> bool:
        moment = self._local(utc)
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute < end for start, end in self.periods_on(moment.date()))

    def open_seconds(self, start_utc: datetime, end_utc: datetime) -> float:
        """Seconds of office hours in [start, end) (naive times are UTC); 0 when end is not after start."""
        start, end = self._local(start_utc), self._local(end_utc)
        if end <= start:
            return 0.0
        end = min(end, start + timedelta(days=MAX_DAYS))
        total, day = 0.0, start.date()
        while day <= end.date():
            for first, last in self.periods_on(day):
                opens = _at(day, first, self.tz)
                closes = _at(day, last, self.tz)
                overlap = (min(closes, end) - max(opens, start)).total_seconds()
                total += max(overlap, 0.0)
            day += timedelta(days=1)
        return total

    def summary(self) -> list[tuple[list[int], str]]:
        """Days with the same hours grouped: ([0, 1, 2, 3, 4], "07:00–17:00"), for the page to name the days."""
        groups: list[tuple[list[int], str]] = []
        for day, periods in enumerate(self.week):
            if not periods:
                continue
            text = ", ".join(f"{s // 60:02d}:{s % 60:02d}–{e // 60:02d}:{e % 60:02d}" for s, e in periods)
            if groups and groups[-1][1] == text and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], text))
        return groups


def _at(day: Any, minutes: int, tz: ZoneInfo) -> datetime:
    if minutes >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
