"""The commune's live panel at the central server (issue 25): what each kiosk last posted, aged and marked.

A kiosk posts its panel (``kiosk.panel.panel_state``) when it changes and every ``panel_push_every`` seconds;
the server keeps only the latest per kiosk (:class:`central.panel_models.PanelSnapshot`, a table, so several
server processes agree). Reading it, the server adds the snapshot's age to every duration, so a wait keeps
growing between two posts, and marks what passes the *commune's* thresholds (:class:`PanelThresholds`, edited by
its commune_admin; the kiosk's own settings mark only the kiosk's page). A kiosk not heard from for
``central_panel_offline_seconds`` is shown as lost since its last post, never with its old state as if current.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.models import Device, Site
from central.panel_models import PanelSnapshot, PanelThresholds
from common.counter_label import counter_label
from common.errors import ValidationError

#: The thresholds of a commune that set none (issue 25's examples).
DEFAULT_WAIT_MINUTES = 30.0
DEFAULT_PAUSE_MINUTES = 20.0
#: Bounds of what a kiosk may post (a commune's kiosk has a handful of counters and fields).
MAX_ROWS = 200
MAX_TEXT = 200
STATES = ("open", "paused", "closed")


def _text(value: Any, field: str, empty: bool = True) -> str | None:
    if value is None and empty:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ValidationError(f"'{field}' must be text of at most {MAX_TEXT} characters.", {"field": field})
    return value


def _seconds(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**7:
        raise ValidationError(f"'{field}' must be a whole number of seconds.", {"field": field})
    return value


def _rows(value: Any, field: str) -> list:
    if not isinstance(value, list) or len(value) > MAX_ROWS or not all(isinstance(v, dict) for v in value):
        raise ValidationError(f"'{field}' must be a list of at most {MAX_ROWS} objects.", {"field": field})
    return value


def clean_panel(panel: Any) -> dict[str, Any]:
    """The posted panel reduced to what the page shows, every value checked; ValidationError otherwise."""
    if not isinstance(panel, dict):
        raise ValidationError("'panel' must be an object.", {"field": "panel"})
    counters = []
    for c in _rows(panel.get("counters"), "counters"):
        number = c.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 10000:
            raise ValidationError("A counter's 'number' must be a whole number.", {"field": "counters.number"})
        if c.get("state") not in STATES:
            raise ValidationError(f"A counter's 'state' is one of {', '.join(STATES)}.", {"field": "counters.state"})
        serving = c.get("serving")
        if serving is not None:
            if not isinstance(serving, dict):
                raise ValidationError("'serving' must be an object.", {"field": "counters.serving"})
            serving = {
                "display_number": _text(serving.get("display_number"), "serving.display_number", empty=False),
                "service": _text(serving.get("service"), "serving.service"),
                "seconds": _seconds(serving.get("seconds"), "serving.seconds"),
            }
        counters.append(
            {
                "number": number,
                "state": c["state"],
                "clerk": _text(c.get("clerk"), "counters.clerk"),
                "serving": serving,
                "paused_seconds": _seconds(c.get("paused_seconds"), "counters.paused_seconds"),
            }
        )
    fields = []
    for f in _rows(panel.get("fields"), "fields"):
        waiting = f.get("waiting")
        if isinstance(waiting, bool) or not isinstance(waiting, int) or not 0 <= waiting <= 10**6:
            raise ValidationError("A field's 'waiting' must be a whole number.", {"field": "fields.waiting"})
        fields.append(
            {
                "code": _text(f.get("code"), "fields.code", empty=False),
                "name": _text(f.get("name"), "fields.name"),
                "waiting": waiting,
                "longest_seconds": _seconds(f.get("longest_seconds"), "fields.longest_seconds"),
                "longest_number": _text(f.get("longest_number"), "fields.longest_number"),
            }
        )
    held = [
        {"display_number": _text(h.get("display_number"), "held.display_number", empty=False),
         "seconds": _seconds(h.get("seconds"), "held.seconds")}
        for h in _rows(panel.get("held", []), "held")
    ]  # fmt: skip
    return {"now": _text(panel.get("now"), "now"), "counters": counters, "fields": fields, "held": held}


def store(session: Session, commune: str, device_id: str, panel: dict[str, Any], now: datetime) -> None:
    """Keep ``panel`` as the kiosk's latest (replacing the one before)."""
    row = session.get(PanelSnapshot, (commune, device_id))
    if row is None:
        session.add(PanelSnapshot(commune_code=commune, device_id=device_id, received_at=now, panel=panel))
    else:
        row.received_at, row.panel = now, panel


