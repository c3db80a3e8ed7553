"""Checking a device's signed request: who signed it, and whether the signature covers this exact request.

The counter is checked later, inside the transaction that uses it (see ``ingest.claim_counter``), so that
a refused or failed request does not use up a counter and two racing requests cannot both pass.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select

from central.keys import device_secret, fingerprint
from central.models import Device
from common.errors import AuthError, ForbiddenError
from sync import protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedDevice:
    id: str
    commune_code: str
    name: str
    secret: str
    counter: int
    #: The reception point the kiosk belongs to: its records are stored with it.
    site_code: str = "TT"


def authenticate(
    conn: Connection, master: bytes, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> SignedDevice:
    """The device that signed this request; AuthError (401) or ForbiddenError (403) otherwise."""
    device_id = headers.get(protocol.DEVICE_HEADER, "")
    counter_text = headers.get(protocol.COUNTER_HEADER, "")
    signature = headers.get(protocol.SIGNATURE_HEADER, "")
    if not (device_id and counter_text and signature):
        raise AuthError(
            f"The request is not signed: it needs the {protocol.DEVICE_HEADER}, {protocol.COUNTER_HEADER} and "
            f"{protocol.SIGNATURE_HEADER} headers (set device_id and device_secret on the kiosk)."
        )
    if not protocol.UUID_RE.match(device_id) or not counter_text.isdigit() or len(counter_text) > 18:
        raise AuthError("The signing headers are malformed.")
    devices = Device.__table__
    device = conn.execute(select(devices).where(devices.c.id == device_id)).first()
    if device is None:
        log.warning("request from unknown device %s", device_id)
        raise AuthError(
            f"Device {device_id} is not registered at this server: register it with "
            "`kiosk-central add-device` and copy its id and secret to the kiosk."
        )
    secret = device_secret(master, device.id, device.key_version)
    if fingerprint(secret) != device.secret_fingerprint:
        log.error("device %s: its secret does not derive from this server's master key (key changed?)", device_id)
        raise AuthError(f"Device {device_id} cannot be verified: the server's master key changed. Re-register it.")
    counter = int(counter_text)
    if not protocol.signature_ok(secret, signature, method, path, device_id, counter, body):
        log.warning("bad signature from device %s on %s %s", device_id, method, path)
        raise AuthError(
            f"The signature of device {device_id} does not match this request: check the kiosk's device_secret."
        )
    if not device.enabled:
        raise ForbiddenError(f"Device {device_id} ({device.name}) is disabled at the central server.")
    return SignedDevice(device.id, device.commune_code, device.name, secret, counter, device.site_code)
