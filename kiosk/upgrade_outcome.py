"""The outcome of the last package upgrade (systemd/kiosk-upgrade.sh writes ``upgrade.json`` in the data
folder), for `/healthz`: ``upgraded``, ``rolled_back``, ``rollback_failed``, ``refused`` (the repository's
signature) or ``failed``, with the versions, the time and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FILE = "upgrade.json"
#: Outcomes a technician should look at (also a `/healthz` warning).
TROUBLE = {
    "rolled_back": "upgrade rolled back",
    "rollback_failed": "upgrade rollback failed",
    "refused": "upgrade refused",
    "failed": "upgrade failed",
}


def last_upgrade(data_dir: Path) -> dict[str, Any] | None:
    """The last upgrade's outcome, or None when none was tried (or the file cannot be read)."""
    try:
        outcome = json.loads((Path(data_dir) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return outcome if isinstance(outcome, dict) and isinstance(outcome.get("outcome"), str) else None


def warning(outcome: dict[str, Any] | None) -> str | None:
    """The `/healthz` warning for an outcome that needs a look, None otherwise."""
    return TROUBLE.get(outcome["outcome"]) if outcome else None
