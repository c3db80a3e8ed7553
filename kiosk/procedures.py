"""The commune's procedures on the kiosk: the list taken down at sync (replaced whole, or not at all), a field's
procedures, a search that does not need diacritics ("dang ky khai sinh" finds "Đăng ký khai sinh"), and one
procedure for the checklist the printer prints.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.errors import NotFoundError, ValidationError
from common.procedure_rules import MAX_PROCEDURES, check_procedure, days_text, fold
from kiosk.down_list import checked_list
from kiosk.models import KioskProcedure, ProcedureList
from kiosk.storage import transaction
from sync import procedures_document

log = logging.getLogger(__name__)

#: The most results a search answers (a screen shows a handful; the rest is a narrower search away); a field's
#: list is whole.
MAX_RESULTS = 50
#: The longest search text taken.
MAX_QUERY = 100


class ProceduresRefused(ValidationError):
    """The commune's list of procedures is malformed: the kiosk keeps the list it had."""

    code = "procedures_refused"


def current_version(session: Session) -> str | None:
    row = session.get(ProcedureList, 1)
    return row.version if row else None


def check_document(doc: Any) -> list[dict[str, Any]]:
    """The procedures of a document from the central server, checked; ProceduresRefused naming the first fault."""
    return checked_list(doc, "procedures", MAX_PROCEDURES, check_procedure, ProceduresRefused, "Procedure")


def store_document(sessions: Any, doc: Any, now: datetime) -> bool:
    """Replace the kiosk's list with the document's, in one transaction; False when that version is held already."""
    items = check_document(doc)
    with transaction(sessions) as session:
        if current_version(session) == doc["version"]:
            return False
        session.execute(delete(KioskProcedure))
        session.add_all(
            KioskProcedure(position=position, search=fold(f"{p['name']} {p['code']}"), **procedures_document.columns(p))
            for position, p in enumerate(items)
        )
        session.merge(ProcedureList(id=1, version=doc["version"], received_at=now))
    log.info("procedures: %d taken (version %s)", len(items), doc["version"][:12])
    return True


def entry(p: KioskProcedure) -> dict[str, Any]:
    """A procedure as the device's API answers it: the wire form and the time in words."""
    return {**procedures_document.entry(p), "time": days_text(p.days)}


def find(session: Session, service: str | None = None, query: str | None = None) -> list[dict[str, Any]]:
    """A field's procedures, or those whose name (or code) holds every word of ``query``, diacritics or not."""
    select_ = select(KioskProcedure).order_by(KioskProcedure.position)
    if service:
        select_ = select_.where(KioskProcedure.service_code == service.strip().upper()[:16])
    words = fold((query or "")[:MAX_QUERY]).split()
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        select_ = select_.where(KioskProcedure.search.like(f"%{escaped}%", escape="\\"))
    if words:  # a search answers the first matches; a field lists all its procedures
        select_ = select_.limit(MAX_RESULTS)
    return [entry(p) for p in session.scalars(select_)]


def fields(session: Session) -> set[str]:
    """The field codes that have at least one procedure."""
    return set(session.scalars(select(KioskProcedure.service_code).distinct()))


def get(session: Session, code: str) -> dict[str, Any]:
    procedure = session.get(KioskProcedure, code[:40])
    if procedure is None:
        raise NotFoundError(f"Procedure {code} is not on this kiosk's list.", {"code": code[:40]})
    return entry(procedure)
