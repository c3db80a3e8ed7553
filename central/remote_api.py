"""The kiosks' side of remote settings and diagnostics: `POST /api/v1/remote` (what the kiosk applied or refused
in; the signed settings document and whether a diagnostics bundle is asked, out) and `POST /api/v1/diagnostics`
(the bundle in). Signed both ways like every kiosk call (:mod:`central.signed_api`)."""

from __future__ import annotations

import logging

import orjson
from flask import Blueprint, Response, request

from central import ingest, remote_store
from central.api import catalog_watch
from central.context import current_central
from central.signed_api import decode, signed_answer, signed_request
from common import remote_settings
from common.db import transaction
from common.errors import ValidationError
from sync import protocol

log = logging.getLogger(__name__)

bp = Blueprint("central_remote_api", __name__)


@bp.post(remote_settings.REMOTE_PATH)
def remote_exchange() -> Response:
    """``{"applied", "restart_pending", "refused_version", "refused"}`` in; ``{"settings", "diagnostics"}`` out."""
    central = current_central()
    raw = request.get_data(cache=False)
    device = signed_request(raw)
    body = decode(raw)
    now = central.clock.now()
    with transaction(central.sessions) as session:
        ingest.claim_counter(session.connection(), device.commune_code, device.id, device.counter, {})
        remote_store.report(session, device.commune_code, device.id, body, now)
        document = remote_store.document(session, device.commune_code, device.id)
        asked = remote_store.mark(session, device.commune_code, device.id)["diagnostics"]
    if isinstance(body.get("refused_version"), int):
        log.warning("device %s refused remote settings %s: %s", device.id, body["refused_version"], body.get("refused"))
    answer = {"v": protocol.PROTOCOL_VERSION, "settings": document, "diagnostics": asked}
    return signed_answer(device, answer)


@bp.post(remote_settings.DIAGNOSTICS_PATH)
def diagnostics_upload() -> Response:
    """A diagnostics bundle (a JSON object) in; kept for download on the kiosk's settings page."""
    central = current_central()
    raw = request.get_data(cache=False)
    device = signed_request(raw)
    try:
        text = protocol.inflate(raw, request.headers.get("Content-Encoding"), remote_settings.BUNDLE_MAX)
        body = orjson.loads(text)
    except OverflowError:
        raise ValidationError(f"A diagnostics bundle may have at most {remote_settings.BUNDLE_MAX} bytes.") from None
    except (protocol.ProtocolError, orjson.JSONDecodeError) as exc:
        raise ValidationError(f"The diagnostics upload is not JSON: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("bundle"), dict):
        raise ValidationError("The upload needs its 'bundle' object.", {"field": "bundle"})
    text = orjson.dumps(body["bundle"], option=orjson.OPT_INDENT_2).decode()
    now = central.clock.now()
    with transaction(central.sessions) as session:
        ingest.claim_counter(session.connection(), device.commune_code, device.id, device.counter, {})
        bundle_id = remote_store.keep_bundle(session, device.commune_code, device.id, text, now)
    log.info("device %s: diagnostics bundle %s (%d bytes)", device.id, bundle_id, len(text))
    return signed_answer(device, {"v": protocol.PROTOCOL_VERSION, "received": bundle_id})


def wake(commune: str) -> None:
    """Wake this process's waiting kiosks of ``commune``: each looks whether something is new for it."""
    catalog_watch().poke(commune)
