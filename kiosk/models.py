"""The device's tables.

Records made on the device (:class:`DeviceRecord`: tickets, ratings, indicator answers, comments, clerk
actions) carry a device-made UUID, a monotonic per-device sequence number, the wall-clock time (naive
UTC) and whether the clock was NTP-synchronised. They are never updated after they are written;
corrections are new records. State that changes (where a ticket is in the queue, its print status,
what was sent to the central server) lives in local tables that are never synced.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_uuid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- the catalogue (seeded by `kiosk init`, edited at /admin or by the central server) -------------


class DeviceState(Base):
    """Key/value facts about this device (the last sequence number handed out, …); the keys and how each value
    is stored are declared in :mod:`kiosk.device_state`, the only code that reads or writes this table."""

    __tablename__ = "device_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ScaleLevel(Base):
    """One level of the rating scale (wording and points are configurable per province)."""

    __tablename__ = "scale_levels"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Question(Base):
    """A TT 01 indicator the detailed form may ask (time, contacts, agencies, attitude), with its wording.

    ``answers`` is the wording of the 2-, 1- and 0-point answers; an inactive question is not asked.
    """

    __tablename__ = "questions"
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    question: Mapped[str] = mapped_column(String(200))
    answers: Mapped[list] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


counter_services = Table(
    "counter_services",
    Base.metadata,
    Column("counter_number", ForeignKey("counters.number", ondelete="CASCADE"), primary_key=True),
    Column("service_code", ForeignKey("services.code", ondelete="CASCADE"), primary_key=True),
)


class Service(Base):
    """A field of procedures (lĩnh vực) with its own queue."""

    __tablename__ = "services"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(4), default="")
    daily_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    counters: Mapped[list[Counter]] = relationship(secondary=counter_services, back_populates="services")


class Counter(Base):
    """A counter (quầy) where one clerk serves some services."""

    __tablename__ = "counters"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    services: Mapped[list[Service]] = relationship(secondary=counter_services, back_populates="counters")


class Clerk(Base):
    """A clerk (công chức); the PIN is stored hashed. The id is the person's id in the whole commune."""

    __tablename__ = "clerks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    counter_number: Mapped[int | None] = mapped_column(ForeignKey("counters.number"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --- records made on the device (append-only, synced) ---------------------------------------------


