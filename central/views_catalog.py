"""`/admin/communes/<code>/…`: a commune's catalogue on the central pages (roles ``admin`` and ``commune_admin``).

The overview says who manages the catalogue (the kiosks or the central server), which kiosks already run
its newest version, and what changed lately (the audit log). The services, counters, clerks and wording pages
hold one form per item, each with the session's CSRF token; an edit runs in one transaction
(:mod:`central.catalog_edit`), so a refused form changes nothing and comes back with the message beside
it. The first edit here makes the catalogue centrally managed; kiosks that are connected take every change
within seconds (:mod:`central.catalog_watch`), the others when they are connected again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from central import audit, catalog_edit
from central.accounts import Viewer, require
from central.catalog import catalog_version, content
from central.catalog_watch import WAIT_MAX
from central.context import current_central
from central.models import MAIN_SITE, Clerk, Commune, Device, DeviceStatus, Site
from central.page_base import page_blueprint
from central.reports.localtime import LocalTime
from central.views_reports import CODE_RE
from common.db import transaction
from common.errors import KioskError, NotFoundError, ValidationError
from common.scale import INDICATORS

bp = page_blueprint("central_catalog", __name__)
#: Audit entries shown: the latest on the overview, many on the audit page.
AUDIT_ROWS = {"overview.html": 15, "audit.html": 500}
#: A kiosk that asked for changes this recently is listening: it takes a new version within seconds.
LISTENING = timedelta(seconds=WAIT_MAX + 15)


def _commune(viewer: Viewer, code: str) -> str:
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise NotFoundError(_("There is no such commune."))
    viewer.check_commune(code)
    with current_central().sessions() as s:
        if s.get(Commune, code) is None:
            raise NotFoundError(_("There is no such commune."))
    return code


def _actor(viewer: Viewer) -> audit.Actor:
    return audit.Actor(viewer.username, viewer.id)


def message_for(exc: KioskError) -> str:
    """A refusal in the page's language (the msgid of kiosk/catalog_edit.py or central/*), else as raised."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    if detail.get("msgid"):
        return _(detail["msgid"], **detail.get("params", {}))
    return exc.message


