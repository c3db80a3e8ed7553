"""`/fleet/<kiosk>/remote`: a kiosk's remote settings and diagnostics, from the fleet page.

Roles ``admin`` and ``commune_admin`` (kiosks of its own commune), capability ``remote``. Each save is a new,
signed version (:mod:`central.remote_store`) that a kiosk waiting at the server takes within seconds; a bad value
is refused with the setting named, and nothing is saved. "Lấy chẩn đoán" asks the kiosk for a diagnostics bundle
at its next exchange; the last bundles are offered for download here.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from central import remote_store
from central.accounts import Viewer, require
from central.context import current_central
from central.page_base import page_blueprint
from central.remote_api import wake
from central.remote_store import Editor
from common.db import transaction
from common.errors import NotFoundError, ValidationError
from common.remote_settings import remote_settings

bp = page_blueprint("central_remote", __name__)


def _page(viewer: Viewer, device_id: str, failed: dict | None = None, status: int = 200):
    central = current_central()
    with central.sessions() as s:
        device = remote_store.device_in(s, device_id, viewer.communes)
        newest = remote_store.latest(s, device.commune_code, device.id)
        states = remote_store.fleet_states(s, (device.commune_code,)).get((device.commune_code, device.id), {})
        page = render_template(
            "central/remote.html",
            viewer=viewer,
            device=device,
            settings=[s for s in remote_settings() if s.name not in remote_store.PROVINCE_ONLY],  # rings: /fleet
            values=newest.values if newest else {},
            state=states,
            history=remote_store.history(s, device.commune_code, device.id),
            bundles=remote_store.bundles(s, device.commune_code, device.id),
            local=central.local_time.local,
            failed=failed,
        )
    return page, status


@bp.get("/fleet/<device_id>/remote")
@require("remote")
def page(device_id: str, viewer: Viewer):
    return _page(viewer, device_id)


@bp.post("/fleet/<device_id>/remote")
@require("remote")
def save(device_id: str, viewer: Viewer):
    central = current_central()
    raw = {name: request.form.get(name, "") for name in request.form if name != "csrf_token"}  # others refused
    try:
        with transaction(central.sessions) as s:
            device = remote_store.device_in(s, device_id, viewer.communes)
            row = remote_store.save(
                s, central.master_key, device, raw, Editor(viewer.username, viewer.id), central.clock.now()
            )
            version, commune = row.version, device.commune_code
    except ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        name = detail.get("setting") or "?"
        message = _(
            "Nothing was saved: the value of %(name)s cannot be used (%(reason)s)", name=name, reason=exc.message
        )
        failed = {"form": request.form, "field": detail.get("setting"), "message": message}
        return _page(viewer, device_id, failed, 400)
    wake(commune)
    flash(_("Saved as version %(version)s: the kiosk takes it at its next contact.", version=version), "ok")
    return redirect(url_for(".page", device_id=device_id))


@bp.post("/fleet/<device_id>/diagnostics")
@require("remote")
def ask(device_id: str, viewer: Viewer):
    central = current_central()
    with transaction(central.sessions) as s:
        device = remote_store.device_in(s, device_id, viewer.communes)
        remote_store.ask_diagnostics(s, device, Editor(viewer.username, viewer.id), central.clock.now())
        commune = device.commune_code
    wake(commune)
    flash(_("Diagnostics asked: the kiosk sends them at its next contact."), "ok")
    return redirect(url_for(".page", device_id=device_id) + "#diagnostics")


@bp.get("/fleet/<device_id>/diagnostics/<bundle_id>.json")
@require("remote")
def download(device_id: str, bundle_id: str, viewer: Viewer):
    with current_central().sessions() as s:
        device = remote_store.device_in(s, device_id, viewer.communes)
        found = [b for b in remote_store.bundles(s, device.commune_code, device.id) if b.id == bundle_id]
        if not found:
            raise NotFoundError(_("There is no such diagnostics bundle."))
        bundle = found[0]
        name = f"chan-doan-{device.name}-{bundle.received_at:%Y%m%d-%H%M%S}.json".replace(" ", "-")
    response = Response(bundle.body, mimetype="application/json")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
