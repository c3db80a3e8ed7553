"""The posted documents (niêm yết): a commune's rules, fee table, forms and notices, on the wire, down to its kiosks.

Kept apart from the catalogue and the procedures (``sync.procedures_document``, which it follows): the server
answers ``POST /api/v1/posted {"have"}`` (signed like ``/api/v1/config``) with ``{"v", "commune", "version",
"documents": [...]}`` (``common.posted_rules`` says what a document holds), or ``{"v", "version", "unchanged":
true}`` when the kiosk holds that version already. A form's PDF travels apart, fetched once by its checksum:
``GET /api/v1/posted/files/<sha256>`` (signed; the answer's signature covers the bytes).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.procedures_document import version as version  # the same stable SHA-256 of a list, in its order

POSTED_PATH = "/api/v1/posted"
FILES_PATH = "/api/v1/posted/files/"


def file_path(sha256: str) -> str:
    """The signed path of one PDF, by its SHA-256."""
    return FILES_PATH + sha256


def entry(d: Any) -> dict[str, Any]:
    """A posted document on the wire, from a row of the server's or the kiosk's table (same columns)."""
    return {
        "id": d.id,
        "kind": d.kind,
        "title": d.title,
        "body": d.body,
        "rows": list(d.rows or []),
        "file": {"sha256": d.file_sha256, "size": d.file_size} if d.file_sha256 else None,
        "shown_from": d.shown_from.isoformat() if d.shown_from else None,
        "shown_to": d.shown_to.isoformat() if d.shown_to else None,
    }


def columns(d: dict[str, Any]) -> dict[str, Any]:
    """The table columns of a checked document on the wire (the inverse of :func:`entry`)."""
    return {
        "id": d["id"],
        "kind": d["kind"],
        "title": d["title"],
        "body": d["body"],
        "rows": d["rows"],
        "file_sha256": d["file"]["sha256"] if d["file"] else None,
        "file_size": d["file"]["size"] if d["file"] else None,
        "shown_from": date.fromisoformat(d["shown_from"]) if d["shown_from"] else None,
        "shown_to": date.fromisoformat(d["shown_to"]) if d["shown_to"] else None,
    }
