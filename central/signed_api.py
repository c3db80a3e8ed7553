"""What every kiosk call of the central server shares (:mod:`central.api` and its siblings): the signed request
checked, its body decoded, the call logged, the answer signed with the device's secret over the request's counter
(so a kiosk trusts only answers to the request it sent), and a document taken down by version (the procedures,
the bookings, the posted documents).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import orjson
from flask import Response, request
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from central import ingest
from central.auth import SignedDevice, authenticate
from central.context import current_central
from central.models import SyncLog
from common.db import transaction
from common.errors import ForbiddenError, ValidationError
from sync import protocol


def signed_request(body: bytes) -> SignedDevice:
    """The device that signed this request over ``body`` (AuthError otherwise); its counter is claimed later."""
    central = current_central()
    with central.engine.connect() as conn:
        return authenticate(conn, central.master_key, request.method, request.path, request.headers, body)


def signed_bytes(device: SignedDevice, body: bytes, mimetype: str, status: int = 200) -> Response:
    """``body`` as the answer, signed for ``device`` over its request's counter."""
    response = Response(body, status=status, mimetype=mimetype)
    response.headers[protocol.SIGNATURE_HEADER] = protocol.sign_response(device.secret, device.id, device.counter, body)
    response.headers[protocol.COUNTER_HEADER] = str(device.counter)
    return response


def signed_answer(device: SignedDevice, document: dict, status: int = 200) -> Response:
    """A JSON answer signed for ``device``."""
    body = orjson.dumps(document)  # compact UTF-8, as json.dumps(ensure_ascii=False, separators=(",", ":"))
    return signed_bytes(device, body, "application/json", status)


def decode(raw: bytes) -> dict:
    """A signed request's JSON body (inflated as its Content-Encoding says): 400, or 413 when too large."""
    try:
        return protocol.decode_batch(raw, request.headers.get("Content-Encoding"))
    except protocol.ProtocolError as exc:
        raise ValidationError(str(exc)) from None
    except OverflowError as exc:
        raise ingest.TooLarge(str(exc), {"limit": "bytes"}) from None


def names_itself(body: dict, device: SignedDevice, what: str) -> None:
    """A signed document must name the device that signed it and that device's commune (403 otherwise)."""
    if body.get("device") != device.id or body.get("commune") != device.commune_code:
        raise ForbiddenError(
            f"Device {device.id} belongs to commune {device.commune_code}: {what} must name both.",
            {"commune": device.commune_code},
        )


def log_call(conn: Connection, device: SignedDevice, kind: str, now: datetime) -> None:
    """The call in the sync log (``kind``: ``config``, ``catalog``, ``procedures``…), nothing stored by it."""
    conn.execute(
        SyncLog.__table__.insert().values(
            commune_code=device.commune_code,
            device_id=device.id,
            id=str(uuid.uuid4()),
            kind=kind,
            counter=device.counter,
            received_at=now,
            accepted=0,
            already_had=0,
            rejected=0,
            protocol=protocol.PROTOCOL_VERSION,
            remote_addr=(request.remote_addr or "")[:64] or None,
        )
    )


def signed_document(kind: str, build: Callable[[Session, SignedDevice, datetime], dict]) -> Response:
    """A document travelling down to the signed kiosk that asked (``build(session, device, now)``), or only
    ``{"v", "version", "unchanged": true}`` when the kiosk's ``have`` is its version; logged as ``kind``."""
    central = current_central()
    raw = request.get_data(cache=False)
    device = signed_request(raw)
    have = decode(raw).get("have") if request.method == "POST" else None
    now = central.clock.now()
    with transaction(central.sessions) as session:
        conn = session.connection()
        ingest.claim_counter(conn, device.commune_code, device.id, device.counter, {})
        log_call(conn, device, kind, now)
        document = build(session, device, now)
    if isinstance(have, str) and have == document["version"]:
        return signed_answer(device, {"v": document["v"], "version": have, "unchanged": True})
    return signed_answer(device, document)
