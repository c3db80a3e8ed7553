"""The outcome of the last package upgrade (systemd/kiosk-upgrade.sh writes ``upgrade.json`` in the data
folder), for `/healthz` and for the central server's fleet page (sent with every sync batch):
``upgraded``, ``rolled_back``, ``rollback_failed``, ``refused`` (the repository's signature), ``failed`` or
``interrupted`` (a power cut stopped it: kiosk/upgrade_recovery.py), with the versions, the time and why; and the version this kiosk runs (the Debian package's, when it is one)."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk import __version__
from sync import protocol

FILE = "upgrade.json"
#: Outcomes a technician should look at (also a `/healthz` warning).
TROUBLE = {
    "rolled_back": "upgrade rolled back",
    "rollback_failed": "upgrade rollback failed",
    "refused": "upgrade refused",
    "failed": "upgrade failed",
    "interrupted": "upgrade interrupted",
}
#: The virtual environment the Debian package installs the kiosk in (debian/make-venv).
PACKAGE_VENV = Path("/opt/kiosk/venv")
PACKAGE = "kiosk"
#: Longest text of each field sent to the central server (its columns).
SENT_LIMITS = protocol.UPGRADE_LIMITS


def last_upgrade(data_dir: Path) -> dict[str, Any] | None:
    """The last upgrade's outcome, or None when none was tried (or the file cannot be read)."""
    try:
        outcome = json.loads((Path(data_dir) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return outcome if isinstance(outcome, dict) and isinstance(outcome.get("outcome"), str) else None


def record(data_dir: Path, outcome: str, from_: str | None, to: str | None, detail: str) -> dict[str, Any]:
    """Write an outcome as systemd/kiosk-upgrade.sh does (whole: a reader never sees half of it); the outcome."""
    written = {
        "outcome": outcome,
        "from": from_ or "",
        "to": to or "",
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": detail,
    }
    path = Path(data_dir) / FILE
    part = path.with_name(FILE + ".new")
    part.write_text(json.dumps(written) + "\n", encoding="utf-8")
    part.chmod(0o644)
    part.replace(path)
    return written


def warning(outcome: dict[str, Any] | None) -> str | None:
    """The `/healthz` warning for an outcome that needs a look, None otherwise."""
    return TROUBLE.get(outcome["outcome"]) if outcome else None


def for_sync(data_dir: Path) -> dict[str, str | None] | None:
    """The last outcome as a sync batch's ``status.upgrade`` (texts cut to what the server keeps), or None."""
    outcome = last_upgrade(data_dir)
    if outcome is None:
        return None
    return {
        key: str(outcome[key])[:limit] if outcome.get(key) not in (None, "") else None
        for key, limit in SENT_LIMITS.items()
    }


@functools.cache
def installed_version(prefix: str = sys.prefix) -> str:
    """The version this kiosk runs: the Debian package's (``0.1.0+1``) when it runs from the package's virtual
    environment, else the program's own (``kiosk.__version__``). Read once per process: an upgrade restarts it."""
    if Path(prefix) != PACKAGE_VENV:
        return __version__
    try:
        found = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", PACKAGE], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return found or __version__
