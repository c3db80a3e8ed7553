"""The suggestion box: `POST /api/suggestions {"text", "contact"?}` → 201, and its page `/gop-y` — on the kiosk's
screen with the on-screen keyboard, on a phone (from the QR posted on the wall) with the phone's own.

Suggestions from anywhere but the kiosk's own screen are flood-limited per address, like ratings.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from common.throttle import FloodGate
from common.web.jsonapi import BadBody, read_json
from kiosk.app import current_kiosk
from kiosk.rating_input import MAX_COMMENT
from kiosk.suggestions import leave_suggestion
from web.api import FLOOD_WINDOW, is_local
from web.phone_qr import phone_qr

bp = Blueprint("suggestions", __name__)

FIELDS = {"text", "contact"}
GATE_KEY = "suggestion_gate"


def _gate() -> FloodGate:
    gate = current_app.extensions.get(GATE_KEY)
    if gate is None:
        limit = int(current_kiosk().settings["rating_flood_limit"])
        gate = current_app.extensions[GATE_KEY] = FloodGate(limit, FLOOD_WINDOW)
    return gate


@bp.post("/api/suggestions")
def post_suggestion():
    body = read_json()
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise BadBody(f"Unknown field(s): {', '.join(unknown)}.", {"allowed": sorted(FIELDS)})
    if not is_local(request.remote_addr):
        _gate().check(request.remote_addr or "?")
    return jsonify(leave_suggestion(current_kiosk(), body.get("text"), body.get("contact"))), 201


@bp.get("/gop-y")
def suggestion_page():
    """The suggestion box's page: the kiosk's screen (``?screen=kiosk``, the ticket screen's link) gets the on-screen
    keyboard and returns to the start after idle; a phone (the QR on the wall opens `/gop-y`) uses its own keyboard."""
    kiosk = current_kiosk()
    return render_template(
        "suggestion.html",
        commune=kiosk.settings["commune_name"],
        on_kiosk=request.args.get("screen") == "kiosk",
        max_text=MAX_COMMENT,
        idle_seconds=int(kiosk.settings["detail_seconds"]),
    )


@bp.get("/gop-y/qr.png")
def suggestion_qr():
    """The QR code to print and post on the wall: it opens `/gop-y` at the address phones reach the kiosk on
    (``rating_url``, or the Wi-Fi address `kiosk serve` found; else the address this page was asked on)."""
    return phone_qr("/gop-y")