def refused_form(key: str, exc: KioskError) -> dict[str, Any]:
    """What a page needs to show a refused form again: which form, what was typed, the field at fault, why."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    return {"key": key, "form": request.form, "field": detail.get("field"), "message": message_for(exc)}


def visible_communes(session: Session, viewer: Viewer) -> list[Commune]:
    """The communes ``viewer`` may open, by code (every commune for a province-wide role)."""
    query = select(Commune).order_by(Commune.code)
    if viewer.communes is not None:
        query = query.where(Commune.code.in_(viewer.communes))
    return list(session.scalars(query))


def kiosks(session: Session, code: str, local_time: LocalTime, now: datetime | None = None) -> list[dict[str, Any]]:
    """The commune's kiosks, the catalogue version each said it uses, and whether that is the newest.

    ``listening``: the kiosk asked for changes lately (:mod:`central.catalog_watch`), so it takes a new version
    within seconds; otherwise it takes it when it is connected again (or at its next sync).
    """
    newest = catalog_version(session, code)
    st = DeviceStatus.__table__.c
    rows = session.execute(
        select(
            Device.id,
            Device.name,
            Device.enabled,
            st.catalog_version,
            st.catalog_refused,
            st.catalog_at,
            st.last_config_at,
            st.last_sync_at,
        )
        .select_from(
            Device.__table__.outerjoin(
                DeviceStatus.__table__, and_(st.commune_code == Device.commune_code, st.device_id == Device.id)
            )
        )
        .where(Device.commune_code == code)
        .order_by(Device.name)
    )
    out = []
    for r in rows:
        state = "refused" if r.catalog_refused else ("newest" if r.catalog_version == newest else "older")
        if r.catalog_at is None:
            state = "never"
        seen = max((t for t in (r.last_config_at, r.last_sync_at) if t is not None), default=None)
        out.append(
            {
                "id": r.id,
                "name": r.name,
                "enabled": r.enabled,
                "state": state,
                "received": state == "newest",
                "version": (r.catalog_version or "")[:8] or None,
                "listening": bool(now and r.last_config_at and now - r.last_config_at <= LISTENING),
                "seen": f"{local_time.local(seen):%d/%m/%Y %H:%M}" if seen else None,
                "at": f"{local_time.local(r.catalog_at):%d/%m/%Y %H:%M}" if r.catalog_at else None,
                "why": r.catalog_refused,
            }
        )
    return out


def _page(template: str, viewer: Viewer, code: str, failed: dict | None = None, status: int = 200):
    central = current_central()
    with central.sessions() as s:
        commune = s.get(Commune, code)
        data = content(s, code)
        clerk_rows = s.scalars(select(Clerk).where(Clerk.commune_code == code).order_by(Clerk.code)).all()
        site_rows = s.scalars(select(Site).where(Site.commune_code == code).order_by(Site.code)).all()
        page = render_template(
            template,
            viewer=viewer,
            commune=commune,
            catalog=data,
            clerks=clerk_rows,
            sites=site_rows,
            main_site=MAIN_SITE,
            indicators=INDICATORS,
            kiosks=kiosks(s, code, central.local_time, central.clock.now())
            if template.endswith("overview.html")
            else [],
            entries=audit.entries(s, code, AUDIT_ROWS.get(template.rsplit("_", 1)[-1], 0)),
            local=central.local_time.local,
            failed=failed,
        )
    return page, status


def _save(viewer: Viewer, code: str, section: str, key: str, anchor: str, action: Callable[[Session], str]):
    """Run one edit; on a refusal show the page again (400) with the message beside the form that failed."""
    try:
        with transaction(current_central().sessions) as s:
            message = action(s)
    except (ValidationError, NotFoundError) as exc:
        failed = refused_form(key, exc)
        return _page(f"central/catalog_{section}.html", viewer, code, failed, 400)
    flash(message, "ok")
    return redirect(url_for(f".{section}", code=code) + f"#{anchor}")


# --- overview, owner, audit log ---------------------------------------------------------------------


@bp.get("/admin/communes")
@require("catalog")
def communes(viewer: Viewer):
    with current_central().sessions() as s:
        rows = visible_communes(s, viewer)
        active = dict(
            s.execute(
                select(Clerk.commune_code, func.count()).where(Clerk.active.is_(True)).group_by(Clerk.commune_code)
            ).all()
        )
    if len(rows) == 1 and viewer.communes is not None:
        return redirect(url_for(".overview", code=rows[0].code))
    return render_template("central/catalog_communes.html", viewer=viewer, communes=rows, active=active)


@bp.get("/admin/communes/<code>")
@require("catalog")
def overview(code: str, viewer: Viewer):
    return _page("central/catalog_overview.html", viewer, _commune(viewer, code))


@bp.post("/admin/communes/<code>/owner")
@require("catalog")
def owner(code: str, viewer: Viewer):
    code = _commune(viewer, code)
    wanted = request.form.get("owner")
    if wanted not in ("kiosk", "central"):
        raise ValidationError(_("Choose who manages the catalogue."), {"field": "owner"})
    with transaction(current_central().sessions) as s:
        audit.set_owner(s, code, wanted, _actor(viewer), current_central().clock.now())
    if wanted == "kiosk":
        flash(_("The kiosks' /admin pages manage this commune's catalogue again."), "ok")
    else:
        flash(_("This commune's catalogue is now managed here; the kiosks show it read-only."), "ok")
    return redirect(url_for(".overview", code=code))


@bp.get("/admin/communes/<code>/audit")
@require("catalog")
def audit_log(code: str, viewer: Viewer):
    return _page("central/catalog_audit.html", viewer, _commune(viewer, code))


# --- services ---------------------------------------------------------------------------------------


@bp.get("/admin/communes/<code>/services")
@require("catalog")
def services(code: str, viewer: Viewer):
    return _page("central/catalog_services.html", viewer, _commune(viewer, code))


@bp.post("/admin/communes/<code>/services")
@bp.post("/admin/communes/<code>/services/<service>")
@require("catalog")
def service_save(code: str, viewer: Viewer, service: str | None = None):
    code, f, new = _commune(viewer, code), request.form, service is None

    def action(s: Session) -> str:
        row = catalog_edit.save_service(
            s,
            code,
            f.get("code") if new else service,
            f.get("name"),
            f.get("prefix"),
            f.get("daily_max"),
            f.get("active"),
            new=new,
            actor=_actor(viewer),
            now=current_central().clock.now(),
            counters=f.getlist("counters"),
        )
        return _("Service %(code)s added.", code=row.code) if new else _("Service %(code)s saved.", code=row.code)

    key = "new" if new else service.upper()
    return _save(viewer, code, "services", key, f"service-{key}", action)


# --- counters ---------------------------------------------------------------------------------------


@bp.get("/admin/communes/<code>/counters")
@require("catalog")
def counters(code: str, viewer: Viewer):
    return _page("central/catalog_counters.html", viewer, _commune(viewer, code))


@bp.post("/admin/communes/<code>/counters")
@bp.post("/admin/communes/<code>/counters/<int:number>")
@bp.post("/admin/communes/<code>/counters/<site>/<int:number>")
@require("catalog")
def counter_save(code: str, viewer: Viewer, number: int | None = None, site: str | None = None):
    """A counter of a reception point (the form's ``site`` for a new one; without a point: the centre)."""
    code, f, new = _commune(viewer, code), request.form, number is None
    site = (f.get("site") if new else site) or MAIN_SITE

    def action(s: Session) -> str:
        row = catalog_edit.save_counter(
            s,
            code,
            f.get("number") if new else number,
            f.getlist("services"),
            f.get("active"),
            f.get("name"),
            new=new,
            actor=_actor(viewer),
            now=current_central().clock.now(),
            site=site,
        )
        n = f"{row.site_code} · {row.number}"
        return _("Counter %(n)s added.", n=n) if new else _("Counter %(n)s saved.", n=n)

    key = "new" if new else f"{site.upper()}:{number}"
    return _save(viewer, code, "counters", key, f"counter-{key.replace(':', '-')}", action)


# --- clerks -----------------------------------------------------------------------------------------


@bp.get("/admin/communes/<code>/clerks")
@require("catalog")
def clerks(code: str, viewer: Viewer):
    return _page("central/catalog_clerks.html", viewer, _commune(viewer, code))


@bp.post("/admin/communes/<code>/clerks")
@bp.post("/admin/communes/<code>/clerks/<clerk_id>")
@require("catalog")
def clerk_save(code: str, viewer: Viewer, clerk_id: str | None = None):
    code, f, new = _commune(viewer, code), request.form, clerk_id is None
    now = current_central().clock.now()

    def action(s: Session) -> str:
        if new:
            row = catalog_edit.add_clerk(
                s, code, f.get("name"), f.get("code"), f.get("counter"), f.get("pin"), actor=_actor(viewer), now=now
            )
            return _("Clerk %(name)s added with code %(code)s.", name=row.name, code=row.code)
        row = catalog_edit.save_clerk(
            s,
            code,
            clerk_id,
            f.get("name"),
            f.get("counter"),
            f.get("active"),
            f.get("pin"),
            actor=_actor(viewer),
            now=now,
        )
        if (f.get("pin") or "").strip():
            return _("Clerk %(name)s saved; the new PIN works at the connected kiosks within seconds.", name=row.name)
        return _("Clerk %(name)s saved.", name=row.name)

    key = "new" if new else clerk_id
    return _save(viewer, code, "clerks", key, f"clerk-{key}", action)


# --- rating wording and questions -------------------------------------------------------------------


@bp.get("/admin/communes/<code>/wording")
@require("catalog")
def wording(code: str, viewer: Viewer):
    return _page("central/catalog_wording.html", viewer, _commune(viewer, code))


@bp.post("/admin/communes/<code>/wording")
@require("catalog")
def wording_save(code: str, viewer: Viewer):
    code, f = _commune(viewer, code), request.form
    labels = {k[len("label-") :]: v for k, v in f.items() if k.startswith("label-")}
    questions = {
        key: {
            "active": f.get(f"active-{key}"),
            "question": f.get(f"question-{key}"),
            "answers": [f.get(f"answer-{key}-{i}") for i in range(3)] if f.get(f"answer-{key}-0") is not None else None,
        }
        for key in INDICATORS
    }

    def action(s: Session) -> str:
        catalog_edit.save_wording(s, code, labels, questions, actor=_actor(viewer), now=current_central().clock.now())
        return _("Rating wording and questions saved.")

    return _save(viewer, code, "wording", "wording", "wording", action)
