"""The tables of kiosks' remote settings and diagnostics (the central server's metadata, own migration 0014).

* ``remote_settings``: every version of a kiosk's remote settings, as saved on the central pages — who saved it,
  when, the values and their signature. The rows are never changed: the table is the audit log of the changes.
* ``remote_state``: per kiosk, the version it last reported applied (or refused, and why) and a pending request
  for a diagnostics bundle.
* ``diagnostic_bundles``: the last bundles kiosks uploaded (:data:`BUNDLES_KEPT` per kiosk).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.models import UUID, CentralBase

#: Bundles kept per kiosk; an older one is deleted when a new one comes.
BUNDLES_KEPT = 5


class RemoteSettings(CentralBase):
    """One version of a kiosk's remote settings: the values, their signature, who saved them and when."""

    __tablename__ = "remote_settings"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    values: Mapped[dict] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(DateTime)
    saved_by: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(UUID, nullable=True)


class RemoteState(CentralBase):
    """What a kiosk reported of its remote settings, and whether a diagnostics bundle was asked of it."""

    __tablename__ = "remote_state"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    applied_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refused_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refused: Mapped[str | None] = mapped_column(String(500), nullable=True)
    restart_pending: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    diagnostics_asked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    diagnostics_asked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DiagnosticBundle(CentralBase):
    """One diagnostics bundle a kiosk uploaded (JSON text, as received)."""

    __tablename__ = "diagnostic_bundles"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    id: Mapped[str] = mapped_column(UUID, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    asked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[str] = mapped_column(Text)
