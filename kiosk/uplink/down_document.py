"""Taking a document down at each sync (the procedures, the bookings, the posted documents): asked with the
version the kiosk holds, stored only when the central server has another. A document the kiosk refuses is logged
and the old one kept; a server of an earlier release (no such path) is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from common.errors import SyncError, ValidationError
from kiosk.clock import to_naive_utc
from sync import protocol

log = logging.getLogger(__name__)


def take_document(
    client: Any,
    path: str,
    what: str,
    current_version: Callable[[Any], str | None],
    store_document: Callable[[Any, Any, Any], bool],
    refused: type[ValidationError],
) -> bool | None:
    """True when a new ``what`` was stored, False when the kiosk held it already, None when the server has none
    to give (an earlier release) or it was refused."""
    kiosk = client.kiosk
    with kiosk.sessions() as session:
        have = current_version(session)
    body = {"v": protocol.PROTOCOL_VERSION, "device": client.device_id, "have": have}
    try:
        answer = client._request("POST", path, lambda: protocol.encode_batch(body))
    except SyncError as exc:
        if isinstance(exc.detail, dict) and exc.detail.get("status") == 404:
            log.info("the central server has no %s: %s not taken", path, what)
            return None
        raise
    if answer.get("unchanged") and answer.get("version") == have:
        return False
    try:
        return store_document(kiosk.sessions, answer, to_naive_utc(kiosk.clock.now()))
    except refused as exc:
        log.error("%s refused, the kiosk keeps its list: %s", what, exc.message)
        return None
