"""The central server's pages (reports, comments inbox, kiosk fleet, catalogue): wiring into ``create_central_app``.

Vietnamese first through Flask-Babel (the same catalogues as the device, compiled into the data
directory), numbers in the page's language (``|num``, ``|pct``: 87,5% in Vietnamese, 87.5% in English), the
CSRF token on every form, plain-words error pages, and headers that keep the pages in their own frame and off
other origins' scripts. The sync API (``/api/v1/...``) is left as it is.
"""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask_babel import Babel, get_locale

from central import accounts, audit_text
from central.context import current_central
from common import numbers
from common.catalog_rules import free_clerk_code
from common.counter_label import counter_label
from common.web import csrf, scale_text
from common.web.i18n import compile_catalogues, select_locale

CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


def _select_locale() -> str:
    return select_locale(current_central().settings["language"])


def _headers(response):
    if not request.path.startswith("/api/"):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint and not request.endpoint.startswith("static"):
            response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_pages(app: Flask) -> None:
    """Babel, sessions, and the blueprints of /reports, /comments, /fleet, /admin/communes and /login."""
    from central import (
        fleet_rings,
        users,
        views_catalog,
        views_comments,
        views_fleet,
        views_panel,
        views_posted,
        views_procedures,
        views_remote,
        views_reports,
        views_sites,
    )

    settings = app.extensions["central"].settings
    target = compile_catalogues(settings.data_path / "i18n")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    app.config["BABEL_DEFAULT_LOCALE"] = settings["language"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = settings["timezone"]
    Babel(app, locale_selector=_select_locale)
    app.jinja_env.globals["get_locale"] = lambda: str(get_locale() or settings["language"])
    app.jinja_env.globals["current_user"] = accounts.current_user
    app.jinja_env.globals["role_name"] = accounts.role_name
    app.jinja_env.globals["grade_text"] = scale_text.grade_text
    app.jinja_env.globals["level_text"] = scale_text.level_text
    app.jinja_env.globals["counter_name"] = _counter_name
    app.jinja_env.globals["audit_line"] = audit_text.describe  # the change log in plain words
    app.jinja_env.globals["free_clerk_code"] = free_clerk_code  # the code a new clerk gets, never a taken one
    app.jinja_env.filters["num"] = lambda value: numbers.decimal(value, get_locale())
    app.jinja_env.filters["pct"] = lambda value: numbers.percent(value, get_locale())
    app.jinja_env.filters["signed"] = lambda value: numbers.signed(value, get_locale())
    app.jinja_env.filters["vndate"] = _day
    app.jinja_env.filters["ranked"] = _ranked
    accounts.configure(app)
    blueprints = (
        accounts.bp,
        views_reports.bp,
        views_comments.bp,
        views_fleet.bp,
        views_panel.bp,
        views_catalog.bp,
        views_sites.bp,
        views_posted.bp,
        views_procedures.bp,
        views_remote.bp,
        fleet_rings.bp,
    )
    for blueprint in (*blueprints, users.bp):
        app.register_blueprint(blueprint)
    # pages drawn outside the blueprints (the 404/405/500 pages) show the header's sign-out form too
    app.context_processor(lambda: {"csrf_field": csrf.field, "csrf_token": csrf.token})
    app.after_request(_headers)
    app.add_url_rule("/", "central_home", _home)


def _counter_name(point: str | None, number: int | None) -> str:
    """ "TT · Quầy 1" in the page's language (common.counter_label); ``point`` None where a commune has one."""
    from flask_babel import gettext

    return counter_label(point, number, word=gettext("Counter")) if number else gettext("(no counter)")


def _day(iso: str | None) -> str:
    """2026-01-05 → 05/01/2026 (as dates are written in Vietnam)."""
    from datetime import date

    return f"{date.fromisoformat(iso):%d/%m/%Y}" if iso else "—"


def _ranked(communes: list[dict]) -> list[dict]:
    """Communes in ranking order; those without a place after, then those without a kiosk, by name."""
    return sorted(
        communes, key=lambda c: (c.get("rank") is None, c.get("rank") or 0, not c.get("installed", True), c["name"])
    )


def _home():
    """Reports for those who may read them, the comments inbox for handlers, else sign-in."""
    viewer = accounts.current_user()
    if viewer is not None and not viewer.can("reports"):
        return redirect(url_for("central_comments.inbox"))
    return redirect(url_for("central_reports.dashboard"))
