"""The commune's posted documents (niêm yết) on the kiosk: the list taken down at sync (replaced whole, or not at
all), the forms' PDFs kept under ``DATA_DIR/posted`` by their SHA-256 (checked before they are kept; at most
``common.posted_rules.MAX_PDF_TOTAL`` in all), and what the screens show today (each document's from/to dates, in
local time, so that a kiosk offline for weeks still takes a notice down on its last day).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.errors import NotFoundError, ValidationError
from common.posted_rules import MAX_DOCUMENTS, MAX_PDF_TOTAL, check_posted, shown_on
from kiosk.down_list import checked_list
from kiosk.models import KioskPosted, PostedList
from kiosk.storage import transaction
from sync import posted_document

log = logging.getLogger(__name__)
FOLDER = "posted"


class PostedRefused(ValidationError):
    """The commune's posted documents are malformed (or their PDFs too large to keep): the kiosk keeps its own."""

    code = "posted_refused"


def folder(data_path: Path) -> Path:
    """Where the forms' PDFs are kept, ``<sha256>.pdf`` each."""
    return Path(data_path) / FOLDER


def current_version(session: Session) -> str | None:
    row = session.get(PostedList, 1)
    return row.version if row else None


def check_document(doc: Any) -> list[dict[str, Any]]:
    """The documents of the central server's answer, checked (and their PDFs within the kiosk's cap);
    PostedRefused naming the first fault."""
    clean = checked_list(doc, "documents", MAX_DOCUMENTS, check_posted, PostedRefused, "Posted document", "id")
    total = sum(files(clean).values())
    if total > MAX_PDF_TOTAL:
        raise PostedRefused(f"The posted PDFs take {total} bytes; a kiosk keeps at most {MAX_PDF_TOTAL}.")
    return clean


def files(items: list[dict[str, Any]]) -> dict[str, int]:
    """The size of each PDF the documents name, by its SHA-256."""
    return {d["file"]["sha256"]: d["file"]["size"] for d in items if d["file"]}


def keep_file(where: Path, sha256: str, content: bytes) -> None:
    """Keep a PDF under its checksum (written apart, then renamed: never half a file under the name);
    PostedRefused when the bytes are not the ones the document names."""
    if hashlib.sha256(content).hexdigest() != sha256:
        raise PostedRefused(f"The PDF {sha256[:12]}… does not match its checksum.")
    where.mkdir(parents=True, exist_ok=True)
    part = where / f"{sha256}.part"
    with open(part, "wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    os.replace(part, where / f"{sha256}.pdf")


def store_document(sessions: Any, doc: Any, now: datetime, where: Path, fetch: Callable[[str, int], bytes]) -> bool:
    """Take the document: fetch each PDF the kiosk lacks (``fetch(sha256, size)``), then replace the list in one
    transaction, then drop the PDFs no document names. False when that version is held already."""
    items = check_document(doc)
    named = files(items)
    for sha, size in named.items():
        if not (where / f"{sha}.pdf").is_file():
            keep_file(where, sha, fetch(sha, size))
    with transaction(sessions) as session:
        if current_version(session) == doc["version"]:
            return False
        session.execute(delete(KioskPosted))
        session.add_all(
            KioskPosted(position=position, **posted_document.columns(d)) for position, d in enumerate(items)
        )
        session.merge(PostedList(id=1, version=doc["version"], received_at=now))
    kept = {f"{sha}.pdf" for sha in named}
    for path in where.glob("*") if where.is_dir() else ():
        if path.name not in kept:
            path.unlink(missing_ok=True)
    log.info("posted documents: %d taken (version %s)", len(items), doc["version"][:12])
    return True


def shown(session: Session, today: date, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The documents shown today, in the commune's order (only ``kinds`` when given)."""
    rows = [posted_document.entry(d) for d in session.scalars(select(KioskPosted).order_by(KioskPosted.position))]
    return [d for d in rows if shown_on(d, today) and (kinds is None or d["kind"] in kinds)]


def get(session: Session, ident: str, today: date) -> dict[str, Any]:
    """One document shown today; NotFoundError otherwise."""
    row = session.get(KioskPosted, str(ident)[:32])
    found = posted_document.entry(row) if row else None
    if found is None or not shown_on(found, today):
        raise NotFoundError(f"There is no posted document {str(ident)[:32]} on this kiosk.")
    return found


def pdf_file(where: Path, doc: Mapping[str, Any]) -> Path:
    """The kept PDF of a form; NotFoundError when the document has none or it is not (yet) on the kiosk."""
    path = where / f"{doc['file']['sha256']}.pdf" if doc.get("file") else None
    if path is None or not path.is_file():
        raise NotFoundError("This form's PDF is not on this kiosk.")
    return path
