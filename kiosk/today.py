"""Today's figures for the device's admin page: ratings, TT 01 indicators, the queue, per counter and clerk.

The day is the business day in the commune's time zone (``Clock.business_day``); stored times are
naive UTC, so the day is turned into a UTC interval first. Flagged presses (the abuse filter) are
counted apart and never enter a share, a level count or an indicator score. An indicator nobody
answered is left out, not shown as zero (TT 01/2018, Điều 15).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.tt01 import INDICATORS, MIN_ANSWERS, SATISFIED_OR_ABOVE, clerk_grade, indicator_score, share_pct
from kiosk.clock import Clock, to_naive_utc
from kiosk.models import Clerk, ClerkAction, IndicatorAnswer, Rating, ScaleLevel, Ticket, TicketField, TicketState

Key = tuple[int | None, str | None]  # (counter number, clerk id)


@dataclass
class LevelCount:
    key: str
    label: str
    count: int
    share: float | None
    pct: float | None = None  # the share in per cent, one decimal half up


@dataclass
class ChannelCount:
    """Ratings made one way (the touch screen, the button panel, a phone): apart, and also in the totals."""

    key: str
    counted: int = 0
    satisfied: int = 0
    flagged: int = 0

    @property
    def satisfied_pct(self) -> float | None:
        return share_pct(self.satisfied, self.counted)


#: Every way of rating, in the order the admin page lists them.
CHANNELS = ("touch", "button", "phone")


@dataclass
class IndicatorScore:
    key: str
    number: int
    question: str
    answers: int
    average: float  # points out of 2, rounded to one decimal half up (Điều 15, common.tt01)


@dataclass
class Figures:
    """Ratings and queue figures of one group (the whole kiosk, or one counter and clerk)."""

    counted: int = 0
    flagged: int = 0
    satisfied: int = 0
    served: int = 0
    no_show: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    indicators: list[IndicatorScore] = field(default_factory=list)

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.counted if self.counted else None

    @property
    def satisfied_pct(self) -> float | None:
        """ "Hài lòng trở lên" in per cent, one decimal half up (the same rule as the central reports)."""
        return share_pct(self.satisfied, self.counted)

    @property
    def mean_wait(self) -> float | None:
        return sum(self.waits) / len(self.waits) if self.waits else None

    @property
    def mean_service(self) -> float | None:
        return sum(self.services) / len(self.services) if self.services else None


@dataclass
class Row(Figures):
    counter: int | None = None
    clerk_id: str | None = None
    clerk_name: str | None = None
    #: The clerk's TT 01 grade over the day's answers (common.tt01.clerk_grade); None without a clerk or answers.
    grade: dict | None = None


@dataclass
class Today(Figures):
    day: date | None = None
    total: int = 0
    levels: list[LevelCount] = field(default_factory=list)
    issued: int = 0
    waiting: int = 0
    in_service: int = 0
    rows: list[Row] = field(default_factory=list)
    channels: list[ChannelCount] = field(default_factory=list)


def day_bounds(clock: Clock, day: date) -> tuple[datetime, datetime]:
    """The business day as a naive-UTC interval [start, end)."""
    start = datetime.combine(day, time(0), tzinfo=clock.tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.tz)
    return to_naive_utc(start), to_naive_utc(end)


def _scores(rows: list[tuple[str, int, int]]) -> list[IndicatorScore]:
    found = {indicator: (answers, points) for indicator, answers, points in rows if answers}
    return [
        IndicatorScore(ind.key, ind.number, ind.question, found[ind.key][0], indicator_score(*found[ind.key]))
        for ind in INDICATORS.values()
        if ind.key in found
    ]


def today_figures(session: Session, clock: Clock, day: date | None = None, min_answers: int = MIN_ANSWERS) -> Today:
    """Every figure of the admin page for ``day`` (default: today's business day).

    ``min_answers``: the setting ``grade_min_answers`` (a clerk's grade needs that many answers).
    """
    day = day or clock.business_day()
    start, end = day_bounds(clock, day)
    in_day = (Rating.device_time >= start, Rating.device_time < end)
    today = Today(day=day)
    rows: dict[Key, Row] = {}

    def row(counter: int | None, clerk_id: str | None) -> Row:
        return rows.setdefault((counter, clerk_id), Row(counter=counter, clerk_id=clerk_id))

    levels: dict[str, int] = defaultdict(int)
    channels = {key: ChannelCount(key) for key in CHANNELS}
    for level, counted, counter, clerk_id, channel, n in session.execute(
        select(Rating.level, Rating.counted, Rating.counter_number, Rating.clerk_id, Rating.channel, func.count())
        .where(*in_day)
        .group_by(Rating.level, Rating.counted, Rating.counter_number, Rating.clerk_id, Rating.channel)
    ):
        group = row(counter, clerk_id)
        way = channels.setdefault(channel, ChannelCount(channel))
        today.total += n
        if not counted:
            today.flagged += n
            group.flagged += n
            way.flagged += n
            continue
        levels[level] += n
        way.counted += n
        way.satisfied += n if level in SATISFIED_OR_ABOVE else 0
        for figures in (today, group):
            figures.counted += n
            if level in SATISFIED_OR_ABOVE:
                figures.satisfied += n

    today.channels = list(channels.values())
    labels = session.execute(select(ScaleLevel.key, ScaleLevel.label, ScaleLevel.active).order_by(ScaleLevel.position))
    for key, label, active in labels:
        if active or levels.get(key):
            n = levels.get(key, 0)
            share = n / today.counted if today.counted else None
            today.levels.append(LevelCount(key, label, n, share, share_pct(n, today.counted)))

    answers = session.execute(
        select(
            Rating.counter_number,
            Rating.clerk_id,
            IndicatorAnswer.indicator,
            func.count(),
            func.sum(IndicatorAnswer.points),
        )
        .join(Rating, Rating.id == IndicatorAnswer.rating_id)
        .where(*in_day, Rating.counted)
        .group_by(Rating.counter_number, Rating.clerk_id, IndicatorAnswer.indicator)
    ).all()
    overall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_row: dict[Key, list[tuple[str, int, int]]] = defaultdict(list)
    for counter, clerk_id, indicator, n, points in answers:
        overall[indicator][0] += n
        overall[indicator][1] += int(points or 0)
        per_row[(counter, clerk_id)].append((indicator, n, int(points or 0)))
    today.indicators = _scores([(k, n, p) for k, (n, p) in overall.items()])
    for key, found in per_row.items():
        row(*key).indicators = _scores(found)
        if key[1] is not None:
            row(*key).grade = clerk_grade({k: (n, p) for k, n, p in found}, min_answers)

    several = fields_served(session, day)  # visits of several fields: each field done is a service of its own
    for ticket_id, status, counter, clerk_id, queued, called, finished in session.execute(
        select(
            Ticket.id,
            TicketState.status,
            TicketState.counter_number,
            TicketState.clerk_id,
            TicketState.queued_at,
            TicketState.called_at,
            TicketState.finished_at,
        )
        .select_from(Ticket)
        .outerjoin(TicketState, TicketState.ticket_id == Ticket.id)
        .where(Ticket.business_day == day)
    ):
        today.issued += 1
        if status is None:
            continue  # issued, but its queue state is not written (yet)
        if status == "waiting":
            today.waiting += 1
            continue
        group = row(counter, clerk_id)
        if status == "called":
            today.in_service += 1
        elif status == "no_show":
            today.no_show += 1
            group.no_show += 1
            continue  # the citizen never came: no waiting or service time to speak of
        elif status == "done":
            today.served += 1
            group.served += 1
            if called and finished and ticket_id not in several:
                for figures in (today, group):
                    figures.services.append((finished - called).total_seconds())
        if called:
            for figures in (today, group):
                figures.waits.append((called - queued).total_seconds())

    for served in several.values():
        for counter, clerk_id, seconds in served:
            for figures in (today, row(counter, clerk_id)):
                figures.services.append(seconds)
    names = dict(session.execute(select(Clerk.id, Clerk.name)).all())
    for (_, clerk_id), group in rows.items():
        group.clerk_name = names.get(clerk_id) if clerk_id else None
    today.rows = sorted(
        rows.values(), key=lambda r: (r.counter is None, r.counter or 0, r.clerk_name is None, r.clerk_name or "")
    )
    return today


def fields_served(session: Session, day: date) -> dict[str, list[tuple[int | None, str | None, float]]]:
    """The fields done of the day's visits of several fields, per ticket: (counter, clerk who completed it, seconds
    from its call to its end) — every field is a service with its own time, not only the visit's last."""
    found: dict[str, list[tuple[int | None, str | None, float]]] = defaultdict(list)
    completed = (
        select(ClerkAction.clerk_id)
        .where(
            ClerkAction.ticket_id == TicketField.ticket_id,
            ClerkAction.action == "complete",
            ClerkAction.counter_number == TicketField.counter_number,
        )
        .order_by(ClerkAction.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            TicketField.ticket_id, TicketField.counter_number, completed, TicketField.called_at, TicketField.finished_at
        )
        .join(Ticket, Ticket.id == TicketField.ticket_id)
        .where(Ticket.business_day == day, TicketField.status == "done")
    )
    for ticket_id, counter, clerk_id, called, finished in session.execute(query):
        if called and finished:
            found[ticket_id].append((counter, clerk_id, (finished - called).total_seconds()))
    return found
