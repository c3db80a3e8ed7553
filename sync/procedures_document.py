"""The procedures document: the administrative procedures a commune's kiosks show, on the wire.

Kept apart from the catalogue document (``sync.catalog_document``): the catalogue has one owner per commune and
travels both ways; the procedures come from the province's published list (less what the commune hides) and
travel down only. The server answers ``GET /api/v1/procedures`` (signed like ``/api/v1/config``) with
``{"v", "commune", "province", "version", "procedures": [...]}``; the kiosk asks with ``?have=VERSION`` and
gets ``{"v", "version", "unchanged": true}`` when it already has that version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

PROCEDURES_PATH = "/api/v1/procedures"


def entry(p: Any) -> dict[str, Any]:
    """A procedure on the wire, from a row of the server's or the kiosk's table (same columns)."""
    return {
        "code": p.code,
        "service": p.service_code,
        "name": p.name,
        "papers": list(p.papers),
        "forms": list(p.forms),
        "fee": p.fee,
        "days": p.days,
        "result_at": p.result_at,
    }


def columns(item: dict[str, Any]) -> dict[str, Any]:
    """The table columns of a procedure on the wire (the inverse of :func:`entry`)."""
    return {
        "code": item["code"],
        "service_code": item["service"],
        "name": item["name"],
        "papers": item["papers"],
        "forms": item["forms"],
        "fee": item["fee"],
        "days": item["days"],
        "result_at": item["result_at"],
    }


def version(procedures: list[dict[str, Any]]) -> str:
    """A stable SHA-256 of a list of procedures, in its order: the document's version."""
    return hashlib.sha256(json.dumps(procedures, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
