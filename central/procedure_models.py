"""Tables of the province's administrative procedures (thủ tục hành chính cấp xã) and what a commune hides.

A province publishes its list of commune-level procedures by decision; ``kiosk-central import-procedures``
replaces the province's whole list at once (:mod:`central.procedures`). A commune that does not handle some of
them hides them (:class:`HiddenProcedure`); the rest travel to its kiosks as a signed document of their own
(``GET /api/v1/procedures``), apart from the catalogue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.models import CentralBase


class Procedure(CentralBase):
    """One procedure of a province's list: its field (service code), the papers to bring, fee and time."""

    __tablename__ = "procedures"
    province_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: Order in the province's file (lists show procedures in the order the decision gives them).
    position: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    #: ``[{"name": str, "copies": int}]``: the papers to bring (thành phần hồ sơ, số lượng).
    papers: Mapped[list] = mapped_column(JSON)
    #: The forms to fill in (mẫu đơn, tờ khai), by name.
    forms: Mapped[list] = mapped_column(JSON)
    fee: Mapped[str] = mapped_column(String(300))
    #: Processing time in working days (0: within the day), None when the decision gives none.
    days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_at: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime)


class HiddenProcedure(CentralBase):
    """A procedure of the province's list that a commune does not handle: not sent to its kiosks."""

    __tablename__ = "hidden_procedures"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    hidden_at: Mapped[datetime] = mapped_column(DateTime)
