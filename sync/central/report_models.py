"""Tables the reports add to the central database: derived facts, rollups, and the comments inbox state.

Everything here is *derived* from the append-only records of ``sync.central.models`` except
:class:`CommentStatus` (the inbox's follow-up of a comment, which the comment record itself never holds).
The derived tables are maintained by ``sync.reports.rollups.apply_batch`` inside the transaction that
stores a device's batch, and can be rebuilt from the records at any time (``kiosk-central
rebuild-rollups``); docs/reports.md explains why late records keep them exact.

Rollups are kept at several grains at once — ``grain`` "M" (month), "Q" (quarter), "Y" (year), and "D"
(day) for the totals — and ``start`` is the first local (Asia/Ho_Chi_Minh) day of that month, quarter,
year or the day itself. A province-wide year then reads one row per commune and dimension instead of
twelve. Keys follow the central schema's rule (commune first, no global counters); each rollup also
has an index on (grain, start) for queries over every commune. Dimensions a record may lack are stored
as sentinels so they can be part of the key: service ``""``, counter ``0``, clerk the nil UUID.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.central.models import UUID, CentralBase, ClerkAction, IndicatorAnswer

NO_SERVICE = ""
NO_COUNTER = 0
NO_CLERK = "00000000-0000-0000-0000-000000000000"
#: Grains of every rollup but the totals, and of the totals.
GRAINS = ("M", "Q", "Y")
TOTAL_GRAINS = ("D", "M", "Q", "Y")


def _service_key():
    return mapped_column(String(16), primary_key=True)


def _counter_key():
    return mapped_column(Integer, primary_key=True, autoincrement=False)


def _clerk_key():
    return mapped_column(UUID, primary_key=True)


def _grain_key():
    return mapped_column(String(1), primary_key=True)


def _start_key():
    return mapped_column(Date, primary_key=True)


def _by_start(table: str) -> tuple:
    return (Index(f"ix_{table}_grain_start", "grain", "start"),)


def _count():
    return mapped_column(BigInteger, default=0)


class RollupRatings(CentralBase):
    """Presses per grain, field, counter and clerk: counted, satisfied or above, points, flagged."""

    __tablename__ = "rollup_ratings"
    __table_args__ = _by_start("rollup_ratings")
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    grain: Mapped[str] = _grain_key()
    start: Mapped[date] = _start_key()
    service_code: Mapped[str] = _service_key()
    counter_number: Mapped[int] = _counter_key()
    clerk_id: Mapped[str] = _clerk_key()
    ratings: Mapped[int] = _count()
    satisfied_plus: Mapped[int] = _count()
    points: Mapped[int] = _count()
    flagged: Mapped[int] = _count()


class RollupLevels(CentralBase):
    """Counted presses per grain, field and level (the distribution of levels, whatever the level keys)."""

    __tablename__ = "rollup_levels"
    __table_args__ = _by_start("rollup_levels")
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    grain: Mapped[str] = _grain_key()
    start: Mapped[date] = _start_key()
    service_code: Mapped[str] = _service_key()
    level: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = _count()


class RollupChannels(CentralBase):
    """Presses per grain, field and channel (touch screen, button panel, phone): the ways of rating apart."""

    __tablename__ = "rollup_channels"
    __table_args__ = _by_start("rollup_channels")
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    grain: Mapped[str] = _grain_key()
    start: Mapped[date] = _start_key()
    service_code: Mapped[str] = _service_key()
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    ratings: Mapped[int] = _count()
    satisfied_plus: Mapped[int] = _count()
    points: Mapped[int] = _count()
    flagged: Mapped[int] = _count()


class RollupIndicators(CentralBase):
    """TT 01 indicator answers of counted ratings, by the rating's period, field, counter and clerk."""

    __tablename__ = "rollup_indicators"
    __table_args__ = _by_start("rollup_indicators")
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    grain: Mapped[str] = _grain_key()
    start: Mapped[date] = _start_key()
    service_code: Mapped[str] = _service_key()
    counter_number: Mapped[int] = _counter_key()
    clerk_id: Mapped[str] = _clerk_key()
    indicator: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = _count()
    points: Mapped[int] = _count()
    n2: Mapped[int] = _count()
    n1: Mapped[int] = _count()
    n0: Mapped[int] = _count()


class RollupTotals(CentralBase):
    """Per commune, day/month/quarter/year: the trend without reading the records."""

    __tablename__ = "rollup_totals"
    __table_args__ = _by_start("rollup_totals")
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    grain: Mapped[str] = _grain_key()
    start: Mapped[date] = _start_key()
    ratings: Mapped[int] = _count()
    satisfied_plus: Mapped[int] = _count()
    points: Mapped[int] = _count()
    flagged: Mapped[int] = _count()
    tickets: Mapped[int] = _count()


class RollupHeat(CentralBase):
    """Counted ratings and issued tickets per grain, ISO weekday (1 = Monday) and local hour."""

    __tablename__ = "rollup_heat"
    __table_args__ = _by_start("rollup_heat")
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    grain: Mapped[str] = _grain_key()
    start: Mapped[date] = _start_key()
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ratings: Mapped[int] = _count()
    satisfied_plus: Mapped[int] = _count()
    tickets: Mapped[int] = _count()


class RollupQueue(CentralBase):
    """Tickets by the period they were issued in, their final field, and the counter/clerk that ended them."""

    __tablename__ = "rollup_queue"
    __table_args__ = _by_start("rollup_queue")
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    grain: Mapped[str] = _grain_key()
    start: Mapped[date] = _start_key()
    service_code: Mapped[str] = _service_key()
    counter_number: Mapped[int] = _counter_key()
    clerk_id: Mapped[str] = _clerk_key()
    issued: Mapped[int] = _count()
    served: Mapped[int] = _count()
    no_show: Mapped[int] = _count()
    waited: Mapped[int] = _count()
    wait_seconds: Mapped[int] = _count()
    service_n: Mapped[int] = _count()
    service_seconds: Mapped[int] = _count()


class RollupWait(CentralBase):
    """How many called tickets waited ``minute`` minutes (rounded up; capped) — for the 90th percentile."""

    __tablename__ = "rollup_wait"
    __table_args__ = _by_start("rollup_wait")
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    grain: Mapped[str] = _grain_key()
    start: Mapped[date] = _start_key()
    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = _count()


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
