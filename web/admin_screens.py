"""`/admin/screens`: enrol the screen in hand (a tablet at a counter) so its ratings count; list and revoke.

An admin opens `/admin/screens` on the tablet itself, signs in, names it ("Máy tính bảng quầy 2"), optionally
picks its counter, and presses "Ghi danh màn hình này": the tablet gets the enrolled screen's signed cookie
(:mod:`web.enrolment`), the kiosk keeps the screen (:mod:`kiosk.screens`). "Thu hồi" revokes one. The forms
carry the admin pages' CSRF token and need the admin's sign-in (both from :mod:`web.admin`).
"""

from __future__ import annotations

import logging

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext

from common.errors import ValidationError, refusal
from kiosk import screens
from kiosk.storage import read_rows
from web.admin import bp, kiosk, message_for
from web.enrolment import enrolled_screen, give_cookie, is_local

log = logging.getLogger(__name__)


def _page(failed: dict | None = None) -> str:
    k = kiosk()
    counters = [row[0] for row in read_rows(k.engine, "SELECT number FROM counters ORDER BY number")]
    return render_template(
        "admin_screens.html",
        screens=screens.listing(k.sessions),
        this_screen=enrolled_screen(),
        own_screen=is_local(request.remote_addr),
        counters=counters,
        failed=failed,
    )


@bp.get("/screens")
def screens_page():
    return _page()


def _counter(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise refusal("counter", "Choose a counter from the list.")
    return int(value)


@bp.post("/screens")
def screen_enrol():
    form = request.form
    address = request.remote_addr or "?"
    try:
        screen = screens.enrol(
            kiosk().sessions, kiosk().clock, form.get("name"), _counter(form.get("counter")), f"admin @ {address}"
        )
    except ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        failed = {"key": "new", "form": form, "field": detail.get("field"), "message": message_for(exc)}
        return _page(failed), 400
    log.info("screen %r enrolled from %s (counter %s)", screen.name, address, screen.counter)
    flash(gettext("This screen is enrolled as “%(name)s”: its ratings count.", name=screen.name), "ok")
    response = make_response(redirect(url_for(".screens_page")))
    give_cookie(response, screen)
    return response


@bp.post("/screens/<screen_id>/revoke")
def screen_revoke(screen_id: str):
    screen = screens.revoke(kiosk().sessions, screen_id)
    log.info("screen %r revoked from %s", screen.name, request.remote_addr)
    flash(gettext("Screen “%(name)s” is revoked: its ratings no longer count.", name=screen.name), "ok")
    return redirect(url_for(".screens_page"))
