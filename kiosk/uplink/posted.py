"""At each sync, the commune's posted documents (``sync.posted_document``): taken like the procedures
(:mod:`kiosk.uplink.down_document`), and each form's PDF the kiosk lacks fetched once, signed, by its checksum,
before the new list replaces the old (a PDF that cannot be fetched leaves the old list in place).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from common.errors import SyncError
from kiosk.posted import PostedRefused, current_version, folder, store_document
from kiosk.uplink.down_document import take_document
from sync import protocol
from sync.posted_document import POSTED_PATH, file_path


def fetch_pdf(client: Any, sha256: str, size: int) -> bytes:
    """One PDF's bytes from the central server, the answer's signature checked; SyncError otherwise."""
    path = file_path(sha256)
    counter = client._counter()
    headers = protocol.request_headers(client.secret, "GET", path, client.device_id, counter, b"")
    try:
        response = client.http.get(client.base + path, headers=headers, timeout=client.timeout)
    except Exception as exc:  # noqa: BLE001 - requests' errors: the list is taken at a later sync
        raise SyncError(f"cannot fetch the posted PDF {sha256[:12]}…: {type(exc).__name__}") from None
    problem = client._check(response, counter)
    if problem:
        raise SyncError(f"the central server did not give the posted PDF {sha256[:12]}…: {problem}")
    if len(response.content) != size:
        raise PostedRefused(f"The PDF {sha256[:12]}… has {len(response.content)} bytes, not {size}.")
    return response.content


def take_posted(client: Any) -> bool | None:
    """Ask the central server for the commune's posted documents; True when a new list was stored, False when the
    kiosk already held it, None when the server has none to give (an earlier release) or the list was refused."""
    where = folder(client.kiosk.settings.data_path)

    def store(sessions: Any, doc: Any, now: Any) -> bool:
        return store_document(sessions, doc, now, where, partial(fetch_pdf, client))

    return take_document(client, POSTED_PATH, "posted documents", current_version, store, PostedRefused)
