"""What `/healthz` reports: database, printer, unsynced records, last sync, clock, catalogue."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from kiosk import catalog_state
from kiosk.models import DeviceState, SyncedRecord
from kiosk.records import SEQ_KEY

LAST_SYNC_KEY = "last_sync"


def records_made(session) -> int:
    """How many records were ever made here: every record takes one sequence number in the same transaction
    that writes it, so the counter is that number (one key lookup)."""
    return int(session.scalar(select(DeviceState.value).where(DeviceState.key == SEQ_KEY)) or 0)


def unsynced_count(session) -> int:
    """Records made here that the central server has not yet named as stored."""
    sent = session.scalar(select(func.count()).select_from(SyncedRecord))
    return max(records_made(session) - int(sent or 0), 0)


def last_sync(stored: str | None) -> Any:
    """The sync client's summary ({"at", "ok", "last_ok_at", "sent", "pending", "error", …}) or the text as is.

    `/healthz` shows ``last_ok_at`` (the last complete sync, ISO time) as "last_sync" and the summary as "sync".
    """
    try:
        return json.loads(stored) if stored else None
    except ValueError:
        return stored


def catalog_health(session) -> dict[str, Any]:
    """Who manages the catalogue, the version in use, edits not yet delivered, and the last refusal (if any)."""
    refused = last_sync(catalog_state.get(session, catalog_state.REFUSED_KEY))
    return {
        "owner": catalog_state.owner(session),
        "version": catalog_state.get(session, catalog_state.VERSION_KEY),
        "undelivered": len(catalog_state.dirty_items(session)),
        "refused": refused if isinstance(refused, dict) else None,
    }


def health(kiosk: Any) -> tuple[dict[str, Any], bool]:
    """The health document and whether the kiosk can take ratings (the database answers)."""
    report: dict[str, Any] = {"db": "ok", "unsynced": None, "last_sync": None}
    try:
        with kiosk.sessions() as session:
            session.execute(text("SELECT 1"))
            report["unsynced"] = unsynced_count(session)
            summary = last_sync(session.scalar(select(DeviceState.value).where(DeviceState.key == LAST_SYNC_KEY)))
            report["last_sync"] = summary.get("last_ok_at") if isinstance(summary, dict) else summary
            report["sync"] = summary if isinstance(summary, dict) else None
            report["catalog"] = catalog_health(session)
    except SQLAlchemyError as exc:
        report["db"] = f"error: {exc.__class__.__name__}"
    printer = kiosk.hardware.get("printer")
    report["printer"] = printer.status() if printer is not None and hasattr(printer, "status") else "none"
    report["clock_synced"] = kiosk.clock.synced()
    return report, report["db"] == "ok"
