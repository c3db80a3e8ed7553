"""The rules a posted document (niêm yết) keeps, wherever it comes from: a central page's form, or the signed
document a kiosk receives. Both ends check with :func:`check_posted`.

A posted document is ``{"id", "kind", "title", "body", "rows", "file", "shown_from", "shown_to"}``: ``kind`` one
of :data:`KINDS`; ``body`` the text of rules and notices; ``rows`` the fee table ``[{"name", "amount", "note"}]``;
``file`` a form as a PDF, ``{"sha256", "size"}`` (the bytes travel apart, fetched once by their checksum);
``shown_from``/``shown_to`` local dates ``YYYY-MM-DD`` or None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from common.procedure_rules import Problem, bounded_text

#: Nội quy, bảng phí và lệ phí, biểu mẫu (PDF), thông báo.
KINDS = ("rules", "fees", "form", "notice")
ID_RE = re.compile(r"^[0-9a-f]{32}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
#: The most documents a commune posts, rows of a fee table, characters of a text.
MAX_DOCUMENTS = 60
MAX_ROWS = 80
LIMITS = {"title": 200, "body": 8000, "name": 300, "amount": 100, "note": 300}
#: One PDF form, and all of a commune's PDFs together: what a kiosk keeps on its SD card (DATA_DIR/posted).
MAX_PDF_BYTES = 3 * 1024 * 1024
MAX_PDF_TOTAL = 30 * 1024 * 1024
#: The PDFs the central server keeps for one commune's (or one province's own) documents, hidden ones included.
MAX_PDF_KEPT = 2 * MAX_PDF_TOTAL
PDF_MAGIC = b"%PDF-"


def is_pdf(content: bytes) -> bool:
    """A PDF begins with ``%PDF-`` (within its first 1024 bytes, as readers accept) and ends with ``%%EOF``
    (within its last 1024 bytes, allowing trailing whitespace)."""
    return PDF_MAGIC in content[:1024] and b"%%EOF" in content[-1024:]


def _date(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise Problem(field, "must be a date YYYY-MM-DD") from None


def _row(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise Problem(field, "must be an object with a name, an amount and a note")
    return {
        "name": bounded_text(value.get("name"), f"{field}.name", LIMITS["name"]),
        "amount": bounded_text(value.get("amount"), f"{field}.amount", LIMITS["amount"]),
        "note": bounded_text(value.get("note"), f"{field}.note", LIMITS["note"], required=False),
    }


def _file(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not SHA256_RE.match(str(value.get("sha256", ""))):
        raise Problem("file", "must name the PDF by its SHA-256")
    size = value.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_PDF_BYTES:
        raise Problem("file.size", f"must be a whole number of bytes from 1 to {MAX_PDF_BYTES}")
    return {"sha256": value["sha256"], "size": size}


def check_posted(item: Any) -> dict[str, Any]:
    """The document, trimmed and in NFC; raises :class:`Problem` naming the first field that breaks a rule.
    Rules and notices need a text, a fee table at least one row, a form its PDF."""
    if not isinstance(item, Mapping):
        raise Problem("document", "must be an object")
    ident = str(item.get("id") or "")
    if not ID_RE.match(ident):
        raise Problem("id", "must be 32 hexadecimal digits")
    kind = item.get("kind")
    if kind not in KINDS:
        raise Problem("kind", f"must be one of {', '.join(KINDS)}")
    rows = item.get("rows") or []
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise Problem("rows", f"must be a list of at most {MAX_ROWS} rows")
    clean = {
        "id": ident,
        "kind": kind,
        "title": bounded_text(item.get("title"), "title", LIMITS["title"]),
        "body": bounded_text(item.get("body"), "body", LIMITS["body"], required=kind in ("rules", "notice")),
        "rows": [_row(r, f"rows[{i + 1}]") for i, r in enumerate(rows)] if kind == "fees" else [],
        "file": _file(item.get("file")) if kind == "form" else None,
        "shown_from": _date(item.get("shown_from"), "shown_from"),
        "shown_to": _date(item.get("shown_to"), "shown_to"),
    }
    if kind == "fees" and not clean["rows"]:
        raise Problem("rows", "a fee table needs at least one row")
    if clean["shown_from"] and clean["shown_to"] and clean["shown_to"] < clean["shown_from"]:
        raise Problem("shown_to", "must not be before shown_from")
    return clean


def shown_on(item: Mapping[str, Any], day: date) -> bool:
    """Whether a document is shown on ``day`` (a local date): within its from/to dates, both optional."""
    today = day.isoformat()
    return (not item.get("shown_from") or item["shown_from"] <= today) and (
        not item.get("shown_to") or today <= item["shown_to"]
    )
