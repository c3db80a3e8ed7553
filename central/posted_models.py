"""Tables of the posted documents (niêm yết): a commune's rules of the counter, fee table, forms (PDF) and notices,
managed at ``/admin/posted`` (:mod:`central.views_posted`) and sent to its kiosks as a signed document of their own
(``sync.posted_document``). A document without a commune is posted by the province to every one of its communes.
A PDF's bytes are kept once, by their SHA-256 (:class:`PostedFile`), and served only under that name as
``application/pdf``: never with the name or the type the uploader gave.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.models import CentralBase


class PostedDocument(CentralBase):
    """One posted document of a commune (or of every commune of a province: ``commune_code`` None)."""

    __tablename__ = "posted_documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    province_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    commune_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    #: ``rules``, ``fees``, ``form`` or ``notice`` (``common.posted_rules.KINDS``).
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: The fee table: ``[{"name", "amount", "note"}]``.
    rows: Mapped[list] = mapped_column(JSON)
    file_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    file_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    position: Mapped[int] = mapped_column(Integer)
    shown_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    shown_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class PostedFile(CentralBase):
    """A form's PDF, checked by its magic bytes, kept once by its SHA-256."""

    __tablename__ = "posted_files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(DateTime)