class DeviceRecord:
    """Columns every synced record carries."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    seq: Mapped[int] = mapped_column(Integer, unique=True, index=True)
    device_time: Mapped[datetime] = mapped_column(DateTime)
    clock_synced: Mapped[bool] = mapped_column(Boolean)


class Ticket(DeviceRecord, Base):
    """A queue ticket as issued. Its journey through the queue is in :class:`TicketState`."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("service_code", "business_day", "number", name="uq_tickets_service_day_number"),)
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"))
    business_day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    display_number: Mapped[str] = mapped_column(String(16))
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default="touch")
    #: True for a booked citizen checked in by code (``kiosk.bookings``); None for a walk-in.
    booked: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: The booking code the ticket was checked in with (booked or late), None for a walk-in (``kiosk.bookings``).
    booking_code: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Rating(DeviceRecord, Base):
    """One press of a rating button or tap of a face; flagged presses are kept but not counted."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_ticket_id", "ticket_id"),)  # one ticket, one counted rating
    level: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    panel: Mapped[str] = mapped_column(String(64))
    counted: Mapped[bool] = mapped_column(Boolean)
    flag: Mapped[str | None] = mapped_column(String(64), nullable=True)
    counter_number: Mapped[int | None] = mapped_column(ForeignKey("counters.number"), nullable=True)
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"), nullable=True)
    service_code: Mapped[str | None] = mapped_column(ForeignKey("services.code"), nullable=True)
    #: The dossier codes (mã hồ sơ) the clerk attached to the rated ticket, separated by spaces.
    dossier_codes: Mapped[str | None] = mapped_column(String(550), nullable=True)
    #: A visit of several fields (kiosk.fields): the fields served, separated by spaces; else null.
    services: Mapped[str | None] = mapped_column(String(60), nullable=True)


class IndicatorAnswer(DeviceRecord, Base):
    """The answer to one TT 01 indicator (time, contacts, agencies, attitude) for a rating."""

    __tablename__ = "indicator_answers"
    __table_args__ = (UniqueConstraint("rating_id", "indicator", name="uq_indicator_answers_rating_indicator"),)
    rating_id: Mapped[str] = mapped_column(ForeignKey("ratings.id"))
    indicator: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)


class Comment(DeviceRecord, Base):
    """A comment (góp ý). The contact, if any, is confidential (NĐ 61/2018 Điều 27)."""

    __tablename__ = "comments"
    rating_id: Mapped[str | None] = mapped_column(ForeignKey("ratings.id"), nullable=True)
    counter_number: Mapped[int | None] = mapped_column(ForeignKey("counters.number"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: "suggestion" for the suggestion box (hòm thư góp ý, no rating); None for a comment left with a rating.
    source: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ClerkAction(DeviceRecord, Base):
    """What a clerk did: call, recall, no_show, complete, transfer, pause, resume, login, logout."""

    __tablename__ = "clerk_actions"
    __table_args__ = (Index("ix_clerk_actions_ticket_id", "ticket_id"),)  # a phone page counts its calls
    action: Mapped[str] = mapped_column(String(16))
    counter_number: Mapped[int | None] = mapped_column(ForeignKey("counters.number"), nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"), nullable=True)
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)


# --- local state (never synced) --------------------------------------------------------------------


class TicketState(Base):
    """Where a ticket is now: waiting / called / no_show / done, at which counter, for which service.

    ``queue_day`` is the day whose queue the ticket waits in: its business day, unless a clock change moved
    it into the next trusted day's queue (``kiosk.queue_day``); ``provisional`` marks a ticket issued while
    the clock was unsynchronised (its day was the last trusted one). ``token`` is the secret of the ticket's
    phone page (``/t/<token>``), printed only inside the ticket's QR code; it stays on the kiosk.
    """

    __tablename__ = "ticket_state"
    __table_args__ = (
        Index("ix_ticket_state_queue", "status", "queue_day", "service_code", "priority"),
        Index("ix_ticket_state_token", "token", unique=True),
    )
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"))
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    queued_at: Mapped[datetime] = mapped_column(DateTime)
    queue_day: Mapped[date] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    counter_number: Mapped[int | None] = mapped_column(ForeignKey("counters.number"), nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"), nullable=True)
    called_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: Dossier codes attached so far (each attachment is also a ``dossier`` clerk action), separated by spaces.
    dossier_codes: Mapped[str | None] = mapped_column(String(550), nullable=True)
    token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: A checked-in booking's booked time (UTC): from then on it goes ahead of walk-ins (``kiosk.booking_rule``).
    due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class TicketField(Base):
    """One field of a ticket that carries several (a visit with two files): its place in the ticket's list and
    how it ended. The current field is the first one not ended; it is also ``ticket_state.service_code``.
    A ticket of one field has no rows here. ``status``: ``waiting`` (not yet served) / ``done`` / ``no_show``."""

    __tablename__ = "ticket_fields"
    #: a press at a counter finds the field done there last (kiosk.ratings: one visit, one counted rating)
    __table_args__ = (Index("ix_ticket_fields_counter_finished", "counter_number", "finished_at"),)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    counter_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    called_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    dossier_codes: Mapped[str | None] = mapped_column(String(550), nullable=True)


class PrintJob(Base):
    """The print status of a ticket: pending / printed / failed, with the last error."""

    __tablename__ = "print_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SyncedRecord(Base):
    """A record the central server named as accepted (or already had); the outbox skips it."""

    __tablename__ = "synced_records"
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer, index=True)
    synced_at: Mapped[datetime] = mapped_column(DateTime)


#: Synced record tables, by the name used in sync batches.
RECORD_TYPES: dict[str, type[DeviceRecord]] = {
    "ticket": Ticket,
    "rating": Rating,
    "indicator_answer": IndicatorAnswer,
    "comment": Comment,
    "clerk_action": ClerkAction,
}


# --- the commune's procedures (taken down at sync, shown offline at "Tra cứu thủ tục"; never synced up) --
class KioskProcedure(Base):
    """One procedure: its field, the papers to bring, the forms, fee, time and where the result is returned."""

    __tablename__ = "procedures"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(300))
    papers: Mapped[list] = mapped_column(JSON)
    forms: Mapped[list] = mapped_column(JSON)
    fee: Mapped[str] = mapped_column(String(300))
    days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_at: Mapped[str] = mapped_column(Text)
    #: The name and code without diacritics, in lower case (``common.procedure_rules.fold``): what a search matches.
    search: Mapped[str] = mapped_column(Text)


class ProcedureList(Base):
    """Which version of the commune's list the kiosk holds (one row), and when it came."""

    __tablename__ = "procedure_list"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)


# --- bookings (taken down at sync for the reception point; never synced up: the ticket carries the mark) -----
class KioskBooking(Base):
    """A booking of this reception point for today or tomorrow: its code, field and booked local time."""

    __tablename__ = "bookings"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(16))
    service_code: Mapped[str] = mapped_column(String(16))
    #: The booked time, local (naive), as the central server sent it.
    at: Mapped[datetime] = mapped_column(DateTime)
    #: The citizen's name: confidential, only on the admin's list of the day (/admin/bookings), never printed.
    name: Mapped[str] = mapped_column(String(100), default="")


class BookingList(Base):
    """Which version of the reception point's bookings the kiosk holds (one row), and when it came."""

    __tablename__ = "booking_list"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class BookingCheckin(Base):
    """A booking checked in at this kiosk (kept when the list is replaced): its ticket, and whether on time."""

    __tablename__ = "booking_checkins"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    checked_in_at: Mapped[datetime] = mapped_column(DateTime)
    #: ``booked`` (within its grace: goes ahead at its time) or ``late`` (past its grace: a walk-in).
    outcome: Mapped[str] = mapped_column(String(16))


# --- posted documents (niêm yết: taken down at sync; a form's PDF kept under DATA_DIR/posted by its checksum) ----
class KioskPosted(Base):
    """One posted document of the commune: rules, fee table, form (a PDF by its SHA-256) or notice."""

    __tablename__ = "posted_documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    rows: Mapped[list] = mapped_column(JSON)
    file_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    file_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    shown_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    shown_to: Mapped[date | None] = mapped_column(Date, nullable=True)


class PostedList(Base):
    """Which version of the commune's posted documents the kiosk holds (one row), and when it came."""

    __tablename__ = "posted_list"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)
