"""A QR code for the screens to show or the wall to carry, opening a page of the kiosk on a phone: the form's PDF of
"Niêm yết" (:mod:`web.posted`), the suggestion box (:mod:`web.suggestions`)."""

from __future__ import annotations

import ipaddress
from io import BytesIO
from urllib.parse import urlsplit

from flask import Response, request, send_file

from kiosk.app import current_kiosk


def phone_address() -> str | None:
    """The address phones reach the kiosk on: ``rating_url``, or the Wi-Fi address `kiosk serve` found; else the
    address this page was asked on — None when that is the kiosk's own loopback (no phone opens 127.0.0.1)."""
    printing = current_kiosk().printing
    base = printing.phone_base if printing is not None else None
    asked_on = request.host_url.rstrip("/")
    return base or (None if _loopback(urlsplit(asked_on).hostname or "") else asked_on)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def phone_qr(path: str) -> Response:
    """A QR code (PNG) that opens ``path`` at :func:`phone_address` (or, with none, where this page was asked)."""
    import qrcode

    base = phone_address() or request.host_url.rstrip("/")
    picture = qrcode.make(f"{base}{path}", box_size=12, border=4)
    out = BytesIO()
    picture.save(out)
    out.seek(0)
    return send_file(out, mimetype="image/png", max_age=0)
