"""Which screen sends a request: the kiosk's own (loopback), an enrolled one (its signed cookie), or neither.

An enrolled screen carries the cookie ``COOKIE``: its random id (kiosk.screens), signed with the kiosk's secret
key, kept ten years. A copied id without the signature, a revoked id or an unknown one is not enrolled. The
cookie is HttpOnly and SameSite=Lax: a page's script cannot read it, another site cannot send it with a POST.
"""

from __future__ import annotations

import ipaddress

from flask import current_app, request
from flask.wrappers import Response
from itsdangerous import BadSignature, URLSafeSerializer

from kiosk import screens
from kiosk.app import current_kiosk
from kiosk.screens import Screen

COOKIE = "kiosk_screen"
SALT = "kiosk-enrolled-screen"
#: How long an enrolled screen's cookie lasts (a revocation ends it sooner).
MAX_AGE = 10 * 365 * 24 * 3600


def is_local(address: str | None) -> bool:
    """Whether the request comes from the kiosk itself (its own touch screen)."""
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def enrolled_screen() -> Screen | None:
    """The enrolled screen this request comes from, or None (no cookie, a bad signature, revoked, unknown)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        screen_id = _signer().loads(value)
    except BadSignature:
        return None
    return screens.find(current_kiosk().engine, screen_id)


def give_cookie(response: Response, screen: Screen) -> None:
    """Make the browser of this response the enrolled ``screen``."""
    response.set_cookie(COOKIE, _signer().dumps(screen.id), max_age=MAX_AGE, httponly=True, samesite="Lax", path="/")
