"""Each kiosk's version and last package upgrade, as its sync batches report them (``status.version`` and
``status.upgrade``, :mod:`sync.protocol`), for the fleet page: the outcome read from the wire, the "rolled back"
mark with the version that failed, and how many kiosks run each version.

The kiosk writes ``upgrade.json`` (systemd/kiosk-upgrade.sh) and sends it as it is at every batch; the server
keeps the last one (``device_status.upgrade_*``, revision 0015). A batch without it leaves what was known.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from common.safe_text import text_problem
from sync import protocol
from sync.record_schema import parse_datetime

#: What ``kiosk-upgrade`` writes as ``outcome`` (kiosk/upgrade_outcome.py).
OUTCOMES = protocol.UPGRADE_OUTCOMES
#: Outcomes the fleet page marks: the kiosk runs its previous version (or is in trouble) after trying ``to``.
BACK = frozenset({"rolled_back", "rollback_failed"})


def upgrade_columns(raw: Any) -> dict[str, Any] | None:
    """``status.upgrade`` as ``device_status`` columns (all five, so an old outcome's parts never mix with a new
    one's), or None when the batch has none or it is not an outcome the server knows."""
    if not isinstance(raw, dict) or raw.get("outcome") not in OUTCOMES:
        return None

    def text(key: str) -> str | None:
        value = raw.get(key)
        if not isinstance(value, str) or not value or text_problem(value) is not None:
            return None
        return value[: protocol.UPGRADE_LIMITS[key]]

    return {
        "upgrade_outcome": raw["outcome"],
        "upgrade_from": text("from"),
        "upgrade_to": text("to"),
        "upgrade_at": parse_datetime(raw.get("at")),  # naive UTC
        "upgrade_detail": text("detail"),
    }


def upgrade_view(row: Any, local: Any) -> dict[str, Any] | None:
    """A fleet row's last upgrade for the page: outcome, versions, local time, why; ``back`` when the kiosk went
    back to its previous version (the fleet page's "Đã quay lại bản trước", with the version that failed)."""
    if not row.upgrade_outcome:
        return None
    return {
        "outcome": row.upgrade_outcome,
        "from": row.upgrade_from,
        "to": row.upgrade_to,
        "at": f"{local(row.upgrade_at):%d/%m/%Y %H:%M}" if row.upgrade_at else None,
        "detail": row.upgrade_detail,
        "back": row.upgrade_outcome in BACK,
    }


def version_counts(versions: Iterable[str | None]) -> list[tuple[str | None, int]]:
    """How many kiosks run each version, most first (then by version); None: never told the server."""
    counts = Counter(versions)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
