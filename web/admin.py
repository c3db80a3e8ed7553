"""`/admin` on the device: sign-in with the admin password, today's figures, printer and sync state.

The admin's sign-in is its own mark in the session (apart from a clerk's), checked against the server on
every request (``kiosk.admin.mark_holds``): setting a new password with `kiosk admin-password`, or signing
out anywhere, ends every admin session, copied cookies included; it also lapses after ``IDLE_SECONDS``
without a request. Every form carries the CSRF token
(:mod:`common.web.csrf`). The editing pages are in :mod:`web.admin_catalog`.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext

from common import numbers
from common.errors import AuthError, KioskError, LockedOut
from common.web import csrf
from common.web.jsonapi import storage_message
from common.web.printer_states import printer_state
from common.web.scale_text import CHANNELS, grade_text
from kiosk import admin as admin_auth
from kiosk import catalog_state
from kiosk.app import current_kiosk as kiosk  # the one accessor, under the short name these pages use
from kiosk.bookings_day import bookings_days
from kiosk.health import health
from kiosk.today import today_figures

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf.protect(bp)

SESSION_KEY = "admin"
SEEN_KEY = "admin_seen"
IDLE_SECONDS = 30 * 60
OPEN_ENDPOINTS = {"admin.login", "admin.login_post"}


def central_managed() -> bool:
    """Whether the commune's catalogue is managed on the central server's pages (its last document said so)."""
    return catalog_state.read_owner(kiosk().engine) == "central"


def central_pages() -> str | None:
    """Where the commune's catalogue is edited centrally: as the last sync found it, else from the settings."""
    found = catalog_state.read_pages(kiosk().engine)
    if found:
        return found
    url = str(kiosk().settings["central_url"] or "").strip().rstrip("/")
    return f"{url}/admin/communes/{kiosk().settings['commune_code']}" if url else None


def signed_in() -> bool:
    """Whether this session is an admin's, still under the current password and not idle too long."""
    mark = session.get(SESSION_KEY)
    if not mark:
        return False
    now = kiosk().clock.now().timestamp()
    idle = now - float(session.get(SEEN_KEY, 0))
    if idle > IDLE_SECONDS or not admin_auth.mark_holds(kiosk().sessions, mark):
        sign_out()
        return False
    session[SEEN_KEY] = now
    return True


def sign_out() -> None:
    session.pop(SESSION_KEY, None)
    session.pop(SEEN_KEY, None)


@bp.before_request
def _require_admin():
    if request.endpoint in OPEN_ENDPOINTS or signed_in():
        return None
    if request.method == "GET":
        return redirect(url_for(".login", next=request.full_path.rstrip("?")))
    raise AuthError("Sign in as administrator first.", {"reason": "signed_out"})


def message_for(exc: KioskError) -> str:
    """The refusal in the page's language: known reasons and translatable msgids, else the English message."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    reason = detail.get("reason")
    if storage_message(exc.code):
        return storage_message(exc.code)
    if exc.code == "csrf":
        return gettext("This form is out of date or did not come from this page: reload the page and send it again.")
    if reason == "signed_out":
        return gettext("Sign in as administrator first.")
    if reason == "no_password":
        return gettext("No admin password is set on this kiosk yet.")
    if reason == "wrong_password":
        return gettext(
            "Wrong password. %(n)s tries left before sign-in is locked for %(m)s minutes.",
            n=detail["tries_left"],
            m=admin_auth.LOCK_SECONDS // 60,
        )
    if reason == "locked":
        return gettext(
            "Too many wrong passwords: sign-in is locked. Try again in %(m)s minute(s).",
            m=max(1, math.ceil(detail.get("seconds", 60) / 60)),
        )
    if reason == "central":
        return gettext("The central server manages services, counters and clerks of this commune: change them there.")
    if detail.get("msgid"):
        msgid = detail["msgid"]  # a msgid of kiosk/catalog_edit.py, extracted there (babel.cfg)
        return gettext(msgid, **detail.get("params", {}))
    return gettext(exc.message)


@bp.errorhandler(KioskError)
def _refused(exc: KioskError):
    if exc.status >= 500:
        log.error("%s: %s", type(exc).__name__, exc.message)
    return render_template("admin_error.html", message=message_for(exc), status=exc.status), exc.status


# --- formatting for the templates -------------------------------------------------------------------


def fmt_pct(pct: float | None) -> str:
    """A share already in per cent (common.tt01.share_pct): "87,5%" in Vietnamese, "87.5%" in English."""
    return numbers.percent(pct, get_locale())


def fmt_score(value: float | None) -> str:
    return numbers.decimal(value, get_locale())


def fmt_duration(seconds: float | None) -> str:
    """ "6 phút 39 giây", each number kept with its unit (no-break spaces) so a narrow card wraps between them."""
    if seconds is None:
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    if minutes >= 60:
        text = gettext("%(h)s h %(m)s min", h=minutes // 60, m=minutes % 60)
    else:
        text = gettext("%(m)s min %(s)s s", m=minutes, s=secs)
    return re.sub(r"(\d) ", "\\1\u00a0", text)


def fmt_size(mb: float | None) -> str:
    """Free disk space in the page's language: "76,6 GB", "512 MB" (common.numbers.megabytes)."""
    return numbers.megabytes(mb, get_locale())


