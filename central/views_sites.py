"""`/admin/sites/<commune>`: a commune's reception points (điểm tiếp nhận) and which kiosk stands at each.

Roles ``admin`` and ``commune_admin`` (its own commune). A merged commune adds a reception point for each former
commune it serves and moves the kiosks there; the reports then compare the points (``site`` filter, "By
reception point"). Moving a kiosk changes the site of its later records only: sync it before it moves.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import hierarchy
from central.accounts import Viewer, require
from central.context import current_central
from central.models import Commune, Device
from central.page_base import page_blueprint
from central.views_catalog import _commune, refused_form, visible_communes
from common.db import transaction
from common.errors import ConflictError, NotFoundError, ValidationError

bp = page_blueprint("central_sites", __name__)


@bp.get("/admin/sites")
@require("catalog")
def communes(viewer: Viewer):
    with current_central().sessions() as s:
        rows = visible_communes(s, viewer)
        sites = hierarchy.sites_of(s, viewer.communes)
    if len(rows) == 1 and viewer.communes is not None:
        return redirect(url_for(".sites", code=rows[0].code))
    count: dict[str, int] = {}
    for site in sites:
        count[site.commune_code] = count.get(site.commune_code, 0) + int(site.active)
    return render_template("central/sites_communes.html", viewer=viewer, communes=rows, count=count)


def _page(viewer: Viewer, code: str, failed: dict | None = None, status: int = 200):
    with current_central().sessions() as s:
        commune = s.get(Commune, code)
        sites = hierarchy.sites_of(s, (code,))
        kiosks = s.scalars(select(Device).where(Device.commune_code == code).order_by(Device.name)).all()
        page = render_template(
            "central/sites.html", viewer=viewer, commune=commune, sites=sites, kiosks=kiosks, failed=failed
        )
    return page, status


@bp.get("/admin/sites/<code>")
@require("catalog")
def sites(code: str, viewer: Viewer):
    return _page(viewer, _commune(viewer, code))


def _save(viewer: Viewer, code: str, key: str, action: Callable[[Session], str]):
    try:
        with transaction(current_central().sessions) as s:
            message = action(s)
    except (ValidationError, NotFoundError, ConflictError) as exc:
        failed = refused_form(key, exc)
        return _page(viewer, code, failed, 400)
    flash(message, "ok")
    return redirect(url_for(".sites", code=code) + f"#site-{key}")


@bp.post("/admin/sites/<code>")
@bp.post("/admin/sites/<code>/<site>")
@require("catalog")
def site_save(code: str, viewer: Viewer, site: str | None = None):
    code, f, new = _commune(viewer, code), request.form, site is None
    now = current_central().clock.now()

    def action(s: Session) -> str:
        row = hierarchy.save_site(
            s, code, f.get("code") if new else site, f.get("name"), f.get("former_commune"), f.get("active"), now, new
        )
        if new:
            return _("Reception point %(code)s added.", code=row.code)
        return _("Reception point %(code)s saved.", code=row.code)

    return _save(viewer, code, "new" if new else (site or "").upper(), action)


@bp.post("/admin/sites/<code>/kiosks/<device_id>")
@require("catalog")
def move(code: str, device_id: str, viewer: Viewer):
    code = _commune(viewer, code)

    def action(s: Session) -> str:
        device = s.get(Device, device_id)
        if device is None or device.commune_code != code:
            raise NotFoundError(_("There is no such kiosk."))
        hierarchy.move_device(s, device_id, request.form.get("site"))
        return _("Kiosk %(name)s now belongs to reception point %(site)s.", name=device.name, site=device.site_code)

    return _save(viewer, code, f"kiosk-{device_id}", action)
