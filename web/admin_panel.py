"""`/admin/panel`: the manager's live panel of this kiosk (issue 25, :mod:`kiosk.panel`).

The page holds the panel's part (`/admin/panel/part`, HTML) and fetches it again at every event of the kiosk's
live stream (`/api/events`: a call, a pause, a ticket issued) and every few seconds besides (so a wait that
passes its threshold turns red with no event); it never reloads. `/admin/panel.json` is the same panel as data.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template

from kiosk.panel import panel_state
from web.admin import bp, fmt_duration, kiosk


def current_panel() -> dict[str, Any]:
    """This kiosk's panel now, with the commune's thresholds (settings ``panel_*_alert_minutes``)."""
    k = kiosk()
    return panel_state(
        k.queue, k.clock, k.settings["panel_wait_alert_minutes"], k.settings["panel_pause_alert_minutes"]
    )


def minutes_text(value: float) -> str:
    """A threshold as people write it: "30", "0,5"."""
    return f"{value:g}".replace(".", ",")


@bp.get("/panel")
def panel():
    return render_template("admin_panel.html", panel=current_panel(), fmt_duration=fmt_duration, minutes=minutes_text)


@bp.get("/panel/part")
def panel_part():
    return render_template("admin_panel_part.html", panel=current_panel(), fmt_duration=fmt_duration)


@bp.get("/panel.json")
def panel_json():
    return jsonify(current_panel())
