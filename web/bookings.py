"""`POST /api/checkin {"code"}`: a booked citizen checks in at the kiosk (the code typed on the on-screen keyboard
or scanned) and gets a ticket marked as booked (``kiosk.bookings``). Check-ins from anywhere but the kiosk's own
screen are flood-limited per address, like suggestions, so codes cannot be tried in bulk.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from common.errors import ForbiddenError
from common.throttle import FloodGate
from common.web.jsonapi import BadBody, read_json
from kiosk.app import current_kiosk
from kiosk.bookings import check_in, current_version
from web.api import FLOOD_WINDOW, is_local
from web.enrolment import enrolled_screen

bp = Blueprint("bookings", __name__)

GATE_KEY = "checkin_gate"


@bp.app_context_processor
def _globals() -> dict:
    """``bookings_held()`` for the ticket screen: whether to offer "Đã đặt lịch hẹn" (the kiosk has taken a list
    of bookings down)."""

    def bookings_held() -> bool:
        with current_kiosk().sessions() as session:
            return current_version(session) is not None

    return {"bookings_held": bookings_held}


@bp.post("/api/checkin")
def post_checkin():
    body = read_json()
    unknown = sorted(set(body) - {"code"})
    if unknown:
        raise BadBody(f"Unknown field(s): {', '.join(unknown)}.", {"allowed": ["code"]})
    kiosk = current_kiosk()
    if not is_local(request.remote_addr):
        if enrolled_screen() is None:  # else a stranger on the Wi-Fi takes a citizen's booked place, or tries codes
            raise ForbiddenError(
                "A booking is checked in at the kiosk's own screen, or at a screen enrolled in /admin: "
                "come to the kiosk and type the code there."
            )
        gate = current_app.extensions.get(GATE_KEY)
        if gate is None:
            gate = current_app.extensions[GATE_KEY] = FloodGate(int(kiosk.settings["rating_flood_limit"]), FLOOD_WINDOW)
        gate.check(request.remote_addr or "?")
    return jsonify(check_in(kiosk, body.get("code"))), 201
