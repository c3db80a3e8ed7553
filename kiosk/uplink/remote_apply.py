"""The kiosk's side of remote settings: check the central server's signed document, apply it, report back.

A document ``{"device", "version", "values", "signature"}`` comes with the answer to `POST /api/v1/remote`
(:func:`exchange`: at every sync, and when the catalogue watch's answer names a newer version). The kiosk
applies it only when the signature is its central server's over exactly these values (its device secret:
:mod:`common.remote_settings`) and every value parses as the registry's; otherwise it keeps its settings and
reports the refusal with the reason. Applying writes ``DATA_DIR/remote-settings.json`` (read by
:func:`common.settings.load` between kiosk.toml and the environment) and changes at once the settings read at
every request (:data:`LIVE`). The rest take effect at the next start: under systemd the kiosk stops itself
cleanly and `Restart=always` starts it again within seconds; by hand, at the next `kiosk serve`.
A value an environment variable sets on the kiosk is not overridden (reported as ``ignored``).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from common import remote_settings
from common.errors import SyncError, ValidationError
from common.settings import REMOTE_FILE
from kiosk import device_state
from kiosk.device_state import REMOTE_APPLIED, REMOTE_REFUSED
from kiosk.storage import transaction
from kiosk.uplink import diagnostics
from sync import protocol

log = logging.getLogger(__name__)

#: Settings read at every request: applied at once, without a restart. ``upgrade_ring`` is read by
#: systemd/kiosk-upgrade-ring.sh from the file written here, never by the running kiosk: no restart either.
LIVE = frozenset(
    {"home_screen", "thanks_seconds", "detail_seconds", "priority_seconds", "ticket_seconds", "upgrade_ring"}
)
#: Seconds between the report of a version that needs a restart and the kiosk stopping itself (under systemd).
RESTART_DELAY = 2.0
_LOCK = threading.Lock()


class Refused(Exception):
    """The document cannot be applied; the message says why (reported to the central server)."""


def state(kiosk: Any) -> tuple[dict | None, dict | None]:
    """The remote settings applied here and the last document refused, as stored."""
    with kiosk.sessions() as session:
        return device_state.get(session, REMOTE_APPLIED), device_state.get(session, REMOTE_REFUSED)


def held(kiosk: Any) -> int:
    """The newest remote settings version this kiosk applied or refused (0: none)."""
    applied, refused = state(kiosk)
    return max((applied or {}).get("version") or 0, (refused or {}).get("version") or 0)


def wanted(kiosk: Any, mark: Any) -> bool:
    """Whether a watch answer's ``remote`` mark names a version not yet applied nor refused, or a bundle."""
    if not isinstance(mark, dict):
        return False
    applied, refused = state(kiosk)
    version = mark.get("version")
    held = {(applied or {}).get("version") or 0, (refused or {}).get("version")}
    return bool(mark.get("diagnostics")) or (isinstance(version, int) and version not in held)


def exchange(client: Any) -> dict[str, Any]:
    """Report what is applied, take the current document (and apply it), upload a bundle if one is asked.

    ``{"applied": version or None, "refused": reason or None, "diagnostics": bundle id or None}``; SyncError when
    the server cannot be asked. A server without remote settings (404) is not an error: nothing happens."""
    kiosk = client.kiosk
    outcome: dict[str, Any] = {"applied": None, "refused": None, "diagnostics": None}
    with _LOCK:
        try:
            answer = _report(client)
        except SyncError as exc:
            if isinstance(exc.detail, dict) and exc.detail.get("status") == 404:
                return outcome
            raise
        document = answer.get("settings")
        applied, refused = state(kiosk)
        version = document.get("version") if isinstance(document, dict) else None
        if isinstance(version, int) and version not in {(applied or {}).get("version"), (refused or {}).get("version")}:
            restart = False
            try:
                restart = apply(kiosk, client.secret, client.device_id, document)
                outcome["applied"] = version
            except Refused as exc:
                _refuse(kiosk, version, str(exc))
                outcome["refused"] = str(exc)
            try:
                _report(client)  # the server's pages show at once what this kiosk did with it
            finally:  # applied is applied: a report lost on the way must not lose the restart that takes it
                if restart:
                    _restart_soon()
        if answer.get("diagnostics"):
            outcome["diagnostics"] = upload_bundle(client)
    return outcome


