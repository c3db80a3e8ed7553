"""Bookings over HTTP: ``POST /api/v1/bookings`` (a provincial booking system pushes, with its province's token)
and ``POST /api/v1/kiosk-bookings {"have"}`` (a kiosk takes its reception point's bookings, signed like
``/api/v1/procedures``).

The push: ``Authorization: Bearer <token>`` and ``{"commune": "01234", "bookings": [{"code", "site"?, "service",
"at", "name"?}]}`` → ``200 {"added", "changed", "unchanged"}``; no or a wrong token → 401; a commune of another
province → 403; any bad row → 400 naming the row and field, and nothing is taken.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from central.auth import SignedDevice
from central.booking_tokens import find_token
from central.bookings import build_document, check_rows, store
from central.context import current_central
from central.models import Commune, Device
from central.signed_api import signed_document
from common.db import transaction
from common.errors import AuthError, ForbiddenError, ValidationError
from common.settings import time_zone
from common.web.jsonapi import read_json
from sync.bookings_document import BOOKINGS_PATH

bp = Blueprint("central_api_bookings", __name__)

#: The days of bookings a kiosk holds: today and tomorrow (it syncs every few minutes).
DAYS_AHEAD = 2


@bp.post("/api/v1/bookings")
def push_bookings() -> Response:
    """Take bookings from a province's booking system, all or nothing."""
    central = current_central()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    with transaction(central.sessions) as session:
        found = find_token(session, token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise AuthError("A booking system's token is needed: Authorization: Bearer <token>.")
        token_id, province = found.id, found.province_code
    body = read_json()
    rows = body.get("bookings")
    if not isinstance(rows, list):
        raise ValidationError('The body must be {"commune": CODE, "bookings": [...]}.', {"field": "bookings"})
    commune = str(body.get("commune") or "").strip().upper()[:16]
    with transaction(central.sessions) as session:
        row = session.get(Commune, commune)
        if row is None or row.province_code != province:
            raise ForbiddenError(f"Commune {commune or '(none)'} is not one of province {province}.")
        items = check_rows(session, commune, rows)
        counts = store(session, commune, items, f"api:{token_id}", central.clock.now().replace(tzinfo=None))
    return jsonify(counts)


@bp.get(BOOKINGS_PATH)
@bp.post(BOOKINGS_PATH)
def device_bookings() -> Response:
    """The bookings of the asking kiosk's reception point, today's and tomorrow's."""
    zone = time_zone(current_central().settings["timezone"])

    def build(session: Session, device: SignedDevice, now: datetime) -> dict:
        site = session.get(Device, device.id).site_code
        today = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(zone).replace(tzinfo=None)
        return build_document(session, device.commune_code, site, today, DAYS_AHEAD)

    return signed_document("bookings", build)
