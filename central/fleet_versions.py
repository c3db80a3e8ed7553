"""Each kiosk's version and last package upgrade, as its sync batches report them (``status.version`` and
``status.upgrade``, :mod:`sync.protocol`), for the fleet page: the outcome read from the wire, the "rolled back"
mark with the version that failed, and how many kiosks run each version.

The kiosk writes ``upgrade.json`` (systemd/kiosk-upgrade.sh) and sends it as it is at every batch; the server
keeps the last one (``device_status.upgrade_*``, revision 0015). A batch without it leaves what was known.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from common.safe_text import text_problem
from sync import protocol
from sync.record_schema import EARLIEST, LATEST, parse_datetime

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
        "upgrade_at": _moment(raw.get("at")),
        "upgrade_detail": text("detail"),
    }


def _moment(value: Any) -> datetime | None:
    """The outcome's time as naive UTC, or None when it is not one or lies outside the years a record may have (a
    time of year 9999 would end past any local date, and the fleet page could not show it)."""
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    return moment if moment is not None and EARLIEST <= moment < LATEST else None


def upgrade_view(row: Any, local: Any) -> dict[str, Any] | None:
    """A fleet row's last upgrade for the page: outcome, versions, local time, why; ``back`` when the kiosk went
    back to its previous version (the fleet page's "Đã quay lại bản trước", with the version that failed)."""
    if not row.upgrade_outcome:
        return None
    return {
        "outcome": row.upgrade_outcome,
        "from": row.upgrade_from,
        "to": row.upgrade_to,
        "at": f"{local(at):%d/%m/%Y %H:%M}" if (at := _moment(row.upgrade_at)) else None,  # one stored before
        "detail": row.upgrade_detail,
        "back": row.upgrade_outcome in BACK,
    }


def version_counts(versions: Iterable[str | None]) -> list[tuple[str | None, int]]:
    """How many kiosks run each version, most first (then by version); None: never told the server."""
    counts = Counter(versions)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
