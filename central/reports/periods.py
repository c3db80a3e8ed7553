"""Report periods as communes name them: a month, a quarter, six months, a year, or any range of days.

A period is a range of local calendar days (the server's ``timezone``), both ends included. Its label is the
wording a commune report uses ("6 tháng đầu năm 2026", "quý I năm 2026"), and ``previous_year()``
is the "cùng kỳ" the report compares with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from central.reports.localtime import add_months, dekad_end, dekad_of
from common.errors import refusal

KINDS = ("month", "quarter", "half", "year", "custom")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
#: Longest custom period (a report over more than a few years is a mistake, and expensive).
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        """Vietnamese wording, as in a commune's report."""
        s = self.start
        if self.kind == "month":
            return f"tháng {s.month} năm {s.year}"
        if self.kind == "quarter":
            return f"quý {ROMAN[(s.month - 1) // 3 + 1]} năm {s.year}"
        if self.kind == "half":
            return f"6 tháng {'đầu' if s.month == 1 else 'cuối'} năm {s.year}"
        if self.kind == "year":
            return f"năm {s.year}"
        return f"từ ngày {s:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"

    def previous_year(self) -> Period:
        """The same days one year earlier ("cùng kỳ năm trước")."""
        return Period(self.kind, _year_back(self.start), _year_back(self.end))

    def months(self) -> list[date]:
        """First days of the months the period touches."""
        result, month = [], self.start.replace(day=1)
        while month <= self.end:
            result.append(month)
            month = add_months(month, 1)
        return result

    def split(self) -> tuple[list[tuple[str, date]], list[tuple[date, date]]]:
        """Whole years, months and dekads (tuần: days 1–10, 11–20, 21–end) as rollup spans (grain, first day), and
        the days left over, as ranges.

        The rollups answer both: the spans from their year, month and dekad rows, the leftover days (fewer than
        ten at each end of each partial month) from their day rows.
        """
        spans: list[tuple[str, date]] = []
        parts: list[tuple[date, date]] = []
        day, one = self.start, timedelta(days=1)
        while day <= self.end:
            if day.day == 1 and day.month == 1 and date(day.year, 12, 31) <= self.end:
                spans.append(("Y", day))
                day = date(day.year + 1, 1, 1)
            elif day.day == 1 and add_months(day, 1) - one <= self.end:
                spans.append(("M", day))
                day = add_months(day, 1)
            elif day.day in (1, 11, 21) and dekad_end(day) <= self.end:
                spans.append(("T", day))
                day = dekad_end(day) + one
            else:
                last = min(self.end, dekad_end(dekad_of(day)))
                if parts and parts[-1][1] + one == day:
                    parts[-1] = (parts[-1][0], last)
                else:
                    parts.append((day, last))
                day = last + one
        return spans, parts

    def as_json(self) -> dict:
        return {"kind": self.kind, "from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label()}


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def month(year: int, number: int) -> Period:
    start = date(year, number, 1)
    return Period("month", start, add_months(start, 1) - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    start = date(year, 3 * number - 2, 1)
    return Period("quarter", start, add_months(start, 3) - timedelta(days=1))


def half(year: int, number: int) -> Period:
    start = date(year, 1 if number == 1 else 7, 1)
    return Period("half", start, add_months(start, 6) - timedelta(days=1))


def year(number: int) -> Period:
    return Period("year", date(number, 1, 1), date(number, 12, 31))


def from_range(start: date, end: date) -> Period:
    """A range of days, named as a month/quarter/half/year when it is exactly one.

    The refusals carry translatable msgids (pages show them in the reader's language); ``detail["reason"]``
    lets `kiosk-central report` name its own options instead.
    """
    if end < start:
        error = refusal(
            "to",
            "The period ends (%(end)s) before it starts (%(start)s): swap the two dates.",
            start=start.strftime("%d/%m/%Y"),
            end=end.strftime("%d/%m/%Y"),
        )
        error.detail["reason"] = "order"
        raise error
    if (end - start).days + 1 > MAX_DAYS:
        raise refusal(
            "to", "The period is longer than %(days)s days; report on at most three years at a time.", days=MAX_DAYS
        )
    for candidate in (month(start.year, start.month), year(start.year)):
        if (candidate.start, candidate.end) == (start, end):
            return candidate
    if start.day == 1 and start.month in (1, 4, 7, 10):
        q = quarter(start.year, (start.month - 1) // 3 + 1)
        if q.end == end:
            return q
    if start.day == 1 and start.month in (1, 7):
        h = half(start.year, 1 if start.month == 1 else 2)
        if h.end == end:
            return h
    return Period("custom", start, end)


def N_(msgid: str) -> str:
    """Marks a msgid for extraction (`python -m common.web.i18n_catalog`); it is translated where it is shown."""
    return msgid


#: What each query argument must be, as the page says it (translatable msgids; %(low)s and %(high)s filled in).
RANGES = {
    "year": N_("The year must be a whole number from %(low)s to %(high)s."),
    "month": N_("The month must be a whole number from %(low)s to %(high)s."),
    "quarter": N_("The quarter must be a whole number from %(low)s to %(high)s."),
    "half": N_("The half-year must be %(low)s (first six months) or %(high)s (last six months)."),
}


def _int(args: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        raise refusal(name, RANGES[name], low=low, high=high)
    return value


def parse_date(raw: str | None, name: str) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        if name == "from":
            raise refusal(name, "The first day must be a date such as 2026-01-01.") from None
        raise refusal(name, "The last day must be a date such as 2026-03-31.") from None


def parse(args: Mapping[str, str], today: date) -> Period:
    """The period asked for by query arguments (``period``, ``year``, ``month``, ``quarter``, ``half``, ``from``, ``to``).

    Without arguments: the current quarter (reports are quarterly).
    """
    kind = args.get("period") or "quarter"
    if kind not in KINDS:
        raise refusal("period", "Choose a month, a quarter, six months, a year or a range of days as the period.")
    y = _int(args, "year", 2000, 2100, today.year)
    if kind == "month":
        return month(y, _int(args, "month", 1, 12, today.month))
    if kind == "quarter":
        return quarter(y, _int(args, "quarter", 1, 4, (today.month - 1) // 3 + 1))
    if kind == "half":
        return half(y, _int(args, "half", 1, 2, 1 if today.month <= 6 else 2))
    if kind == "year":
        return year(y)
    start, end = parse_date(args.get("from"), "from"), parse_date(args.get("to"), "to")
    period = from_range(start, end)
    return Period("custom", period.start, period.end) if period.kind != "custom" else period
