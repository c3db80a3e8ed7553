"""At each sync, the commune's procedures: asked with the version the kiosk holds, taken and stored only when
the central server has another (``sync.procedures_document``). Apart from the catalogue exchange: a list the
kiosk refuses is logged and the old one kept; a server of an earlier release (no such path) is skipped.
"""

from __future__ import annotations

from typing import Any

from kiosk.procedures import ProceduresRefused, current_version, store_document
from kiosk.uplink.down_document import take_document
from sync.procedures_document import PROCEDURES_PATH


def take_procedures(client: Any) -> bool | None:
    """Ask the central server for the commune's procedures; True when a new list was stored, False when the kiosk
    already held it, None when the server has none to give (an earlier release) or the list was refused."""
    return take_document(client, PROCEDURES_PATH, "procedures", current_version, store_document, ProceduresRefused)
