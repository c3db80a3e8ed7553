"""`POST /api/v1/panel`: a kiosk's live panel (issue 25), signed like every call; only the latest is kept."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, request

from central import ingest
from central.context import current_central
from central.panel import clean_panel, store
from central.signed_api import names_itself, signed_answer, signed_request
from common.db import transaction
from common.errors import ValidationError
from sync import protocol

bp = Blueprint("central_api_panel", __name__)

#: Largest panel once decompressed (a commune's kiosk sends a few kilobytes).
MAX_PANEL_BYTES = 256 * 1024


def _body(raw: bytes) -> dict:
    try:
        body = orjson.loads(protocol.inflate(raw, request.headers.get("Content-Encoding"), MAX_PANEL_BYTES))
    except protocol.ProtocolError as exc:
        raise ValidationError(str(exc)) from None
    except OverflowError:
        raise ingest.TooLarge("The panel is too large.", {"limit": "bytes"}) from None
    except orjson.JSONDecodeError:
        raise ValidationError("The panel is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.")
    return body


@bp.post(protocol.PANEL_PATH)
def receive_panel() -> Response:
    central = current_central()
    raw = request.get_data(cache=False)
    device = signed_request(raw)
    body = _body(raw)
    names_itself(body, device, "the panel")
    panel = clean_panel(body.get("panel"))
    now = central.clock.now()
    with transaction(central.sessions) as session:
        ingest.claim_counter(session.connection(), device.commune_code, device.id, device.counter, {})
        store(session, device.commune_code, device.id, panel, now)
    return signed_answer(device, {"v": protocol.PROTOCOL_VERSION, "stored": True})
