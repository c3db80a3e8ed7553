"""A commune's posted documents (niêm yết) at the central server: save one from a page's form, hide or show it,
remove it, keep a form's PDF once by its checksum, and the signed document the commune's kiosks take down
(``sync.posted_document``).

A document belongs to a commune, or to a province (``commune_code`` None): then every commune of the province shows
it, after its own. A PDF is taken only when it is one (``common.posted_rules.is_pdf``: its magic bytes, not its name
or the type the browser gave), at most ``MAX_PDF_BYTES``, and while the PDFs a commune's kiosks must keep stay
under ``MAX_PDF_TOTAL``; a refusal changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from central.ingest import TooLarge
from central.models import Commune, Province
from central.posted_models import PostedDocument, PostedFile
from common.errors import NotFoundError, refusal, refused_as
from common.posted_rules import (
    MAX_DOCUMENTS,
    MAX_PDF_BYTES,
    MAX_PDF_KEPT,
    MAX_PDF_TOTAL,
    MAX_ROWS,
    Problem,
    check_posted,
    is_pdf,
)
from sync import posted_document


def owner_of(session: Session, commune: str | None, province: str | None) -> tuple[str | None, str | None]:
    """(province, commune or None) of a page: a commune (its province, if it has one), or a province posting to
    all its communes."""
    if commune:
        row = session.get(Commune, commune)
        if row is None:
            raise NotFoundError(f"Commune {commune} is unknown.")
        return row.province_code, row.code
    if province is None or session.get(Province, province) is None:
        raise NotFoundError(f"Province {province} is unknown.")
    return province, None


def documents_of(session: Session, province: str | None, commune: str | None) -> list[PostedDocument]:
    """A commune's documents (its own first, then its province's), or a province's own, in their order."""
    own = PostedDocument.commune_code == commune if commune else PostedDocument.commune_code.is_(None)
    provinces = and_(PostedDocument.commune_code.is_(None), PostedDocument.province_code == province)
    query = select(PostedDocument).where(
        or_(own, provinces) if commune and province else (own if commune else provinces)
    )
    rows = session.scalars(query.order_by(PostedDocument.position, PostedDocument.title)).all()
    return sorted(rows, key=lambda d: d.commune_code is None)


