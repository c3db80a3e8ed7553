"""`/admin/services`, `/admin/counters`, `/admin/clerks`: editing the catalogue while the kiosk manages it.

Each form posts one item. The edit runs in one transaction (:mod:`kiosk.catalog_edit` refuses before
anything is committed), so a refused form changes nothing; the page comes back with the message in
Vietnamese and the values as typed. After a change :meth:`kiosk.app.Kiosk.reload_catalog` refreshes every
cache, so the citizen screen, the ticket screen, the buttons, the board and the queue see it at once; the
edit travels up to the central server at the next sync. Once the central server manages the commune's
catalogue the pages are read-only and say where to edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session

from common.errors import ConflictError, ValidationError
from kiosk.catalog_edit import create_clerk, save_counter, save_service, update_clerk
from kiosk.catalog_state import listing
from kiosk.storage import transaction
from web.admin import bp, central_managed, kiosk, message_for


def _page(template: str, failed: dict[str, Any] | None = None) -> str:
    with kiosk().sessions() as s:
        return render_template(template, failed=failed, **listing(s))


def _save(template: str, endpoint: str, key: str, action: Callable[[Session], tuple[str, str]]):
    """Run one edit; on a refusal show the page again (400) with the message beside the form that failed."""
    if central_managed():
        raise ConflictError(
            "The central server manages services, counters and clerks of this commune.", {"reason": "central"}
        )
    try:
        with transaction(kiosk().sessions) as s:
            message, anchor = action(s)
    except ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        failed = {"key": key, "form": request.form, "field": detail.get("field"), "message": message_for(exc)}
        return _page(template, failed), 400
    kiosk().reload_catalog()
    flash(message, "ok")
    return redirect(url_for(endpoint) + f"#{anchor}")


def _services(form: Any) -> list[str]:
    return form.getlist("services")


def _counters(form: Any) -> list[str]:
    """The counters ticked to handle a service (a new service needs an open counter, or nobody could call it)."""
    return form.getlist("counters")


# --- services ---------------------------------------------------------------------------------------


@bp.get("/services")
def services():
    return _page("admin_services.html")


@bp.post("/services")
def service_add():
    f = request.form

    def action(s: Session) -> tuple[str, str]:
        service = save_service(
            s, f.get("code"), f.get("name"), f.get("prefix"), f.get("daily_max"), True, new=True, counters=_counters(f)
        )
        return gettext("Service %(code)s added.", code=service.code), f"service-{service.code}"

    return _save("admin_services.html", ".services", "new", action)


@bp.post("/services/<code>")
def service_save(code: str):
    f = request.form

    def action(s: Session) -> tuple[str, str]:
        service = save_service(
            s,
            code,
            f.get("name"),
            f.get("prefix"),
            f.get("daily_max"),
            f.get("active"),
            new=False,
            counters=_counters(f),
        )
        return gettext("Service %(code)s saved.", code=service.code), f"service-{service.code}"

    return _save("admin_services.html", ".services", code.upper(), action)


# --- counters ---------------------------------------------------------------------------------------


@bp.get("/counters")
def counters():
    return _page("admin_counters.html")


@bp.post("/counters")
def counter_add():
    f = request.form

    def action(s: Session) -> tuple[str, str]:
        counter = save_counter(s, f.get("number"), _services(f), True, f.get("name"), new=True)
        return gettext("Counter %(n)s added.", n=counter.number), f"counter-{counter.number}"

    return _save("admin_counters.html", ".counters", "new", action)


@bp.post("/counters/<int:number>")
def counter_save(number: int):
    f = request.form

    def action(s: Session) -> tuple[str, str]:
        counter = save_counter(s, number, _services(f), f.get("active"), f.get("name"), new=False)
        return gettext("Counter %(n)s saved.", n=counter.number), f"counter-{counter.number}"

    return _save("admin_counters.html", ".counters", str(number), action)


# --- clerks -----------------------------------------------------------------------------------------


@bp.get("/clerks")
def clerks():
    return _page("admin_clerks.html")


@bp.post("/clerks")
def clerk_add():
    f = request.form

    def action(s: Session) -> tuple[str, str]:
        clerk = create_clerk(s, f.get("name"), f.get("counter"), f.get("pin"))
        return gettext(
            "Clerk %(name)s added with code %(code)s.", name=clerk.name, code=clerk.code
        ), f"clerk-{clerk.id}"

    return _save("admin_clerks.html", ".clerks", "new", action)


@bp.post("/clerks/<clerk_id>")
def clerk_save(clerk_id: str):
    f = request.form

    def action(s: Session) -> tuple[str, str]:
        clerk = update_clerk(s, clerk_id, f.get("name"), f.get("counter"), f.get("active"), f.get("pin"))
        if f.get("pin", "").strip():
            return gettext("Clerk %(name)s saved; the new PIN works from now on.", name=clerk.name), f"clerk-{clerk.id}"
        return gettext("Clerk %(name)s saved.", name=clerk.name), f"clerk-{clerk.id}"

    return _save("admin_clerks.html", ".clerks", clerk_id, action)
