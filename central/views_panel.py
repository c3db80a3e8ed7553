"""`/panel`: the commune's live panel at the central server (issue 25, :mod:`central.panel`).

Who sees it: whoever sees the commune's kiosks (capability ``fleet``: its commune_admin and commune_viewer, the
province_viewer of its province, the admin); another commune's panel answers 403. Its commune_admin (capability
``catalog``) sets the thresholds. The page fetches its part (`/panel/<commune>/part`) again every few seconds
(central/static/panel.js): the kiosks post on change, so what it shows is at most a few seconds old.
"""

from __future__ import annotations

import re

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from central.accounts import Viewer, require
from central.context import current_central
from central.models import Commune
from central.page_base import page_blueprint
from central.panel import commune_panel, set_thresholds
from common.db import transaction
from common.errors import NotFoundError

bp = page_blueprint("central_panel", __name__)


def duration(seconds: int | None) -> str:
    """ "6 phút 39 giây" (the kiosk's words), each number kept with its unit."""
    if seconds is None:
        return "—"
    minutes, secs = divmod(seconds, 60)
    if minutes >= 60:
        text = gettext("%(h)s h %(m)s min", h=minutes // 60, m=minutes % 60)
    else:
        text = gettext("%(m)s min %(s)s s", m=minutes, s=secs)
    return re.sub(r"(\d) ", "\\1\u00a0", text)


def _panel(viewer: Viewer, code: str) -> tuple[str, dict]:
    viewer.check_commune(code)
    central = current_central()
    with central.sessions() as session:
        commune = session.get(Commune, code)
        if commune is None:
            raise NotFoundError(gettext("No commune %(code)s.", code=code), {"commune": code})
        panel = commune_panel(session, code, central.clock.now(), central.settings["central_panel_offline_seconds"])
    for kiosk in panel["kiosks"]:
        last = kiosk.pop("last_at")
        kiosk["last_at"] = f"{central.local_time.local(last):%H:%M %d/%m/%Y}" if last else None
    return commune.name, panel


@bp.get("/panel")
@require("fleet")
def communes(viewer: Viewer):
    with current_central().sessions() as session:
        query = select(Commune.code, Commune.name).order_by(Commune.name)
        if viewer.communes is not None:
            query = query.where(Commune.code.in_(viewer.communes))
        found = session.execute(query).all()
    if len(found) == 1:
        return redirect(url_for(".commune", code=found[0].code))
    return render_template("central/panel_communes.html", communes=found)


@bp.get("/panel/<code>")
@require("fleet")
def commune(viewer: Viewer, code: str):
    name, panel = _panel(viewer, code)
    can_edit = viewer.can("catalog")
    return render_template("central/panel.html", name=name, panel=panel, duration=duration, can_edit=can_edit)


@bp.get("/panel/<code>/part")
@require("fleet")
def part(viewer: Viewer, code: str):
    _, panel = _panel(viewer, code)
    return render_template("central/panel_part.html", panel=panel, duration=duration)


@bp.get("/panel/<code>.json")
@require("fleet")
def data(viewer: Viewer, code: str):
    return jsonify(_panel(viewer, code)[1])


@bp.post("/panel/<code>/thresholds")
@require("catalog")
def thresholds(viewer: Viewer, code: str):
    viewer.check_commune(code)
    central = current_central()
    with transaction(central.sessions) as session:
        wait, pause = request.form.get("wait_minutes", ""), request.form.get("pause_minutes", "")
        set_thresholds(session, code, wait, pause, viewer.username, central.clock.now())
    flash(gettext("Thresholds saved."), "ok")
    return redirect(url_for(".commune", code=code))