def _report(client: Any) -> dict[str, Any]:
    applied, refused = state(client.kiosk)
    body = {
        "v": protocol.PROTOCOL_VERSION,
        "device": client.device_id,
        "applied": (applied or {}).get("version"),
        "restart_pending": _restart_pending(applied),
        "ignored": (applied or {}).get("ignored") or [],
        "refused_version": (refused or {}).get("version"),
        "refused": (refused or {}).get("reason"),
    }
    return client._request("POST", remote_settings.REMOTE_PATH, lambda: protocol.encode_batch(body))


def _restart_pending(applied: dict | None) -> bool:
    """True while the process that applied a version needing a restart still runs."""
    return bool(applied and applied.get("restart_pending") and applied.get("pid") == os.getpid())


def apply(kiosk: Any, secret: str, device_id: str, document: dict[str, Any]) -> bool:
    """Check and apply ``document``; True when some of it needs a restart. Refused (nothing changed) otherwise."""
    if document.get("device") != device_id or not remote_settings.verify(secret, document):
        raise Refused(
            "the signature does not match: the document was not made by the central server for this kiosk, or it "
            "was changed after it was saved"
        )
    try:
        values = remote_settings.check(document.get("values") or {})
    except ValidationError as exc:
        raise Refused(exc.message) from None
    settings = kiosk.settings
    base = getattr(settings, "without_remote", None) or {}
    ignored = sorted(name for name in values if f"KIOSK_{name.upper()}" in os.environ)
    restart = False
    for setting in remote_settings.remote_settings():
        name = setting.name
        if name in ignored:
            continue
        new = values[name] if name in values else base.get(name, settings[name])
        if new == settings[name]:
            continue
        if name in LIVE:
            settings[name] = new
        else:
            restart = True
    _write(settings.data_path / REMOTE_FILE, document)
    now = kiosk.clock.now().isoformat(timespec="seconds")
    note = {
        "version": document["version"],
        "at": now,
        "restart_pending": restart,
        "pid": os.getpid(),
        "ignored": ignored,
    }
    with transaction(kiosk.sessions) as session:
        device_state.put(session, REMOTE_APPLIED, note)
        device_state.put(session, REMOTE_REFUSED, None)
    log.info("remote settings version %s applied%s", document["version"], " (restart needed)" if restart else "")
    return restart


def _write(path: Path, document: dict[str, Any]) -> None:
    """The document, written whole or not at all (a power cut leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with open(partial, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, path)


def _refuse(kiosk: Any, version: int, reason: str) -> None:
    log.error("remote settings version %s refused: %s", version, reason)
    note = {"version": version, "reason": reason[:480], "at": kiosk.clock.now().isoformat(timespec="seconds")}
    with transaction(kiosk.sessions) as session:
        device_state.put(session, REMOTE_REFUSED, note)


def _restart_soon() -> None:
    """Under systemd (``INVOCATION_ID``), stop cleanly; `Restart=always` starts the kiosk with the new settings."""
    if not os.environ.get("INVOCATION_ID"):
        log.warning("remote settings: the new values take effect at the next start of `kiosk serve`")
        return
    log.warning("remote settings: restarting in %.0f s to take the new values", RESTART_DELAY)
    threading.Timer(RESTART_DELAY, os.kill, (os.getpid(), signal.SIGTERM)).start()


def upload_bundle(client: Any) -> str | None:
    """Make the diagnostics bundle and upload it (signed); the id the server kept it under."""
    bundle = diagnostics.bundle(client.kiosk)
    body = {"v": protocol.PROTOCOL_VERSION, "device": client.device_id, "bundle": bundle}
    answer = client._request("POST", remote_settings.DIAGNOSTICS_PATH, lambda: protocol.encode_batch(body))
    return answer.get("received") if isinstance(answer.get("received"), str) else None
