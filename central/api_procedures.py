"""`GET /api/v1/procedures` and `POST /api/v1/procedures {"have"}`: the commune's procedures, signed for the
kiosk that asked (like `/api/v1/config`). With ``have`` equal to the current version the answer is only
``{"version", "unchanged": true}``, so a kiosk syncing every few minutes does not fetch the list each time.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from central import ingest
from central.api import _authenticate, _decode, _log, _signed_answer
from central.context import current_central
from central.procedures import build_document
from common.db import transaction
from sync.procedures_document import PROCEDURES_PATH

bp = Blueprint("central_api_procedures", __name__)


@bp.get(PROCEDURES_PATH)
@bp.post(PROCEDURES_PATH)
def device_procedures() -> Response:
    """The procedures the kiosk's commune shows: its province's list less what the commune hides."""
    central = current_central()
    raw = request.get_data(cache=False)
    device = _authenticate(raw)
    have = _decode(raw).get("have") if request.method == "POST" else None
    now = central.clock.now()
    with transaction(central.sessions) as session:
        conn = session.connection()
        ingest.claim_counter(conn, device.commune_code, device.id, device.counter, {})
        _log(conn, device, "procedures", now)
        document = build_document(session, device.commune_code)
    if isinstance(have, str) and have == document["version"]:
        return _signed_answer(device, {"v": document["v"], "version": have, "unchanged": True})
    return _signed_answer(device, document)
