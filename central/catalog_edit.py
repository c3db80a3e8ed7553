"""Editing a commune's catalogue on the central pages: services, counters, clerks, rating wording, questions.

The rules are the kiosk's `/admin`'s own (:mod:`common.catalog_edit`), over the commune's tables
(:class:`central.catalog_store.CentralStore`): each function changes one item inside the caller's
transaction and raises on a refusal (the caller's rollback leaves nothing written). What is the central
server's own: the commune is locked for the change, the first such change makes it centrally managed
(:func:`central.audit.commune_for_change`), and every change is in the audit log with its values before and after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from central import audit
from central.catalog_store import CentralStore
from central.hierarchy import site_exists
from central.models import Clerk, Counter, Service
from common import catalog_edit as rules
from common.catalog_rules import invalid


def _store(session: Session, commune: str, actor: audit.Actor, now: datetime) -> CentralStore:
    audit.commune_for_change(session, commune, actor, now)
    return CentralStore(session, commune, (actor, now))


def save_service(
    session: Session,
    commune: str,
    code: Any,
    name: Any,
    prefix: Any,
    daily_max: Any,
    active: Any,
    *,
    new: bool,
    actor: audit.Actor,
    now: datetime,
    counters: list[Any] | None = None,
) -> Service:
    """Create or update a service; ``counters`` ("CN:3", or "3" at the centre) are to handle it too."""
    store = _store(session, commune, actor, now)
    return rules.save_service(store, code, name, prefix, daily_max, active, new=new, counters=counters)


def save_counter(
    session: Session,
    commune: str,
    number: Any,
    services: list[Any],
    active: Any,
    name: Any,
    *,
    new: bool,
    actor: audit.Actor,
    now: datetime,
    site: Any = None,
) -> Counter:
    """Create or update counter ``number`` of reception point ``site`` (None: the commune's centre)."""
    store = _store(session, commune, actor, now)
    if site not in (None, "") and not site_exists(session, commune, str(site).strip().upper()):
        raise invalid("site", "The commune has no reception point %(site)s.", site=str(site)[:16])
    return rules.save_counter(store, number, services, active, name, new=new, site=site)


def add_clerk(
    session: Session, commune: str, name: Any, code: Any, counter: Any, pin: Any, *, actor: audit.Actor, now: datetime
) -> Clerk:
    """A new active clerk of the commune (code CC01, CC02, … unless given), with a PIN no one else has."""
    return rules.add_clerk(_store(session, commune, actor, now), name, code, counter, pin)


def save_clerk(
    session: Session,
    commune: str,
    clerk_id: str,
    name: Any,
    counter: Any,
    active: Any,
    pin: Any = None,
    *,
    actor: audit.Actor,
    now: datetime,
) -> Clerk:
    """Rename, move to another counter, (de)activate, or give a new PIN; the clerk keeps her id and history."""
    return rules.update_clerk(_store(session, commune, actor, now), clerk_id, name, counter, active, pin)


def save_wording(
    session: Session,
    commune: str,
    labels: dict[str, Any],
    questions: dict[str, dict[str, Any]],
    *,
    actor: audit.Actor,
    now: datetime,
) -> None:
    """The labels of the rating levels (their points follow TT 01), and which questions are asked, worded how."""
    rules.save_wording(_store(session, commune, actor, now), labels, questions)
