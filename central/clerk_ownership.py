"""Whose clerks a kiosk's catalogue upload may change: no single kiosk can lock out its commune's clerks.

The rule (docs/catalog.md, "Whose clerks a kiosk may change"): once a commune has more than one registered
kiosk, a kiosk's upload may not deactivate (or switch back on), rename, re-code or change the PIN of a clerk it
did not bring itself. Each clerk remembers her origin (``Clerk.origin_device_id``): the kiosk whose upload
first brought her, or none — added on the central pages, by ``import-config``, or stored before the origin was
kept. While the central server manages the catalogue, a kiosk's upload changes no existing clerk at all
(:mod:`central.catalog_upload` only adds the clerks it does not know). New clerks a kiosk adds stay allowed.

An upload that tries is refused whole (403, naming the clerks and the rule; nothing of it is applied, so a
kiosk never ends up with half of what its administrator did), and the attempt is written to the commune's
change log with the kiosk's id and name, in its own transaction (the refused one is rolled back).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central import audit
from central.catalog_store import CentralStore
from central.hierarchy import N_
from central.models import Clerk, Device
from common.catalog_read import Catalog
from common.errors import ForbiddenError

#: What an upload may not change on another's clerk: field of the row and of the item, the word shown.
GUARDED = (("active", "active"), ("name", "name"), ("code", "code"), ("pin_hash", "PIN"))
RULE = N_(
    "Commune %(commune)s has %(kiosks)s kiosks: a kiosk may not deactivate, rename, re-code or change the PIN "
    "of a clerk another kiosk or the central server added (%(clerks)s). Nothing of this catalogue was applied; "
    "change those clerks on the central pages, then sync again."
)


class ClerksNotTheirs(ForbiddenError):
    """A kiosk's upload changes clerks it did not bring, in a commune with several kiosks."""

    code = "clerks_not_theirs"


def kiosk_count(session: Session, commune_code: str) -> int:
    """The commune's registered kiosks (those switched off too: they may come back)."""
    return session.scalar(select(func.count()).select_from(Device).where(Device.commune_code == commune_code)) or 0


def changes_to_others(
    store: CentralStore, device_id: str, catalog: Catalog, changed: set[str]
) -> list[tuple[Clerk, list[str]]]:
    """The clerks not the kiosk's whose guarded fields the upload changes, with the words for those fields."""
    found = []
    for item in catalog.clerks or []:
        row = store.clerk(item.id) if f"clerk:{item.id}" in changed else None
        if row is None or row.origin_device_id == device_id:
            continue
        fields = [word for field, word in GUARDED if getattr(row, field) != getattr(item, field)]
        if fields:
            found.append((row, fields))
    return found


def check_clerk_changes(store: CentralStore, device_id: str, catalog: Catalog, changed: set[str]) -> None:
    """ClerksNotTheirs when the commune has several kiosks and the upload changes clerks this one did not bring."""
    kiosks = kiosk_count(store.session, store.commune)
    if kiosks < 2:
        return
    found = changes_to_others(store, device_id, catalog, changed)
    if found:
        named = [f"{row.code} {row.name}: {', '.join(fields)}" for row, fields in found]
        params = {"commune": store.commune, "kiosks": kiosks, "clerks": "; ".join(named)}
        ids = [row.id for row, _ in found]
        detail = {"msgid": RULE, "params": params, "clerks": named, "ids": ids, "rule": "clerks_of_other_kiosks"}
        raise ClerksNotTheirs(RULE % params, detail)


def mark_origin(row: Clerk, device_id: str) -> None:
    """A clerk a kiosk's upload brings is that kiosk's (the first to bring her keeps her)."""
    if row.origin_device_id is None:
        row.origin_device_id = device_id


def log_refusal(
    session: Session, commune_code: str, device_id: str, device_name: str, refusal: ClerksNotTheirs, now: datetime
) -> None:
    """The refused attempt in the commune's change log, with the kiosk that made it."""
    detail: dict[str, Any] = refusal.detail if isinstance(refusal.detail, dict) else {}
    entry = {"device_id": device_id, "device_name": device_name, "clerks": detail.get("clerks", [])}
    audit.record(
        session, commune_code, audit.Actor(f"kiosk {device_name}", central=False), "refused", "clerks", now, entry
    )
