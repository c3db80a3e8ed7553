"""Tables the reports add to the central database: derived facts, rollups, and the comments inbox state.

Everything here is *derived* from the append-only records of ``central.models`` except
:class:`CommentStatus` (the inbox's follow-up of a comment, which the comment record itself never holds).
The derived tables are maintained by ``central.reports.rollups.apply_batch`` inside the transaction that
stores a device's batch, and can be rebuilt from the records at any time (``kiosk-central
rebuild-rollups``); docs/reports.md explains why late records keep them exact.

Rollups are kept at four grains at once — ``grain`` "D" (day), "T" (dekad, tuần: days 1–10, 11–20, 21–end),
"M" (month) and "Y" (year) — and ``start`` is the first local (setting ``timezone``) day of that day, dekad, month
or year. Any range of days is answered by whole years, months and dekads and the days left over
(``Period.split``), so a province-wide year reads one row per key, and a custom period off month boundaries
reads dekad rows and at most nine day rows at each ragged end.

Two families share one key prefix ``(commune, site, grain, start, service)``:

* the **commune cube** (:class:`RollupTotals`, :class:`RollupLevels`, :class:`RollupHeat`, :class:`RollupWait`,
  :class:`RollupChannels`):
  per commune, reception point and field — what the province-wide views add up;
* the **people cube** (:class:`RollupRatings`, :class:`RollupIndicators`, :class:`RollupQueue`,
  :class:`RollupServices`): also per counter and clerk — what rankings and counter or clerk filters need.

Every record adds to the rows of its own field *and* to the rows of field :data:`ALL_SERVICES`, so a view
over every field reads one row per key instead of one per field. Keys follow the central schema's rule
(commune first, no global counters); each rollup also has an index on ``(grain, start, service_code,
commune_code)`` for views over many communes. Dimensions a record may lack are stored as sentinels so they can
be part of the key: service ``""``, counter ``0``, clerk the nil UUID.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.models import MAIN_SITE, UUID, CentralBase, ClerkAction, IndicatorAnswer

NO_SERVICE = ""
NO_COUNTER = 0
NO_CLERK = "00000000-0000-0000-0000-000000000000"
#: The field of the rows that add up every field (service codes are capital letters and digits only).
ALL_SERVICES = "*"
#: Grains of every rollup: day, dekad, month, year.
GRAINS = ("D", "T", "M", "Y")


def _key(kind=String(16), order: int = -1):
    """A key column; ``order`` puts the key columns first, in the key's order (mixin columns come last otherwise)."""
    return mapped_column(kind, primary_key=True, sort_order=order)


def _counter_key(order: int = -1):
    return mapped_column(Integer, primary_key=True, autoincrement=False, sort_order=order)


def _indexes(table: str) -> tuple:
    return (Index(f"ix_{table}_grain_start", "grain", "start", "service_code", "commune_code"),)


def _count():
    return mapped_column(BigInteger, default=0)


class _CommuneKey:
    """(commune, site, grain, start, field): the key every rollup starts with."""

    commune_code: Mapped[str] = _key(order=-20)
    site_code: Mapped[str] = _key(order=-19)
    grain: Mapped[str] = _key(String(1), -18)
    start: Mapped[date] = _key(Date, -17)
    service_code: Mapped[str] = _key(order=-16)


class _PersonKey(_CommuneKey):
    counter_number: Mapped[int] = _counter_key(-15)
    clerk_id: Mapped[str] = _key(UUID, -14)


class _PressCounts:
    """Presses: counted, satisfied or above, points, flagged."""

    ratings: Mapped[int] = _count()
    satisfied_plus: Mapped[int] = _count()
    points: Mapped[int] = _count()
    flagged: Mapped[int] = _count()


class _QueueCounts:
    """Tickets: issued, served, no-shows; measured waits and service times (how many, and their seconds)."""

    issued: Mapped[int] = _count()
    served: Mapped[int] = _count()
    no_show: Mapped[int] = _count()
    waited: Mapped[int] = _count()
    wait_seconds: Mapped[int] = _count()
    service_n: Mapped[int] = _count()
    service_seconds: Mapped[int] = _count()


# --- the commune cube ----------------------------------------------------------------------------------


class RollupTotals(_PressCounts, _QueueCounts, _CommuneKey, CentralBase):
    """Presses and the queue per commune, site, grain and field: the province views, the trend, "cùng kỳ".

    Tickets count in the period they were issued, under their final field (after transfers).
    """

    __tablename__ = "rollup_totals"
    __table_args__ = _indexes("rollup_totals")


class RollupLevels(_CommuneKey, CentralBase):
    """Counted presses per level (the distribution of levels, whatever the level keys)."""

    __tablename__ = "rollup_levels"
    __table_args__ = _indexes("rollup_levels")
    level: Mapped[str] = _key(String(32), -13)
    n: Mapped[int] = _count()


