"""Editing services, counters and clerks from the device's admin page (while the commune's catalogue is the kiosk's).

The rules are the central pages' own (:mod:`common.catalog_edit`), over this kiosk's tables
(:class:`kiosk.catalog_store.DeviceStore`): each function validates everything inside the caller's
transaction and raises on a refusal, so the caller's rollback leaves nothing written. What is the kiosk's
own: once the central server manages the commune's catalogue, every edit here is refused (409), and each
edit is recorded with :func:`kiosk.catalog_state.touch` (so it travels up to the central server at the next
sync). Refusals are :class:`ValidationError` whose detail carries ``msgid`` and ``params``: the English
message is also the gettext msgid, so the web page can show it in Vietnamese.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from common import catalog_edit as rules
from kiosk.catalog import add_clerk, refuse_if_central
from kiosk.catalog_store import DeviceStore
from kiosk.models import Clerk, Counter, Service


def _store(session: Session) -> DeviceStore:
    refuse_if_central(session)
    return DeviceStore(session)


def save_service(
    session: Session,
    code: Any,
    name: Any,
    prefix: Any,
    daily_max: Any,
    active: Any,
    *,
    new: bool,
    counters: list[Any] | None = None,
) -> Service:
    """Create (``new``) or update the service ``code``: Vietnamese name, ticket prefix, daily maximum, active;
    ``counters``: the numbers of the counters that are to handle it too."""
    return rules.save_service(_store(session), code, name, prefix, daily_max, active, new=new, counters=counters)


def save_counter(
    session: Session, number: Any, services: list[Any], active: Any, name: Any = None, *, new: bool
) -> Counter:
    """Create (``new``) or update a counter: the services it handles, whether it is open, its name."""
    return rules.save_counter(_store(session), number, services, active, name, new=new)


def create_clerk(session: Session, name: Any, counter: Any, pin: Any) -> Clerk:
    """A new active clerk with a hashed PIN (code CC01, CC02, … chosen by :func:`kiosk.catalog.add_clerk`)."""
    return add_clerk(session, name, pin, counter)


def update_clerk(session: Session, clerk_id: str, name: Any, counter: Any, active: Any, pin: Any = None) -> Clerk:
    """Change a clerk's name, usual counter, active flag; or give a new PIN (one no other active clerk has)."""
    return rules.update_clerk(_store(session), clerk_id, name, counter, active, pin)
