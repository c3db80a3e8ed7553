"""`/fleet`: every kiosk in scope with what its last request told the server; silent kiosks first, in red.

What the page shows is true at the time it is read:

* **last contact** is the last signed request of any kind — a sync batch (the kiosk sends one even when it has
  nothing to send, with its state) or a catalogue fetch;
* **unsynced records** is what the kiosk reported in its last batch: the records still on it *after* that batch
  (``kiosk.uplink.client`` counts them so; a successful sync reports 0);
* the **printer** state is shown in words ("Hết giấy"), and the clock offset the server measured;
* a kiosk is **silent** after ``fleet_silent_hours`` *office hours* without contact (``office_hours``, see
  :mod:`central.office_hours`): a kiosk switched off for the weekend is not red on Monday morning.
* **remote settings**: the version of its remote settings sent, the version it applied, or the one it refused
  and why (:mod:`central.views_remote`);
* records the server could not store (a conflict, an invalid field) are counted per kiosk, with the latest
  reasons, from ``quarantine``;
* the **version** each kiosk runs (its Debian package's) with how many kiosks run each version at the top, its
  last upgrade ("Đã quay lại bản trước" with the version that failed: :mod:`central.fleet_versions`), and its
  **ring** of the staged rollout, which the province's administrators assign here (:mod:`central.fleet_rings`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, render_template
from flask_babel import lazy_gettext
from sqlalchemy import and_, func, select

from central import fleet_rings, fleet_versions, remote_store
from central.accounts import Viewer, require
from central.context import current_central
from central.models import Commune, Device, DeviceStatus, Quarantine, Site
from central.office_hours import OfficeHours
from central.page_base import page_blueprint
from central.reports.localtime import LocalTime
from common.web.printer_states import printer_state

bp = page_blueprint("central_fleet", __name__)

#: A clock this far off (seconds) is worth a technician's look even when the kiosk syncs.
CLOCK_WARN = 120.0
WEEKDAYS = (
    lazy_gettext("Monday"),
    lazy_gettext("Tuesday"),
    lazy_gettext("Wednesday"),
    lazy_gettext("Thursday"),
    lazy_gettext("Friday"),
    lazy_gettext("Saturday"),
    lazy_gettext("Sunday"),
)


def _day_names(days: list[int]) -> str:
    """Consecutive days as a range: "Thứ Hai – Thứ Sáu"."""
    first, last = str(WEEKDAYS[days[0]]), str(WEEKDAYS[days[-1]])
    return first if len(days) == 1 else f"{first} – {last}"


def _whole(value: float) -> float | int:
    """8.0 → 8 (shown "8 giờ", not "8,0 giờ")."""
    return int(value) if value.is_integer() else value


def _latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


#: Latest quarantined records shown per kiosk (with the reason each was refused).
QUARANTINE_SHOWN = 5


def quarantined(
    conn: Any, communes: tuple[str, ...] | None, local_time: LocalTime
) -> dict[tuple[str, str], dict[str, Any]]:
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
                    "at": f"{local_time.local(row.received_at):%d/%m/%Y %H:%M}",
                }
            )
    return found


def fleet(viewer: Viewer, now: datetime) -> list[dict[str, Any]]:
    central = current_central()
    settings, local_time = central.settings, central.local_time
    hours = OfficeHours.from_settings(settings)
    limit = float(settings["fleet_silent_hours"])
    d, st = Device.__table__.c, DeviceStatus.__table__.c
    joined = Device.__table__.outerjoin(
        DeviceStatus.__table__, and_(st.commune_code == d.commune_code, st.device_id == d.id)
    ).join(Commune.__table__, Commune.code == d.commune_code)
    joined = joined.outerjoin(Site.__table__, and_(Site.commune_code == d.commune_code, Site.code == d.site_code))
    query = select(
        d.id, d.name, d.commune_code, d.enabled, Commune.name.label("commune_name"), st, d.site_code.label("site")
    )
    query = query.add_columns(Site.name.label("site_name")).select_from(joined)
    if viewer.communes is not None:
        query = query.where(d.commune_code.in_(viewer.communes))
    rows = []
    with central.sessions() as session:
        remote = remote_store.fleet_states(session, viewer.communes)
        rings = fleet_rings.rings_of(session, viewer.communes)
    with central.engine.connect() as conn:
        kept = quarantined(conn, viewer.communes, local_time)
        for r in conn.execute(query):
            contact = _latest(r.last_sync_at, r.last_config_at)
            office = round(hours.open_seconds(contact, now) / 3600, 1) if contact else None
            printer_label, printer_tone = printer_state(r.printer)
            held = kept.get((r.commune_code, str(r.id)), {"count": 0, "latest": []})
            rows.append(
                {
                    "id": r.id,
                    "name": r.name,
                    "commune": r.commune_code,
                    "commune_name": r.commune_name,
                    "site": r.site,  # the reception point the kiosk stands at
                    "site_name": r.site_name or r.site,
                    "enabled": r.enabled,
                    "last_contact": contact.isoformat() if contact else None,
                    "last_contact_local": f"{local_time.local(contact):%d/%m/%Y %H:%M}" if contact else None,
                    "last_sync": r.last_sync_at.isoformat() if r.last_sync_at else None,
                    "hours_since_contact": round((now - contact).total_seconds() / 3600, 1) if contact else None,
                    "office_hours_since_contact": office,
                    "unsynced": r.unsynced,
                    "printer": r.printer,
                    "printer_label": printer_label,
                    "printer_tone": printer_tone,
                    "clock_offset": round(r.clock_offset, 1) if r.clock_offset is not None else None,
                    "clock_synced": r.clock_synced,
                    "clock_warning": r.clock_offset is not None and abs(r.clock_offset) > CLOCK_WARN,
                    "version": r.software_version,
                    "upgrade": fleet_versions.upgrade_view(r, local_time.local),
                    "ring": rings.get((r.commune_code, str(r.id))),
                    "silent": bool(r.enabled) and (office is None or office > limit),
                    "quarantined": held["count"],
                    "quarantine": held["latest"],
                    "remote": remote.get((r.commune_code, str(r.id)), {"sent": None, "applied": None, "refused": None}),
                }
            )
    rows.sort(key=lambda x: (not x["silent"], x["commune"], x["name"]))
    return rows


@bp.get("/fleet")
@require("fleet")
def page(viewer: Viewer):
    central = current_central()
    now = central.clock.now()
    devices = fleet(viewer, now)
    hours = OfficeHours.from_settings(central.settings)
    return render_template(
        "central/fleet.html",
        devices=devices,
        silent=sum(1 for x in devices if x["silent"]),
        quarantined=sum(x["quarantined"] for x in devices),
        versions=fleet_versions.version_counts(x["version"] for x in devices),
        rolled_back=sum(1 for x in devices if x["upgrade"] and x["upgrade"]["back"]),
        ring_names=fleet_rings.RING_NAMES,
        ring_share=fleet_rings.DEFAULT_SHARE,
        viewer=viewer,
        silent_hours=_whole(float(central.settings["fleet_silent_hours"])),
        office_open=hours.is_open(now),
        office_hours=[(_day_names(days), text) for days, text in hours.summary()],
    )


@bp.get("/fleet.json")
@require("fleet")
def data(viewer: Viewer):
    return jsonify({"devices": fleet(viewer, current_central().clock.now())})