def fee_rows(text: str) -> list[dict[str, str]]:
    """A fee table typed one row a line, ``name | amount | note`` (the note optional); a line without an amount is
    refused naming its number."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if line.strip():
            name, amount, note = [*(p.strip() for p in line.split("|", 2)), "", ""][:3]
            if not name or not amount:
                raise refusal("rows", "Line %(n)s of the fee table needs a name, then “|”, then the amount.", n=number)
            rows.append({"name": name, "amount": amount, "note": note})
    return rows[: MAX_ROWS + 1]


def _position(value: Any, row: PostedDocument | None) -> int:
    text = str(value if value is not None else "").strip()
    if not text:
        return row.position if row else 0
    if not text.isdigit() or int(text) > 999:
        raise refusal("position", "The order must be a whole number from 0 to 999.")
    return int(text)


def _pdf(session: Session, content: bytes, now: datetime) -> PostedFile:
    if len(content) > MAX_PDF_BYTES:
        raise refused_as(TooLarge, "file", "The PDF is larger than %(limit)s MB.", limit=MAX_PDF_BYTES // 2**20)
    if not is_pdf(content):
        raise refusal("file", "The file is not a PDF (it does not begin with %%PDF-).")
    sha = hashlib.sha256(content).hexdigest()
    row = session.get(PostedFile, sha)
    if row is None:
        row = PostedFile(sha256=sha, size=len(content), content=content, added_at=now)
        session.add(row)
    return row


def _check_disk(session: Session, province: str | None, commune: str | None) -> None:
    """What each commune concerned shows stays within what its kiosks take (``MAX_DOCUMENTS``, with its
    province's; ``MAX_PDF_TOTAL`` of PDFs), and the PDFs kept here for this page, hidden ones too, within
    ``MAX_PDF_KEPT``: a kiosk refuses a longer list whole, and hidden forms would fill the database."""
    communes = (
        [commune] if commune else list(session.scalars(select(Commune.code).where(Commune.province_code == province)))
    )
    for code in communes or [None]:
        shown = [d for d in documents_of(session, province, code) if not d.hidden]
        if len(shown) > MAX_DOCUMENTS:
            raise refusal(
                "document",
                "The kiosks of a commune show at most %(limit)s posted documents, the province's included; "
                "this would make %(count)s.",
                limit=MAX_DOCUMENTS,
                count=len(shown),
            )
        if (total := _pdf_bytes(shown)) > MAX_PDF_TOTAL:
            raise refused_as(
                TooLarge,
                "file",
                "The forms posted would take %(total)s MB on each kiosk; at most %(limit)s MB.",
                total=round(total / 2**20, 1),
                limit=MAX_PDF_TOTAL // 2**20,
            )
    own = [d for d in documents_of(session, province, commune) if d.commune_code == commune]  # this page's
    if (total := _pdf_bytes(own)) > MAX_PDF_KEPT:
        raise refused_as(
            TooLarge,
            "file",
            "The forms kept here, hidden ones too, would take %(total)s MB; at most %(limit)s MB. "
            "Remove the forms no longer needed.",
            total=round(total / 2**20, 1),
            limit=MAX_PDF_KEPT // 2**20,
        )


def _pdf_bytes(docs: list[PostedDocument]) -> int:
    """The bytes of the distinct PDFs of ``docs``."""
    return sum(size or 0 for _sha, size in {(d.file_sha256, d.file_size) for d in docs if d.file_sha256})


def save(
    session: Session,
    province: str | None,
    commune: str | None,
    form: Mapping[str, Any],
    pdf: bytes | None,
    now: datetime,
    ident: str | None = None,
) -> PostedDocument:
    """Add (``ident`` None) or change a document from a page's form; a form keeps its PDF unless a new one comes.
    ValidationError (400) naming the field, TooLarge (413) for a PDF over the caps; nothing is changed then."""
    row = _get(session, province, commune, ident) if ident else None
    file = _pdf(session, pdf, now) if pdf else None
    kind = row.kind if row else form.get("kind")
    item = {
        "id": ident or uuid.uuid4().hex,
        "kind": kind,
        "title": form.get("title"),
        "body": form.get("body"),
        "rows": fee_rows(form.get("rows", "")) if kind == "fees" else [],
        "file": {"sha256": file.sha256, "size": file.size}
        if file
        else ({"sha256": row.file_sha256, "size": row.file_size} if row and row.file_sha256 else {}),
        "shown_from": form.get("shown_from"),
        "shown_to": form.get("shown_to"),
    }
    if kind == "form" and not item["file"]:
        raise refusal("file", "Choose the PDF of the form.")
    try:
        clean = check_posted(item)
    except Problem as exc:
        raise refusal(exc.field, "%(field)s: %(message)s", field=exc.field, message=exc.message) from None
    position = _position(form.get("position"), row)
    if row is None:
        row = PostedDocument(province_code=province, commune_code=commune, hidden=False)
        session.add(row)
    for name, value in posted_document.columns(clean).items():  # the id too: the row's own, or the new one
        setattr(row, name, value)
    row.position = position
    row.updated_at = now
    session.flush()
    _check_disk(session, province, commune)
    _drop_unused_files(session)
    return row


def _get(session: Session, province: str | None, commune: str | None, ident: str) -> PostedDocument:
    row = session.get(PostedDocument, str(ident)[:32])
    if row is None or row.commune_code != commune or (commune is None and row.province_code != province):
        raise NotFoundError(f"There is no posted document {ident} here.")
    return row


def set_hidden(session: Session, province: str | None, commune: str | None, ident: str, hidden: bool) -> PostedDocument:
    """Hide a document from the kiosks (kept here), or show it again (within the kiosk's cap)."""
    row = _get(session, province, commune, ident)
    row.hidden = hidden
    session.flush()
    _check_disk(session, province, commune)
    return row


def remove(session: Session, province: str | None, commune: str | None, ident: str) -> None:
    """Remove a document for good (its PDF too, when no other document uses it)."""
    session.delete(_get(session, province, commune, ident))
    session.flush()
    _drop_unused_files(session)


def _drop_unused_files(session: Session) -> None:
    used = select(PostedDocument.file_sha256).where(PostedDocument.file_sha256.is_not(None))
    session.execute(delete(PostedFile).where(PostedFile.sha256.not_in(used)))


def build_document(session: Session, commune_code: str) -> dict[str, Any]:
    """What a commune's kiosks show: its documents and its province's, less the hidden ones."""
    commune = session.get(Commune, commune_code)
    if commune is None:
        raise NotFoundError(f"Commune {commune_code} is unknown.")
    shown = [
        posted_document.entry(d) for d in documents_of(session, commune.province_code, commune.code) if not d.hidden
    ]
    return {"v": 1, "commune": commune.code, "version": posted_document.version(shown), "documents": shown}


def file_for(session: Session, commune_code: str, sha256: str) -> bytes:
    """A PDF that a document shown at the commune names; NotFoundError for any other."""
    commune = session.get(Commune, commune_code)
    names = commune is not None and any(
        d.file_sha256 == sha256 and not d.hidden for d in documents_of(session, commune.province_code, commune.code)
    )
    row = session.get(PostedFile, sha256) if names else None
    if row is None:
        raise NotFoundError("There is no such PDF for this commune.")
    return row.content
