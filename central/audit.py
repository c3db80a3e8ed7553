"""The audit log of a commune's catalogue, and the switch of its owner from the kiosks to the central server.

Every change of the catalogue — on the central pages, by `kiosk-central import-config`, or adopted from a
kiosk — writes one :class:`~central.models.AuditEntry` in the same transaction as the change: who, what,
when, and the values before and after. A refused change writes nothing (the transaction is rolled back).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.models import AuditEntry, Commune
from common.errors import NotFoundError


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a signed-in user, a command, or a kiosk."""

    name: str
    user_id: str | None = None
    central: bool = True  # a change made at the central server (it takes the catalogue over from the kiosks)


def record(
    session: Session,
    commune_code: str,
    actor: Actor,
    action: str,
    target: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            commune_code=commune_code,
            id=str(uuid.uuid4()),
            at=now,
            actor=actor.name[:200],
            user_id=actor.user_id,
            action=action[:32],
            target=target[:200],
            detail=detail,
        )
    )


def commune_for_change(session: Session, commune_code: str, actor: Actor, now: datetime) -> Commune:
    """The commune, locked for this change; a first central change makes the catalogue centrally managed.

    The row lock (PostgreSQL) serialises changes of one commune's catalogue: two administrators, or an
    administrator and a kiosk's upload, never interleave.
    """
    commune = session.scalar(select(Commune).where(Commune.code == commune_code).with_for_update())
    if commune is None:
        raise NotFoundError(f"Commune {commune_code} does not exist: create it with `kiosk-central add-commune`.")
    if actor.central and commune.catalog_owner != "central":
        commune.catalog_owner = "central"
        record(session, commune_code, actor, "owner", "catalog", now, {"from": "kiosk", "to": "central"})
    return commune


def set_owner(session: Session, commune_code: str, owner: str, actor: Actor, now: datetime) -> bool:
    """Hand the catalogue to ``owner`` (``kiosk`` or ``central``); False when it already is."""
    commune = session.scalar(select(Commune).where(Commune.code == commune_code).with_for_update())
    if commune is None:
        raise NotFoundError(f"Commune {commune_code} does not exist.")
    if commune.catalog_owner == owner:
        return False
    record(session, commune_code, actor, "owner", "catalog", now, {"from": commune.catalog_owner, "to": owner})
    commune.catalog_owner = owner
    return True


def entries(session: Session, commune_code: str, limit: int = 200) -> list[AuditEntry]:
    if limit <= 0:
        return []
    query = select(AuditEntry).where(AuditEntry.commune_code == commune_code)
    return list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id).limit(limit)))
