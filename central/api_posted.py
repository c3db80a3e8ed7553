"""`POST /api/v1/posted {"have"}`: the commune's posted documents, signed for the kiosk that asked (like the
procedures); `GET /api/v1/posted/files/<sha256>`: one form's PDF, its bytes signed for that kiosk, served only when
a document shown at the kiosk's commune names it.
"""

from __future__ import annotations

from flask import Blueprint, Response

from central import ingest
from central.context import current_central
from central.posted import build_document, file_for
from central.signed_api import signed_bytes, signed_document, signed_request
from common.db import transaction
from common.errors import NotFoundError
from common.posted_rules import SHA256_RE
from sync.posted_document import FILES_PATH, POSTED_PATH

bp = Blueprint("central_api_posted", __name__)


@bp.get(POSTED_PATH)
@bp.post(POSTED_PATH)
def device_posted() -> Response:
    """The rules, fees, forms and notices the kiosk's commune posts (with its province's)."""
    return signed_document("posted", lambda session, device, now: build_document(session, device.commune_code))


@bp.get(FILES_PATH + "<sha256>")
def device_posted_file(sha256: str) -> Response:
    """One PDF by its SHA-256, as ``application/pdf`` under that name; the signature covers the bytes."""
    device = signed_request(b"")
    if not SHA256_RE.match(sha256):
        raise NotFoundError("There is no such PDF for this commune.")
    with transaction(current_central().sessions) as session:  # a replayed request is refused, as every signed call
        ingest.claim_counter(session.connection(), device.commune_code, device.id, device.counter, {})
        content = file_for(session, device.commune_code, sha256)
    response = signed_bytes(device, content, "application/pdf")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
