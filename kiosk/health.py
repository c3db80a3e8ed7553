"""What `/healthz` reports: database, disk, printer, unsynced records, last sync, clock, catalogue, live event
streams, warnings."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from kiosk import catalog_state, device_state, upgrade_outcome
from kiosk.device_state import CATALOG_REFUSED, CATALOG_UPLOAD_REFUSED, CATALOG_VERSION, LAST_SYNC, SEQ
from kiosk.models import SyncedRecord
from kiosk.storage import ping
from kiosk.storage_watch import is_corrupt


def records_made(session) -> int:
    """How many records were ever made here: every record takes one sequence number in the same transaction
    that writes it, so the counter is that number (one key lookup)."""
    return device_state.get(session, SEQ)


def unsynced_count(session) -> int:
    """Records made here that the central server has not yet named as stored."""
    sent = session.scalar(select(func.count()).select_from(SyncedRecord))
    return max(records_made(session) - int(sent or 0), 0)


def catalog_health(session) -> dict[str, Any]:
    """Who manages the catalogue, the version in use, edits not yet delivered, the last document this kiosk
    refused (``refused``) and this kiosk's catalogue the server refused (``upload_refused``), if any."""
    refused = device_state.get(session, CATALOG_REFUSED)
    upload = device_state.get(session, CATALOG_UPLOAD_REFUSED)
    return {
        "owner": catalog_state.owner(session),
        "version": device_state.get(session, CATALOG_VERSION),
        "undelivered": len(catalog_state.dirty_items(session)),
        "refused": refused if isinstance(refused, dict) else None,
        "upload_refused": upload if isinstance(upload, dict) else None,
    }


def health(kiosk: Any) -> tuple[dict[str, Any], bool]:
    """The health document and whether the kiosk can take ratings (the database answers, sound, with room).

    ``db``: ``ok``, ``damaged`` (with ``db_detail``) or ``error: …``; ``disk``: ``ok``, ``low`` or ``full``;
    ``streams``: open event streams (``boards``, ``phones``) and the most the kiosk holds (``limit``);
    ``upgrade``: the last package upgrade's outcome (kiosk.upgrade_outcome), None before the first;
    ``warnings``: what a technician should look at, in plain words ("clock not synchronised", …).
    """
    report: dict[str, Any] = {"db": "ok", "unsynced": None, "last_sync": None}
    storage = getattr(kiosk, "storage", None)
    # The file first: opening a connection to a deleted database would create an empty one in its place,
    # and an emptied one can keep a query waiting on its locks.
    if storage is None or storage.damage() is None:
        _database(kiosk, storage, report)
    damage = storage.damage(check=True) if storage is not None else None
    if damage is not None:
        report["db"], report["db_detail"] = "damaged", damage
    printer = kiosk.hardware.get("printer")
    report["printer"] = printer.status() if printer is not None and hasattr(printer, "status") else "none"
    report["clock_synced"] = kiosk.clock.synced()
    warnings = []
    if storage is not None:
        report["disk"], free = storage.disk()
        report["disk_free_mb"] = round(free / 1024 / 1024, 1) if free is not None else None
        if report["disk"] != "ok":
            warnings.append("disk full" if report["disk"] == "full" else "disk space low")
    if not report["clock_synced"]:
        warnings.append("clock not synchronised")
    settings = getattr(kiosk, "settings", None)
    if settings is not None:
        report["upgrade"] = upgrade = upgrade_outcome.last_upgrade(settings.data_path)
        if upgrade_outcome.warning(upgrade):
            warnings.append(upgrade_outcome.warning(upgrade))
    live = getattr(kiosk, "live", None)
    if live is not None:
        report["streams"] = streams = live.counts()
        if streams["boards"] + streams["phones"] >= streams["limit"]:
            warnings.append("live pages full: new ones are refused")
    if getattr(kiosk, "queue", None) is not None and report["db"] == "ok":
        try:
            report["queue_day"] = kiosk.queue.day.peek().isoformat()
        except (SQLAlchemyError, sqlite3.Error):  # the database is already reported above
            report["queue_day"] = None
    if report["db"] != "ok":
        warnings.insert(0, "database damaged" if report["db"] == "damaged" else "database error")
    report["warnings"] = warnings
    return report, report["db"] == "ok" and report.get("disk") != "full"


def _database(kiosk: Any, storage: Any, report: dict[str, Any]) -> None:
    """Unsynced records and the last sync, read from the database; a failure is written into ``report``."""
    try:
        with kiosk.sessions() as session:
            ping(session)
            report["unsynced"] = unsynced_count(session)
            # the sync client's summary (kiosk.uplink.client): its last_ok_at is "last_sync", itself "sync"
            summary = device_state.get(session, LAST_SYNC)
            report["last_sync"] = summary.get("last_ok_at") if isinstance(summary, dict) else summary
            report["sync"] = summary if isinstance(summary, dict) else None
            report["catalog"] = catalog_health(session)
    except SQLAlchemyError as exc:
        if storage is not None and is_corrupt(exc):
            storage.classify(exc, "GET /healthz")  # marks it damaged: said below with the reason
        else:
            report["db"] = f"error: {exc.__class__.__name__}"
