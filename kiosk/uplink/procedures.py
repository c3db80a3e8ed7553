"""At each sync, the commune's procedures: asked with the version the kiosk holds, taken and stored only when
the central server has another (``sync.procedures_document``). Apart from the catalogue exchange: a list the
kiosk refuses is logged and the old one kept; a server of an earlier release (no such path) is skipped.
"""

from __future__ import annotations

import logging
from typing import Any

from common.errors import SyncError
from kiosk.clock import to_naive_utc
from kiosk.procedures import ProceduresRefused, current_version, store_document
from sync import protocol
from sync.procedures_document import PROCEDURES_PATH

log = logging.getLogger(__name__)


def take_procedures(client: Any) -> bool | None:
    """Ask the central server for the commune's procedures; True when a new list was stored, False when the kiosk
    already held it, None when the server has none to give (an earlier release) or the list was refused."""
    kiosk = client.kiosk
    with kiosk.sessions() as session:
        have = current_version(session)
    body = {"v": protocol.PROTOCOL_VERSION, "device": client.device_id, "have": have}
    try:
        answer = client._request("POST", PROCEDURES_PATH, lambda: protocol.encode_batch(body))
    except SyncError as exc:
        if isinstance(exc.detail, dict) and exc.detail.get("status") == 404:
            log.info("the central server has no %s: procedures not taken", PROCEDURES_PATH)
            return None
        raise
    if answer.get("unchanged") and answer.get("version") == have:
        return False
    try:
        return store_document(kiosk.sessions, answer, to_naive_utc(kiosk.clock.now()))
    except ProceduresRefused as exc:
        log.error("procedures refused, the kiosk keeps its list: %s", exc.message)
        return None
