"""`GET /api/v1/procedures` and `POST /api/v1/procedures {"have"}`: the commune's procedures, signed for the
kiosk that asked (like `/api/v1/config`). With ``have`` equal to the current version the answer is only
``{"version", "unchanged": true}``, so a kiosk syncing every few minutes does not fetch the list each time.
"""

from __future__ import annotations

from flask import Blueprint, Response

from central.procedures import build_document
from central.signed_api import signed_document
from sync.procedures_document import PROCEDURES_PATH

bp = Blueprint("central_api_procedures", __name__)


@bp.get(PROCEDURES_PATH)
@bp.post(PROCEDURES_PATH)
def device_procedures() -> Response:
    """The procedures the kiosk's commune shows: its province's list less what the commune hides."""
    return signed_document("procedures", lambda session, device, now: build_document(session, device.commune_code))
