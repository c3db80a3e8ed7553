"""Tables of the live panel (issue 25): each kiosk's latest panel snapshot, and a commune's alert thresholds.

Only the latest snapshot of a kiosk is kept (one row per kiosk, replaced at each post): the central server's
processes share it through the database, so any of several `kiosk-central serve` behind a balancer shows the
same panel (docs/scaling.md). A commune without a row of thresholds uses the defaults of
:mod:`central.panel` (30 minutes of waiting, 20 minutes paused).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from central.models import UUID, CentralBase


class PanelSnapshot(CentralBase):
    """A kiosk's panel as it last sent it (``kiosk.panel.panel_state``), and when the server received it."""

    __tablename__ = "panel_snapshots"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    panel: Mapped[dict] = mapped_column(JSON)


class PanelThresholds(CentralBase):
    """When a commune's panel marks a wait or a pause in red; edited by the commune's administrator."""

    __tablename__ = "panel_thresholds"
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    wait_minutes: Mapped[float] = mapped_column(Float)
    pause_minutes: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