class RollupHeat(_CommuneKey, CentralBase):
    """Counted ratings and issued tickets per ISO weekday (1 = Monday) and local hour."""

    __tablename__ = "rollup_heat"
    __table_args__ = _indexes("rollup_heat")
    weekday: Mapped[int] = _counter_key(-13)
    hour: Mapped[int] = _counter_key(-12)
    ratings: Mapped[int] = _count()
    satisfied_plus: Mapped[int] = _count()
    tickets: Mapped[int] = _count()


class RollupWait(_CommuneKey, CentralBase):
    """How many called tickets waited ``minute`` minutes (rounded up; capped) — for the 90th percentile."""

    __tablename__ = "rollup_wait"
    __table_args__ = _indexes("rollup_wait")
    minute: Mapped[int] = _counter_key(-13)
    n: Mapped[int] = _count()


class RollupChannels(_PressCounts, _CommuneKey, CentralBase):
    """Presses per channel (touch screen, button panel, phone): the ways of rating apart, each also in the totals."""

    __tablename__ = "rollup_channels"
    __table_args__ = _indexes("rollup_channels")
    channel: Mapped[str] = _key(String(16), -13)


# --- the people cube -----------------------------------------------------------------------------------


class RollupRatings(_PressCounts, _PersonKey, CentralBase):
    """Presses per counter and clerk: counted, satisfied or above, points, flagged."""

    __tablename__ = "rollup_ratings"
    __table_args__ = _indexes("rollup_ratings")


class RollupIndicators(_PersonKey, CentralBase):
    """TT 01 indicator answers of counted ratings, by the rating's period, site, field, counter and clerk."""

    __tablename__ = "rollup_indicators"
    __table_args__ = _indexes("rollup_indicators")
    indicator: Mapped[str] = _key(order=-13)
    n: Mapped[int] = _count()
    points: Mapped[int] = _count()
    n2: Mapped[int] = _count()
    n1: Mapped[int] = _count()
    n0: Mapped[int] = _count()


class RollupQueue(_QueueCounts, _PersonKey, CentralBase):
    """Tickets by the period they were issued in, their final field, and the counter/clerk that ended them."""

    __tablename__ = "rollup_queue"
    __table_args__ = _indexes("rollup_queue")


class RollupServices(_PersonKey, CentralBase):
    """What a visit of several fields adds to the per-field and per-clerk figures (central.reports.visits).

    ``services``/``timed``/``service_seconds``: the fields completed *before* a visit's last one, by the ticket's
    issue day and site, the field completed and the counter and clerk who completed it (the last one is in the
    queue rollups). ``field_*``: a counted rating of such a visit once more under each other field it names, with
    the rating's day, site, counter and clerk. ``clerk_*``: the same rating once more for each other clerk who
    completed one of its fields, under that clerk (field ``""``, counter 0).
    """

    __tablename__ = "rollup_services"
    __table_args__ = _indexes("rollup_services")
    services: Mapped[int] = _count()
    timed: Mapped[int] = _count()
    service_seconds: Mapped[int] = _count()
    field_ratings: Mapped[int] = _count()
    field_satisfied: Mapped[int] = _count()
    field_points: Mapped[int] = _count()
    clerk_ratings: Mapped[int] = _count()
    clerk_satisfied: Mapped[int] = _count()
    clerk_points: Mapped[int] = _count()


class TicketFact(CentralBase):
    """A ticket's journey as the server knows it (ticket record + its clerk actions), one row per ticket.

    ``outcome``: waiting (never called), called (called, not ended), served, no_show. Times are the
    records' corrected times (naive UTC); ``wait_minutes`` = wait rounded up to whole minutes.
    """

    __tablename__ = "ticket_facts"
    __table_args__ = (Index("ix_ticket_facts_commune_issued", "commune_code", "issued_at"),)
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    site_code: Mapped[str] = mapped_column(String(16), default=MAIN_SITE)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    service_code: Mapped[str] = mapped_column(String(16))
    counter_number: Mapped[int] = mapped_column(Integer)
    clerk_id: Mapped[str] = mapped_column(UUID)
    outcome: Mapped[str] = mapped_column(String(16))
    called_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    wait_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    wait_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    service_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PendingLink(CentralBase):
    """A record that arrived before the record it belongs to: an indicator answer before its rating, a
    clerk action before its ticket. It waits here until the parent comes (then its contribution is added
    and the row goes); batches normally come in order, so this table is nearly always empty.
    """

    __tablename__ = "rollup_pending"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    parent_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    child_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "answer" or "action"


class CommentStatus(CentralBase):
    """The inbox's follow-up of one comment: read, assigned to a handler, answered with a reply note."""

    __tablename__ = "comment_status"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    comment_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new / read / assigned / answered
    assigned_to: Mapped[str | None] = mapped_column(UUID, nullable=True)
    reply_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(UUID, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(UUID, nullable=True)


#: Indexes the reports add to record tables: a ticket's clerk actions, a rating's indicator answers.
_actions, _answers = ClerkAction.__table__.c, IndicatorAnswer.__table__.c
RECORD_INDEXES = (
    Index("ix_clerk_actions_ticket", _actions.commune_code, _actions.device_id, _actions.ticket_id),
    Index("ix_indicator_answers_rating", _answers.commune_code, _answers.device_id, _answers.rating_id),
)
