"""A per-session CSRF token, checked on every POST/PUT/PATCH/DELETE of the blueprints (or apps) it protects.

Usage (the device's `/admin`, the central server's `/reports`)::

    bp = Blueprint("admin", __name__)
    csrf.protect(bp)                       # checks every unsafe request to bp
    # in a template: <form method="post">{{ csrf_field() }} …</form>

The token is random, kept in the signed session cookie, and compared in constant time. It is sent as
the form field ``csrf_token`` or the header ``X-CSRF-Token`` (for fetch()). Call :func:`rotate` after
a log-in so a token seen before it is worthless.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, Flask, request, session
from markupsafe import Markup, escape

from common.errors import KioskError

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SESSION_KEY = "_csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfError(KioskError, ValueError):
    """The form did not carry this session's token (an old page, another site, or no cookie)."""

    status = 400
    code = "csrf"


def token() -> str:
    """This session's token, made on first use."""
    value = session.get(SESSION_KEY)
    if not value:
        value = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return value


def rotate() -> str:
    """A fresh token (after log-in or log-out)."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def field() -> Markup:
    """The hidden input to put inside every form."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token())}">')


def check() -> None:
    """Raise CsrfError unless the request carries this session's token."""
    expected = session.get(SESSION_KEY)
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if not expected or not hmac.compare_digest(str(expected).encode(), sent.encode()):
        raise CsrfError(
            "The form is out of date or did not come from this site: reload the page and send it again.",
            {"reason": "csrf"},
        )


def _check_unsafe() -> None:
    if request.method in UNSAFE:
        check()


def protect(target: Blueprint | Flask) -> None:
    """Check the token on every unsafe request to ``target`` and offer ``csrf_field()``/``csrf_token()`` to its templates."""
    target.before_request(_check_unsafe)
    target.context_processor(lambda: {"csrf_field": field, "csrf_token": token})
