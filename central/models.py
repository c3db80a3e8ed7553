"""The central server's tables (own metadata, own Alembic folder ``central/migrations``).

Keyed so that one PostgreSQL can later become a Citus cluster distributed by commune (docs/scaling.md):

* every table that grows with use (records, quarantine, sync log, per-commune catalogue, device
  status) has ``commune_code`` as the first column of its primary key, and the device id next to the
  record's own UUID: rows of one commune live together, a device can never touch another device's rows;
* small, slowly changing tables that every query joins (communes, devices, users) are keyed by their own
  id and become Citus *reference* tables;
* no global counters: ids are UUIDs made where the row is made (records on the device, sync log rows on
  the server), so nothing needs a coordinator.

Records made on a device (tickets, ratings, indicator answers, comments, clerk actions) are stored as
sent and never updated. They carry the device's wall-clock time and clock flag, plus the server's
``corrected_time`` (device time + clock offset measured at sync when the device clock was not
synchronised): reports use ``corrected_time``. Mutable follow-up (a comment being answered, say) belongs
in its own table keyed by (commune_code, device_id, record id), never in the record row.

All times are naive UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.catalog_rules import MAIN_SITE as CATALOG_MAIN_SITE

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: UUIDs are native ``uuid`` on PostgreSQL (16 bytes in every index) and 32 hex characters on SQLite;
#: Python sees the usual hyphenated string either way.
UUID = Uuid(as_uuid=False)


class CentralBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- reference tables (small; replicated to every node under Citus) --------------------------------


class Province(CentralBase):
    """A province (tỉnh) or centrally run city: since 1 July 2025 the level above the communes."""

    __tablename__ = "provinces"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Commune(CentralBase):
    """A commune (xã, phường, đặc khu), its province, and who manages its catalogue.

    ``district_code`` is the *former* district (huyện, abolished on 1 July 2025): an optional label kept so that
    reports of 2024–2025 can still be grouped as they were.

    ``catalog_owner``: ``kiosk`` (edited at the kiosks' `/admin`; their edits travel up) until an administrator
    first edits the catalogue here (pages or `import-config`), then ``central``. ``catalog_adopted_at``: when a
    kiosk's catalogue was adopted as the commune's; None while the commune still has only the seeded defaults.
    """

    __tablename__ = "communes"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    district_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    #: The province's code (``provinces``; kept by the code that creates communes, not by a foreign key, which
    #: SQLite could not add to an existing table).
    province_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    catalog_owner: Mapped[str] = mapped_column(String(16), default="kiosk", server_default="kiosk")
    catalog_adopted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


#: The site every commune has from the start (its one-stop counter); a merged commune adds its reception points.
MAIN_SITE = CATALOG_MAIN_SITE


class Site(CentralBase):
    """A reception point (điểm tiếp nhận) of a commune: its one-stop centre, or a counter in a former commune.

    A kiosk belongs to one site; the records it sends are stored with that site (``site_code``), so moving a
    kiosk later changes only the site of its later records.
    """

    __tablename__ = "sites"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The former commune this reception point serves (a label for history), if any.
    former_commune: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Device(CentralBase):
    """A registered kiosk of a commune's site. Its signing secret is *derived*, not stored (see ``central.keys``).

    HMAC needs the same secret at both ends, so a one-way hash would not do; instead the secret is
    HMAC(server master key, device id, key_version). A copy of this table alone cannot forge a request.
    ``secret_fingerprint`` (SHA-256 of the secret) lets the server notice a changed master key.
    """

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), index=True)
    site_code: Mapped[str] = mapped_column(String(16), default=MAIN_SITE, server_default=MAIN_SITE)
    name: Mapped[str] = mapped_column(String(200))
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    secret_fingerprint: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class User(CentralBase):
    """Someone who signs in to the central server's pages. Scope: everything, a province, or communes.

    ``role``: admin, province_viewer, commune_admin, commune_viewer, handler (:mod:`central.roles`). A commune
    role's communes are ``commune_code`` and, for a commune viewer of several, the rows of ``user_communes``.
    ``district_code`` is kept for history (the district of a former district viewer); ``note`` tells the
    administrators what happened to the account (the migration of 2025's district viewers writes one).
    """

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), nullable=True)
    district_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    province_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    #: Raised by a sign-out: every session cookie of this user made before stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class UserCommune(CentralBase):
    """Another commune a commune viewer may see (a former district viewer sees every commune its district had)."""

    __tablename__ = "user_communes"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), primary_key=True)


# --- per-commune tables (distributed by commune_code under Citus) -----------------------------------


class DeviceStatus(CentralBase):
    """What the server last learned from a device; ``last_counter`` is the replay guard.

    A signed request must carry a counter greater than ``last_counter``; the update of this row is the
    first statement of every batch's transaction, so batches of one device are serialised.
    """

    __tablename__ = "device_status"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    last_counter: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_config_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    clock_offset: Mapped[float | None] = mapped_column(Float, nullable=True)
    clock_synced: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: Offset measured at the last sync made while the device clock was NOT synchronised.
    unsynced_offset: Mapped[float | None] = mapped_column(Float, nullable=True)
    unsynced: Mapped[int | None] = mapped_column(Integer, nullable=True)
    printer: Mapped[str | None] = mapped_column(String(32), nullable=True)
    software_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: The version of the commune's catalogue the kiosk says it uses, and why it refused a newer one (if so).
    catalog_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    catalog_refused: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: Digest of the last catalogue the kiosk sent (a resend of the same is not merged again).
    catalog_received: Mapped[str | None] = mapped_column(String(64), nullable=True)
    catalog_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: The kiosk's last package upgrade (its ``upgrade.json``, :mod:`central.fleet_rings`): the outcome, the
    #: version it ran before and the one it tried, when (the kiosk's UTC time) and why.
    upgrade_outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    upgrade_from: Mapped[str | None] = mapped_column(String(32), nullable=True)
    upgrade_to: Mapped[str | None] = mapped_column(String(32), nullable=True)
    upgrade_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    upgrade_detail: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Service(CentralBase):
    """A field of procedures (lĩnh vực) of a commune, sent to its kiosks."""

    __tablename__ = "services"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(4), default="")
    daily_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Counter(CentralBase):
    """A counter (quầy) of a commune's reception point: "TT · Quầy 1" and "CN · Quầy 1" are two counters."""

    __tablename__ = "counters"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(16), primary_key=True, default=MAIN_SITE, server_default=MAIN_SITE)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CounterService(CentralBase):
    """Which services a counter handles."""

    __tablename__ = "counter_services"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(16), primary_key=True, default=MAIN_SITE, server_default=MAIN_SITE)
    counter_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    service_code: Mapped[str] = mapped_column(String(16), primary_key=True)