def thresholds(session: Session, commune: str) -> tuple[float, float]:
    """(wait minutes, pause minutes) of the commune."""
    row = session.get(PanelThresholds, commune)
    return (row.wait_minutes, row.pause_minutes) if row else (DEFAULT_WAIT_MINUTES, DEFAULT_PAUSE_MINUTES)


def set_thresholds(session: Session, commune: str, wait: Any, pause: Any, who: str, now: datetime) -> None:
    """Save the commune's thresholds (minutes, 1–600); ValidationError in plain words otherwise."""
    values = []
    for name, value in (("wait_minutes", wait), ("pause_minutes", pause)):
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            number = -1.0
        if not 1 <= number <= 600:
            raise ValidationError(gettext("A threshold is a number of minutes from 1 to 600."), {"field": name})
        values.append(number)
    row = session.get(PanelThresholds, commune)
    if row is None:
        row = PanelThresholds(commune_code=commune)
        session.add(row)
    row.wait_minutes, row.pause_minutes, row.updated_at, row.updated_by = *values, now, who[:100]


def _aged(value: int | None, age: int) -> int | None:
    return None if value is None else value + age


def commune_panel(session: Session, commune: str, now: datetime, offline_after: float) -> dict[str, Any]:
    """Every enabled kiosk of the commune with its counters and fields as of ``now``, or lost since its last post."""
    wait, pause = thresholds(session, commune)
    sites = set(session.scalars(select(Site.code).where(Site.commune_code == commune, Site.active)))
    snapshots = {
        str(s.device_id): s for s in session.scalars(select(PanelSnapshot).where(PanelSnapshot.commune_code == commune))
    }
    kiosks = []
    devices = session.scalars(
        select(Device).where(Device.commune_code == commune, Device.enabled).order_by(Device.site_code, Device.name)
    )
    for device in devices:
        snap = snapshots.get(str(device.id))
        entry: dict[str, Any] = {"id": str(device.id), "name": device.name, "site": device.site_code}
        age = None if snap is None else max(0, round((now - snap.received_at).total_seconds()))
        entry["last_at"] = snap.received_at if snap else None
        entry["offline"] = age is None or age > offline_after
        entry["counters"], entry["fields"], entry["held"] = [], [], []
        if not entry["offline"]:
            panel = snap.panel
            for c in panel["counters"]:
                serving = c["serving"] and {**c["serving"], "seconds": _aged(c["serving"]["seconds"], age)}
                paused = _aged(c["paused_seconds"], age) if c["state"] == "paused" else None
                label = counter_label(device.site_code, c["number"], sites)
                alert = paused is not None and paused > pause * 60
                entry["counters"].append({**c, "label": label, "serving": serving, "paused_seconds": paused, "alert": alert})  # fmt: skip
            for f in panel["fields"]:
                longest = _aged(f["longest_seconds"], age)
                entry["fields"].append({**f, "longest_seconds": longest, "alert": longest is not None and longest > wait * 60})  # fmt: skip
            entry["held"] = [{**h, "seconds": _aged(h["seconds"], age)} for h in panel.get("held", [])]
        entry["alerts"] = sum(1 for c in entry["counters"] if c["alert"]) + sum(
            1 for f in entry["fields"] if f["alert"]
        )
        kiosks.append(entry)
    return {
        "commune": commune,
        "thresholds": {"wait_minutes": wait, "pause_minutes": pause},
        "kiosks": kiosks,
        "alerts": sum(k["alerts"] for k in kiosks),
        "offline": sum(1 for k in kiosks if k["offline"]),
    }
