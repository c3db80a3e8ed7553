"""The catalogue document: what a commune's services, counters, clerks, scale and questions look like on the wire.

A kiosk sends its catalogue up in this shape and takes its commune's down in it; each item is made from a row of
the kiosk's or the central server's tables (same columns), and :func:`digest` names a catalogue's content.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from common.catalog_rules import MAIN_SITE


def service_entry(s: Any) -> dict[str, Any]:
    return {"code": s.code, "name": s.name, "prefix": s.prefix, "daily_max": s.daily_max, "active": s.active}


def counter_entry(c: Any, services: list[str], site: str | None = None) -> dict[str, Any]:
    """A counter with its reception point (``site``: the central row's own; a kiosk's, all of the kiosk's point,
    once the central server has named it). A counter of the commune's centre is listed without it, as before
    reception points (a document without ``site`` means the centre)."""
    entry = {"number": c.number, "name": c.name, "active": c.active, "services": services}
    site = getattr(c, "site_code", None) or site
    if site and site != MAIN_SITE:
        entry["site"] = site
    return entry


def clerk_entry(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "code": c.code,
        "name": c.name,
        "pin_hash": c.pin_hash,
        "counter": c.counter_number,
        "active": c.active,
    }


def level_entry(s: Any) -> dict[str, Any]:
    return {"key": s.key, "label": s.label, "points": s.points, "active": s.active}


def question_entry(q: Any) -> dict[str, Any]:
    return {"key": q.key, "question": q.question, "answers": list(q.answers), "active": q.active}


def digest(catalog: dict[str, Any]) -> str:
    """A stable SHA-256 of a catalogue (the kiosk's snapshot, or the content of a server document)."""
    return hashlib.sha256(json.dumps(catalog, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
