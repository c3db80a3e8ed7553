"""`/fleet`: every kiosk in scope with what its last sync told the server; silent kiosks first, in red.

The sync request carries the kiosk's state (``status``: unsynced records, printer, software version) and
the server measures its clock offset at each sync (``device_status``). A kiosk that has not synced for
:data:`SILENT_AFTER` — a night's sync plus margin — or never did, "stands out". Records the server could not
store (a conflict, an invalid field) are counted per kiosk, with the latest reasons, from ``quarantine``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app, jsonify, render_template
from sqlalchemy import and_, func, select

from sync.central.accounts import Viewer, require
from sync.central.models import Commune, Device, DeviceStatus, Quarantine
from sync.central.page_base import page_blueprint
from sync.reports.localtime import local

bp = page_blueprint("central_fleet", __name__)

SILENT_AFTER = timedelta(hours=26)
#: A clock this far off (seconds) is worth a technician's look even when the kiosk syncs.
CLOCK_WARN = 120.0
#: Latest quarantined records shown per kiosk (with the reason each was refused).
QUARANTINE_SHOWN = 5


def quarantined(conn: Any, communes: tuple[str, ...] | None) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (commune, device): how many of its records the server keeps in quarantine, and the latest reasons."""
    q = Quarantine.__table__.c
    where = [q.commune_code.in_(communes)] if communes is not None else []
    found: dict[tuple[str, str], dict[str, Any]] = {}
    counts = select(q.commune_code, q.device_id, func.count(), func.max(q.received_at)).where(*where)
    for commune, device, n, last in conn.execute(counts.group_by(q.commune_code, q.device_id)):
        found[(commune, str(device))] = {"count": n, "last_at": last, "latest": []}
    latest = select(q.commune_code, q.device_id, q.kind, q.record_id, q.reason, q.received_at).where(*where)
    for row in conn.execute(latest.order_by(q.received_at.desc()).limit(QUARANTINE_SHOWN * 20)):
        entry = found[(row.commune_code, str(row.device_id))]
        if len(entry["latest"]) < QUARANTINE_SHOWN:
            entry["latest"].append(
                {
                    "kind": row.kind,
                    "id": row.record_id,
                    "reason": row.reason,
                    "at": f"{local(row.received_at):%d/%m/%Y %H:%M}",
                }
            )
    return found


def fleet(viewer: Viewer, now: datetime) -> list[dict[str, Any]]:
    d, st = Device.__table__.c, DeviceStatus.__table__.c
    joined = Device.__table__.outerjoin(
        DeviceStatus.__table__, and_(st.commune_code == d.commune_code, st.device_id == d.id)
    ).join(Commune.__table__, Commune.code == d.commune_code)
    query = select(d.id, d.name, d.commune_code, d.enabled, Commune.name.label("commune_name"), st).select_from(joined)
    if viewer.communes is not None:
        query = query.where(d.commune_code.in_(viewer.communes))
    rows = []
    with current_app.extensions["central"].engine.connect() as conn:
        kept = quarantined(conn, viewer.communes)
        for r in conn.execute(query):
            held = kept.get((r.commune_code, str(r.id)), {"count": 0, "latest": []})
            silent = r.last_sync_at is None or now - r.last_sync_at > SILENT_AFTER
            rows.append(
                {
                    "id": r.id,
                    "name": r.name,
                    "commune": r.commune_code,
                    "commune_name": r.commune_name,
                    "enabled": r.enabled,
                    "last_sync": r.last_sync_at.isoformat() if r.last_sync_at else None,
                    "last_sync_local": f"{local(r.last_sync_at):%d/%m/%Y %H:%M}" if r.last_sync_at else None,
                    "hours_since_sync": round((now - r.last_sync_at).total_seconds() / 3600, 1)
                    if r.last_sync_at
                    else None,
                    "unsynced": r.unsynced,
                    "printer": r.printer,
                    "clock_offset": round(r.clock_offset, 1) if r.clock_offset is not None else None,
                    "clock_synced": r.clock_synced,
                    "clock_warning": r.clock_offset is not None and abs(r.clock_offset) > CLOCK_WARN,
                    "version": r.software_version,
                    "silent": silent and r.enabled,
                    "quarantined": held["count"],
                    "quarantine": held["latest"],
                }
            )
    rows.sort(key=lambda x: (not x["silent"], x["commune"], x["name"]))
    return rows


@bp.get("/fleet")
@require("fleet")
def page(viewer: Viewer):
    now = current_app.extensions["central"].clock.now()
    devices = fleet(viewer, now)
    return render_template(
        "central/fleet.html",
        devices=devices,
        silent=sum(1 for x in devices if x["silent"]),
        quarantined=sum(x["quarantined"] for x in devices),
        viewer=viewer,
        silent_hours=int(SILENT_AFTER.total_seconds() // 3600),
    )


@bp.get("/fleet.json")
@require("fleet")
def data(viewer: Viewer):
    return jsonify({"devices": fleet(viewer, current_app.extensions["central"].clock.now())})