def fmt_moment(value: Any) -> str:
    """A stored time (naive UTC, datetime or ISO text) as local "HH:MM dd/mm/yyyy"; unreadable text as is."""
    if not value:
        return gettext("never")
    moment = value
    if not isinstance(moment, datetime):
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return kiosk().clock.local(moment).strftime("%H:%M %d/%m/%Y")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "fmt_pct": fmt_pct,
        "fmt_score": fmt_score,
        "fmt_grade": grade_text,
        "fmt_duration": fmt_duration,
        "fmt_size": fmt_size,
        "fmt_moment": fmt_moment,
        "commune": kiosk().settings["commune_name"],
        "editable": not central_managed(),
        "central_pages": central_pages(),
        "is_admin": bool(session.get(SESSION_KEY)),
        "min_length": admin_auth.MIN_LENGTH,
        "min_answers": kiosk().settings["grade_min_answers"],
    }


# --- sign-in --------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and "//" not in target and "\\" not in target:
        return target
    return url_for(".today")


def _password_set() -> bool:
    return admin_auth.has_password(kiosk().sessions)


@bp.get("/login")
def login():
    if signed_in():
        return redirect(_safe_next(request.args.get("next")))
    return render_template("admin_login.html", password_set=_password_set(), next=request.args.get("next", ""))


@bp.post("/login")
def login_post():
    target = request.form.get("next", "")
    try:
        mark = admin_auth.login(kiosk().sessions, kiosk().admin_lockout, request.form.get("password", ""))
    except (AuthError, LockedOut) as exc:
        page = render_template("admin_login.html", password_set=_password_set(), next=target, error=message_for(exc))
        return page, exc.status
    csrf.rotate()
    session[SESSION_KEY] = mark
    session[SEEN_KEY] = kiosk().clock.now().timestamp()
    return redirect(_safe_next(target))


@bp.post("/logout")
def logout():
    admin_auth.end_sessions(kiosk().sessions)  # every admin session, this one and any copy of its cookie
    sign_out()
    csrf.rotate()
    flash(gettext("You are signed out."), "ok")
    return redirect(url_for(".login"))


# --- today ------------------------------------------------------------------------------------------


def warning_texts(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The health warnings in the page's language, each with its severity: (css class, text)."""
    texts = []
    for warning in report.get("warnings", []):
        if warning == "clock not synchronised":
            day = report.get("queue_day")
            shown = datetime.fromisoformat(day).strftime("%d/%m/%Y") if day else "—"
            message = gettext("Clock not synchronised: new tickets keep the business day %(day)s, the last day the kiosk was sure of, until the clock is set (NTP); times are marked and corrected by the central server.", day=shown)  # fmt: skip
            texts.append(("warn", message))
        elif warning == "disk space low":
            message = gettext("Disk space is low: %(mb)s MB free. Free some space before it runs out.", mb=numbers.decimal(round(report.get("disk_free_mb") or 0), get_locale()))  # fmt: skip
            texts.append(("warn", message))
        elif warning == "disk full":
            texts.append(("error", gettext("The disk is full: the kiosk refuses new tickets and ratings until space is freed.")))  # fmt: skip
        elif warning == "database damaged":
            message = gettext("The database is damaged (%(why)s): new tickets and ratings are refused. Restore the last backup (docs/deploy.md).", why=report.get("db_detail") or "")  # fmt: skip
            texts.append(("error", message))
        else:
            texts.append(("error", gettext("The database does not answer.")))
    return texts


@bp.get("", strict_slashes=False)
def today():
    k = kiosk()
    with k.sessions() as s:
        figures = today_figures(s, k.clock, min_answers=k.settings["grade_min_answers"])
    report, _ = health(k)
    printer = printer_state(report["printer"])
    return render_template(
        "admin_today.html",
        figures=figures,
        health=report,
        warnings=warning_texts(report),
        printer=printer,
        central_url=str(k.settings["central_url"] or "").strip(),
        catalog=report.get("catalog") or {},
        refused=_refusal(report.get("catalog") or {}),
        upload_refused=_upload_refusal(report.get("catalog") or {}),
        day=figures.day.strftime("%d/%m/%Y"),
        bookings=bookings_days(k.engine, k.clock, k.settings["booking_grace_minutes"])[0].counts(),
        channel_names={key: str(name) for key, name in CHANNELS.items()},
    )


def _upload_refusal(catalog: dict[str, Any]) -> str | None:
    """Why the central server refused this kiosk's catalogue, and what to do, in the page's language."""
    note = catalog.get("upload_refused")
    if not note:
        return None
    reason = gettext(note["msgid"], **note.get("params", {})) if note.get("msgid") else note.get("reason", "")
    if note.get("rule") == "clerks_of_other_kiosks":
        step = gettext("This kiosk has set those clerks back to the commune's version.")
    else:
        step = gettext("Correct that entry here (services, counters, clerks); the corrected catalogue is sent at the next sync.")  # fmt: skip
    return gettext(
        "The central server refused this kiosk's catalogue (%(when)s): %(reason)s It is not sent again as it is. %(step)s",
        when=fmt_moment(note.get("at")),
        reason=reason,
        step=step,
    )


def _refusal(catalog: dict[str, Any]) -> str | None:
    """Why the kiosk refused the central server's last catalogue, in the page's language."""
    note = catalog.get("refused")
    if not note:
        return None
    if note.get("msgid"):
        reason = gettext(note["msgid"], **note.get("params", {}))
    else:
        reason = note.get("reason", "")
    return gettext(
        "The central server's last catalogue was refused (%(when)s): %(reason)s",
        when=fmt_moment(note.get("at")),
        reason=reason,
    )
