"""Tables of the bookings (lịch hẹn) a commune takes in, and the API tokens a province's booking system pushes with.

Bookings come from ``kiosk-central import-bookings`` or ``POST /api/v1/bookings`` (:mod:`central.bookings`) and
travel to the kiosks of their reception point as a signed document of their own (``GET /api/v1/kiosk-bookings``).
The citizen's name is confidential like a comment's contact: it travels to the kiosk (which never shows it) and
appears in no report.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from central.models import CentralBase


class Booking(CentralBase):
    """One booking of a commune: its code, reception point, field and booked local time."""

    __tablename__ = "bookings"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(16))
    service_code: Mapped[str] = mapped_column(String(16))
    #: The booked time, local to the commune (naive), to the minute.
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    #: Where it came from: ``import`` (a file) or ``api:<token id>``.
    source: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class BookingToken(CentralBase):
    """An API token a province's booking system pushes bookings with; only its SHA-256 is stored."""

    __tablename__ = "booking_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    province_code: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
