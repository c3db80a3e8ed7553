"""Tables the reports add to the central database: derived facts, rollups, and the comments inbox state.

Everything here is *derived* from the append-only records of ``sync.central.models`` except
:class:`CommentStatus` (the inbox's follow-up of a comment, which the comment record itself never holds).
The derived tables are maintained by ``sync.reports.rollups.apply_batch`` inside the transaction that
stores a device's batch, and can be rebuilt from the records at any time (``kiosk-central
rebuild-rollups``); docs/reports.md explains why late records keep them exact.

Keys follow the central schema's rule (commune first, no global counters). Rollup dimensions that a
record may lack are stored as sentinels so they can be part of the primary key: service ``""``,
counter ``0``, clerk the nil UUID (see :data:`NO_SERVICE`, :data:`NO_COUNTER`, :data:`NO_CLERK`).
``month`` is the first day of the Asia/Ho_Chi_Minh calendar month, ``day`` a local calendar day.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.central.models import UUID, CentralBase, ClerkAction, IndicatorAnswer

NO_SERVICE = ""
NO_COUNTER = 0
NO_CLERK = "00000000-0000-0000-0000-000000000000"


def _service_key():
    return mapped_column(String(16), primary_key=True)


def _counter_key():
    return mapped_column(Integer, primary_key=True, autoincrement=False)


def _clerk_key():
    return mapped_column(UUID, primary_key=True)


class RollupRatings(CentralBase):
    """Presses per local month, field, counter and clerk: counted, satisfied or above, points, flagged."""

    __tablename__ = "rollup_ratings"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    service_code: Mapped[str] = _service_key()
    counter_number: Mapped[int] = _counter_key()
    clerk_id: Mapped[str] = _clerk_key()
    ratings: Mapped[int] = mapped_column(BigInteger, default=0)
    satisfied_plus: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    flagged: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupLevels(CentralBase):
    """Counted presses per local month, field and level (the distribution of levels; any level key)."""

    __tablename__ = "rollup_levels"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    service_code: Mapped[str] = _service_key()
    level: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupIndicators(CentralBase):
    """TT 01 indicator answers of counted ratings, by the rating's month, field, counter and clerk."""

    __tablename__ = "rollup_indicators"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    service_code: Mapped[str] = _service_key()
    counter_number: Mapped[int] = _counter_key()
    clerk_id: Mapped[str] = _clerk_key()
    indicator: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    n2: Mapped[int] = mapped_column(BigInteger, default=0)
    n1: Mapped[int] = mapped_column(BigInteger, default=0)
    n0: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupDaily(CentralBase):
    """Per commune and local day: the daily trend without reading the records."""

    __tablename__ = "rollup_daily"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ratings: Mapped[int] = mapped_column(BigInteger, default=0)
    satisfied_plus: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    flagged: Mapped[int] = mapped_column(BigInteger, default=0)
    tickets: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupHeat(CentralBase):
    """Counted ratings and issued tickets per local month, ISO weekday (1 = Monday) and local hour."""

    __tablename__ = "rollup_heat"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ratings: Mapped[int] = mapped_column(BigInteger, default=0)
    satisfied_plus: Mapped[int] = mapped_column(BigInteger, default=0)
    tickets: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupQueue(CentralBase):
    """Tickets by the local month they were issued in, their final field, and the counter/clerk that ended them."""

    __tablename__ = "rollup_queue"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    service_code: Mapped[str] = _service_key()
    counter_number: Mapped[int] = _counter_key()
    clerk_id: Mapped[str] = _clerk_key()
    issued: Mapped[int] = mapped_column(BigInteger, default=0)
    served: Mapped[int] = mapped_column(BigInteger, default=0)
    no_show: Mapped[int] = mapped_column(BigInteger, default=0)
    waited: Mapped[int] = mapped_column(BigInteger, default=0)
    wait_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    service_n: Mapped[int] = mapped_column(BigInteger, default=0)
    service_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupWait(CentralBase):
    """How many called tickets waited ``minute`` minutes (rounded up; capped) — for the 90th percentile."""

    __tablename__ = "rollup_wait"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


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
