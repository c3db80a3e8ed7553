"""A QR code for the screens to show or the wall to carry, opening a page of the kiosk on a phone: the form's PDF of
"Niêm yết" (:mod:`web.posted`), the suggestion box (:mod:`web.suggestions`)."""

from __future__ import annotations

from io import BytesIO

from flask import Response, request, send_file

from kiosk.app import current_kiosk


def phone_qr(path: str) -> Response:
    """A QR code (PNG) that opens ``path`` at the address phones reach the kiosk on (``rating_url``, or the Wi-Fi
    address `kiosk serve` found; else the address this page was asked on)."""
    import qrcode

    printing = current_kiosk().printing
    base = (printing.phone_base if printing is not None else None) or request.host_url.rstrip("/")
    picture = qrcode.make(f"{base}{path}", box_size=12, border=4)
    out = BytesIO()
    picture.save(out)
    out.seek(0)
    return send_file(out, mimetype="image/png", max_age=0)
