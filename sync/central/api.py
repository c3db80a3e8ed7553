"""`POST /api/v1/sync` and `GET /api/v1/config`: the kiosks' side of the central server.

Both need a signed request (``sync.protocol``); both answers are signed with the device's secret over
the request's counter, so a kiosk trusts only answers to the request it sent.
"""

from __future__ import annotations

import json
import logging
import uuid

from flask import Blueprint, Response, current_app, request

from kiosk.errors import ValidationError
from sync import protocol
from sync.central import ingest
from sync.central.auth import SignedDevice, authenticate
from sync.central.config import build_config
from sync.central.models import SyncLog

log = logging.getLogger(__name__)

bp = Blueprint("central_api", __name__)


def _central():
    return current_app.extensions["central"]


def _signed_answer(device: SignedDevice, document: dict, status: int = 200) -> Response:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, status=status, mimetype="application/json")
    response.headers[protocol.SIGNATURE_HEADER] = protocol.sign_response(device.secret, device.id, device.counter, body)
    response.headers[protocol.COUNTER_HEADER] = str(device.counter)
    return response


def _authenticate(body: bytes) -> SignedDevice:
    central = _central()
    with central.engine.connect() as conn:
        return authenticate(conn, central.master_key, request.method, request.path, request.headers, body)


@bp.post(protocol.SYNC_PATH)
def sync_batch() -> Response:
    """Store a device's batch in one transaction; answer which records were stored, already had or refused."""
    central = _central()
    raw = request.get_data(cache=False)  # over central_max_body → 413 before anything is read further
    device = _authenticate(raw)
    try:
        envelope = protocol.decode_batch(raw, request.headers.get("Content-Encoding"))
    except protocol.ProtocolError as exc:
        raise ValidationError(str(exc)) from None
    except OverflowError as exc:
        raise ingest.TooLarge(str(exc), {"limit": "bytes"}) from None
    prepared = ingest.prepare(envelope, device.id, device.commune_code, central.settings["central_max_records"])
    now = central.clock.now()
    with central.engine.begin() as conn:
        result = ingest.store(conn, prepared, device.commune_code, device.id, device.counter, now, request.remote_addr)
    log.info(
        "device %s: %d accepted, %d already had, %d rejected",
        device.id,
        len(result.accepted),
        len(result.already_had),
        len(result.rejected),
    )
    return _signed_answer(device, result.as_json())


@bp.get(protocol.CONFIG_PATH)
def device_config() -> Response:
    """The commune's services, counters, clerks and rating scale, signed for the device that asked."""
    central = _central()
    device = _authenticate(request.get_data(cache=False))
    now = central.clock.now()
    with central.engine.begin() as conn:
        ingest.claim_counter(conn, device.commune_code, device.id, device.counter, {"last_config_at": now})
        conn.execute(
            SyncLog.__table__.insert().values(
                commune_code=device.commune_code,
                device_id=device.id,
                id=str(uuid.uuid4()),
                kind="config",
                counter=device.counter,
                received_at=now,
                accepted=0,
                already_had=0,
                rejected=0,
                protocol=protocol.PROTOCOL_VERSION,
                remote_addr=(request.remote_addr or "")[:64] or None,
            )
        )
        with central.sessions(bind=conn) as session:
            document = build_config(session, device.commune_code, device.id, device.name)
    return _signed_answer(device, document)
