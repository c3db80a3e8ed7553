"""`/admin/procedures/<commune>`: the province's procedures, field by field, each with a switch to hide it at this
commune (one it does not handle) or show it again; the change travels to the commune's kiosks at their next sync.

Role ``catalog``: a ``commune_admin`` its own commune, an ``admin`` every commune. The same rule as
``kiosk-central hide-procedures`` (:func:`central.procedures.set_hidden`).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from central.accounts import Viewer, require
from central.context import current_central
from central.models import Commune, Service
from central.page_base import page_blueprint
from central.procedures import commune_list, set_hidden
from central.views_catalog import _commune, visible_communes
from common.db import transaction

bp = page_blueprint("central_procedures", __name__)


@bp.get("/admin/procedures")
@require("catalog")
def communes(viewer: Viewer):
    with current_central().sessions() as s:
        rows = visible_communes(s, viewer)
    if len(rows) == 1 and viewer.communes is not None:
        return redirect(url_for(".page", code=rows[0].code))
    return render_template("central/procedures_communes.html", viewer=viewer, communes=rows)


@bp.get("/admin/procedures/<code>")
@require("catalog")
def page(code: str, viewer: Viewer):
    code = _commune(viewer, code)
    with current_central().sessions() as s:
        commune = s.get(Commune, code)
        names = {c: n for c, n in s.execute(select(Service.code, Service.name).where(Service.commune_code == code))}
        fields: dict[str, list] = {}
        for p in commune_list(s, code):
            fields.setdefault(p["service"], []).append(p)
    return render_template("central/procedures.html", viewer=viewer, commune=commune, fields=fields, names=names)


@bp.post("/admin/procedures/<code>/<procedure>")
@require("catalog")
def switch(code: str, procedure: str, viewer: Viewer):
    code = _commune(viewer, code)
    hidden = request.form.get("hidden") == "1"
    with transaction(current_central().sessions) as s:
        set_hidden(s, code, [procedure[:40]], hidden, current_central().clock.now())
    if hidden:
        flash(_("Procedure %(code)s is hidden at this commune's kiosks.", code=procedure[:40]), "ok")
    else:
        flash(_("Procedure %(code)s is shown at this commune's kiosks again.", code=procedure[:40]), "ok")
    return redirect(url_for(".page", code=code) + f"#p-{procedure[:40]}")