class Clerk(CentralBase):
    """A clerk (công chức); the id is the one the commune's kiosks put in their records."""

    __tablename__ = "clerks"
    __table_args__ = (UniqueConstraint("commune_code", "code", name="uq_clerks_commune_code"),)
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    pin_hash: Mapped[str] = mapped_column(String(200))
    counter_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The kiosk whose upload first brought her (None: the central pages or import-config); see
    #: central.clerk_ownership.
    origin_device_id: Mapped[str | None] = mapped_column(UUID, nullable=True)


class ClerkAlias(CentralBase):
    """Another id of a commune's clerk: the id a kiosk gave the same person before it joined the commune.

    Records keep the id they were made with; reports resolve ``alias_id`` to ``clerk_id``, so each person
    is shown once with the whole history.
    """

    __tablename__ = "clerk_aliases"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    alias_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    clerk_id: Mapped[str] = mapped_column(UUID)
    device_id: Mapped[str | None] = mapped_column(UUID, nullable=True)
    #: How the two were found to be one person: "name" (same full name) or "code" (same code and given name).
    matched_by: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Question(CentralBase):
    """A TT 01 question of a commune's detailed rating form (time, contacts, agencies, attitude), with its wording."""

    __tablename__ = "questions"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    question: Mapped[str] = mapped_column(String(200))
    answers: Mapped[list] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AuditEntry(CentralBase):
    """One change of a commune's catalogue: who (a user, `import-config`, a kiosk), what, when, before → after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_commune_at", "commune_code", "at"),)
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(UUID, nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class ScaleLevel(CentralBase):
    """The wording and points of a rating level for a commune (e.g. "Chưa hài lòng")."""

    __tablename__ = "scale_levels"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --- records from devices (append-only) -------------------------------------------------------------


class SyncedRecord:
    """Columns of every record a device sends, plus what the server adds when it stores it."""

    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    device_time: Mapped[datetime] = mapped_column(DateTime)
    clock_synced: Mapped[bool] = mapped_column(Boolean)
    #: device_time, or device_time + clock_offset when the device clock was not synchronised.
    corrected_time: Mapped[datetime] = mapped_column(DateTime)
    #: Seconds added to device_time (None when the device clock was synchronised).
    clock_offset: Mapped[float | None] = mapped_column(Float, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    sync_id: Mapped[str] = mapped_column(UUID)
    #: The site (reception point) of the sending kiosk when the record was stored.
    site_code: Mapped[str] = mapped_column(String(16), default=MAIN_SITE, server_default=MAIN_SITE)


def _time_index(table: str) -> Index:
    return Index(f"ix_{table}_commune_time", "commune_code", "corrected_time")


class Ticket(SyncedRecord, CentralBase):
    __tablename__ = "tickets"
    __table_args__ = (_time_index("tickets"),)
    service_code: Mapped[str] = mapped_column(String(16))
    business_day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    display_number: Mapped[str] = mapped_column(String(16))
    priority: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    #: True for a booked citizen's ticket (checked in by booking code); None from kiosks of earlier releases.
    booked: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: The booking code the ticket was checked in with (booked or late); None for a walk-in or an older kiosk.
    booking_code: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Rating(SyncedRecord, CentralBase):
    """A press; ``counted`` False with a ``flag`` = kept but not counted (abuse filter).

    ``dossier_codes``: the dossier codes (mã hồ sơ) the clerk attached to the rated ticket, separated by spaces
    (every field's, for a visit of several fields).
    """

    __tablename__ = "ratings"
    __table_args__ = (
        _time_index("ratings"),
        # the ratings that carry dossier codes, for the dossier export (most ratings have none)
        Index(
            "ix_ratings_dossier_time",
            "commune_code",
            "corrected_time",
            postgresql_where=text("dossier_codes IS NOT NULL"),
            sqlite_where=text("dossier_codes IS NOT NULL"),
        ),
    )
    level: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    panel: Mapped[str] = mapped_column(String(64))
    counted: Mapped[bool] = mapped_column(Boolean)
    flag: Mapped[str | None] = mapped_column(String(64), nullable=True)
    counter_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ticket_id: Mapped[str | None] = mapped_column(UUID, nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(UUID, nullable=True)
    service_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    dossier_codes: Mapped[str | None] = mapped_column(String(550), nullable=True)
    #: A visit of several fields: the fields served, separated by spaces (the rating counts for each); else null.
    services: Mapped[str | None] = mapped_column(String(60), nullable=True)


class IndicatorAnswer(SyncedRecord, CentralBase):
    """One TT 01 indicator answer; joins its rating on (commune_code, device_id, rating_id)."""

    __tablename__ = "indicator_answers"
    __table_args__ = (_time_index("indicator_answers"),)
    rating_id: Mapped[str] = mapped_column(UUID)
    indicator: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)


class Comment(SyncedRecord, CentralBase):
    """A comment; ``contact`` is confidential (NĐ 61/2018 Điều 27): show it only to the answering role."""

    __tablename__ = "comments"
    __table_args__ = (_time_index("comments"),)
    rating_id: Mapped[str | None] = mapped_column(UUID, nullable=True)
    counter_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: "suggestion" for the suggestion box (hòm thư góp ý, no rating); None for a comment left with a rating.
    source: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ClerkAction(SyncedRecord, CentralBase):
    """call / recall / no_show / complete / transfer / pause / resume / login / logout."""

    __tablename__ = "clerk_actions"
    __table_args__ = (_time_index("clerk_actions"),)
    action: Mapped[str] = mapped_column(String(16))
    counter_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(UUID, nullable=True)
    ticket_id: Mapped[str | None] = mapped_column(UUID, nullable=True)
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)


#: Record tables by the type name used in sync batches (the same names as ``kiosk.models.RECORD_TYPES``).
RECORD_MODELS: dict[str, type[SyncedRecord]] = {
    "ticket": Ticket,
    "rating": Rating,
    "indicator_answer": IndicatorAnswer,
    "comment": Comment,
    "clerk_action": ClerkAction,
}


# --- audit --------------------------------------------------------------------------------------------


class Quarantine(CentralBase):
    """A record the server refused but keeps for audit: a resend with changed content, or invalid fields.

    Keyed by the content's SHA-256 so that the same refused record sent again is stored once.
    """

    __tablename__ = "quarantine"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    sync_id: Mapped[str] = mapped_column(UUID)


class SyncLog(CentralBase):
    """One accepted signed request (a batch or a catalogue exchange), with the device clock offset it showed."""

    __tablename__ = "sync_log"
    __table_args__ = (Index("ix_sync_log_commune_received", "commune_code", "received_at"),)
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "sync", "catalog", or "config" (a first-release kiosk's fetch)
    counter: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    device_sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    clock_synced: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: server time − device time, in seconds (positive: the device clock is behind).
    clock_offset: Mapped[float | None] = mapped_column(Float, nullable=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    already_had: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    protocol: Mapped[int] = mapped_column(Integer)
    remote_addr: Mapped[str | None] = mapped_column(String(64), nullable=True)
