"""Who may see what on the central server's pages: sign-in, roles and commune scope.

The roles, their capabilities and scopes are in :mod:`central.roles`. Every view calls :func:`require`
and every query is limited to :attr:`Viewer.communes`; a commune outside the scope is refused with 403
before anything is read. Passwords are hashed (werkzeug scrypt), the session cookie is HttpOnly,
SameSite=Lax and (by default) Secure, and every form carries the session's CSRF token (``common.web.csrf``).

A session holds the user's id and a session mark (:mod:`common.web.session_mark`) of their session epoch and
password hash, checked on every request: signing out raises the epoch and a new password changes the hash, so
either ends every session of that user, a copied cookie included. Failed sign-ins are throttled per source
address (the address the reverse proxy reports, ``central_proxy_count``), on the monotonic clock
(:class:`common.throttle.FloodGate`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select
from werkzeug.security import check_password_hash

from central import roles
from central.context import Central, current_central
from central.models import User
from central.page_base import page_blueprint, wants_page
from common.db import transaction
from common.errors import AuthError, ForbiddenError, TooManyRequests
from common.throttle import FloodGate
from common.web import csrf
from common.web.session_mark import make_mark, mark_holds

bp = page_blueprint("central_accounts", __name__)

SESSION_USER = "central_user"
SESSION_MARK = "central_mark"
SESSION_HOURS = 8
#: Failed sign-ins allowed per source address within WINDOW seconds (whatever usernames they try).
MAX_FAILURES, WINDOW = 10, 900
FAILURES_KEY = "central_login_failures"


#: Role names as people read them (the keys are what `kiosk-central add-user --role` takes).
ROLE_NAMES = {
    "admin": lazy_gettext("Administrator"),
    "province_viewer": lazy_gettext("Province viewer"),
    "commune_admin": lazy_gettext("Commune administrator"),
    "commune_viewer": lazy_gettext("Commune viewer"),
    "handler": lazy_gettext("Comment handler"),
}


def role_name(role: str) -> str:
    """A role in the page's language ("Quản trị"), never its key ("admin"); an unknown key as it is."""
    return str(ROLE_NAMES.get(role, role))


@dataclass(frozen=True)
class Viewer:
    id: str
    username: str
    role: str
    communes: tuple[str, ...] | None  # None = every commune
    province: str | None = None  # a province viewer's province

    def can(self, capability: str) -> bool:
        return roles.can(self.role, capability)

    def check_commune(self, code: str) -> None:
        """ForbiddenError unless the commune is in this user's scope."""
        if self.communes is not None and code not in self.communes:
            raise ForbiddenError(
                _("Commune %(code)s is outside what your account may see.", code=code), {"commune": code}
            )


def configure(app) -> None:
    """Session cookie settings for the pages (the sync API does not use cookies), and the sign-in throttle."""
    settings = app.extensions["central"].settings
    app.config["SESSION_COOKIE_SECURE"] = bool(settings["central_secure_cookies"])
    app.config["SESSION_COOKIE_NAME"] = "kiosk_central"
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=SESSION_HOURS)
    app.extensions[FAILURES_KEY] = FloodGate(MAX_FAILURES, WINDOW, _too_many_failures)


def _too_many_failures(count: int, address: str, wait: int) -> TooManyRequests:
    return TooManyRequests(_("Too many failed sign-ins; wait 15 minutes and try again."), retry_after=wait)


def current_user() -> Viewer | None:
    if "viewer" in g:
        return g.viewer
    viewer = None
    uid = session.get(SESSION_USER)
    if uid:
        with current_central().sessions() as s:
            user = s.get(User, uid)
            valid = user is not None and user.active and user.role in roles.ROLES
            if valid and mark_holds(session.get(SESSION_MARK), user.id, user.session_epoch or 0, user.password_hash):
                viewer = Viewer(user.id, user.username, user.role, roles.scope_of(s, user), user.province_code)
        if viewer is None:
            session.pop(SESSION_USER, None)
            session.pop(SESSION_MARK, None)
    g.viewer = viewer
    return viewer


def require(capability: str) -> Callable:
    """The view needs a signed-in user with ``capability``; the Viewer is passed as ``viewer``."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            viewer = current_user()
            if viewer is None:
                if wants_page():
                    return redirect(url_for("central_accounts.login", next=request.full_path.rstrip("?")))
                raise AuthError(_("Sign in first."))
            if not viewer.can(capability):
                raise ForbiddenError(_("Your account (%(role)s) may not open this page.", role=role_name(viewer.role)))
            return view(*args, viewer=viewer, **kwargs)

        return wrapper

    return decorate


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("central_home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("central_home")
    return target


def end_sessions(central: Central, user_id: str) -> None:
    """Every session of this user ends now, server-side (sign-out, or an administrator's decision)."""
    with transaction(central.sessions) as s:
        user = s.get(User, user_id)
        if user is not None:
            user.session_epoch = (user.session_epoch or 0) + 1


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    insecure = current_app.config.get("SESSION_COOKIE_SECURE") and not request.is_secure
    if request.method == "POST":
        username = (request.form.get("username") or "").strip().lower()[:64]
        password = request.form.get("password") or ""
        address = request.remote_addr or "?"
        throttle: FloodGate = current_app.extensions[FAILURES_KEY]
        throttle.guard(address)  # 429 past MAX_FAILURES failures within WINDOW
        with current_central().sessions() as s:
            user = s.scalar(select(User).where(User.username == username))
            ok = user is not None and user.active and check_password_hash(user.password_hash, password)
        if ok:
            session.clear()
            session.permanent = True
            session[SESSION_USER] = user.id
            session[SESSION_MARK] = make_mark(user.id, user.session_epoch or 0, user.password_hash)
            csrf.rotate()
            return redirect(_safe_next(request.args.get("next")))
        throttle.count(address)
        error = _("Wrong username or password.")
    return render_template("central/login.html", error=error, insecure=insecure), 401 if error else 200


@bp.post("/logout")
def logout():
    viewer = current_user()
    if viewer is not None:
        end_sessions(current_central(), viewer.id)  # this cookie and every copy of it
    session.clear()
    csrf.rotate()
    return redirect(url_for("central_accounts.login"))
