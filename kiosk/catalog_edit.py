"""Editing services, counters and clerks from the device's admin page (while the commune's catalogue is the kiosk's).

Each function validates everything inside the caller's transaction and raises on a refusal, so the caller's
rollback leaves nothing written. Codes and numbers are fixed once created: tickets, ratings and clerk
actions refer to them, so a service or counter is switched off (``active``), never renamed or deleted.
An edit that would leave the kiosk with no service in use, no open counter for one, or no active clerk is
refused; a PIN another active clerk has is refused naming that clerk. Every edit is recorded with
:func:`kiosk.catalog_state.touch` (so it travels up to the central server at the next sync).

Refusals are :class:`ValidationError` whose detail carries ``msgid`` and ``params``: the English
message is also the gettext msgid, so the web page can show it in Vietnamese.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.catalog_rules import (
    CODE_RE,
    MAX_COUNTER,
    MAX_DAILY,
    PIN_RE,
    flag,
    hash_pin,
    invalid,
    missing,
    text_field,
    ticket_prefix,
    whole,
)
from kiosk import catalog_state
from kiosk.catalog import add_clerk, has_active_clerk, refuse_if_central, refuse_taken_pin, refuse_unusable
from kiosk.models import Clerk, Counter, Service

# --- services --------------------------------------------------------------------------------------


def save_service(
    session: Session, code: Any, name: Any, prefix: Any, daily_max: Any, active: Any, *, new: bool
) -> Service:
    """Create (``new``) or update the service ``code``: Vietnamese name, ticket prefix, daily maximum, active."""
    refuse_if_central(session)
    code = str(code or "").strip().upper()
    if new:
        if not CODE_RE.match(code):
            raise invalid("code", "The service code must be 1 to 16 letters or digits without accents, e.g. HT.")
        if session.get(Service, code) is not None:
            raise invalid("code", "A service with code %(code)s already exists.", code=code)
        service = Service(code=code, position=(session.scalar(select(func.max(Service.position))) or 0) + 1)
    else:
        service = session.get(Service, code)
        if service is None:
            raise missing("code", "Service %(code)s does not exist on this kiosk.", code=code)
    name = text_field(name, "name", "Fill in the service name.")
    prefix = ticket_prefix(
        prefix, lambda p: session.scalar(select(Service.code).where(Service.prefix == p, Service.code != code))
    )
    daily = whole(daily_max, "daily_max", 1, MAX_DAILY, blank_ok=True)
    had_clerk = has_active_clerk(session)
    service.name, service.prefix, service.daily_max, service.active = name, prefix, daily, flag(active)
    session.add(service)
    refuse_unusable(session, had_clerk)
    catalog_state.touch(session, f"service:{code}")
    return service


# --- counters --------------------------------------------------------------------------------------


def save_counter(
    session: Session, number: Any, services: list[Any], active: Any, name: Any = None, *, new: bool
) -> Counter:
    """Create (``new``) or update a counter: the services it handles, whether it is open, its name."""
    refuse_if_central(session)
    number = whole(number, "number", 1, MAX_COUNTER)
    if new:
        if session.get(Counter, number) is not None:
            raise invalid("number", "Counter %(number)s already exists.", number=number)
        counter = Counter(number=number)
    else:
        counter = session.get(Counter, number)
        if counter is None:
            raise missing("number", "Counter %(number)s does not exist.", number=number)
    codes = sorted({str(code).strip().upper() for code in services or [] if str(code).strip()})
    found = {s.code: s for s in session.scalars(select(Service).where(Service.code.in_(codes)))} if codes else {}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise invalid("services", "Unknown service(s): %(codes)s.", codes=", ".join(unknown))
    is_active = flag(active)
    if is_active and not codes:
        raise invalid("services", "An open counter must handle at least one service.")
    label = unicodedata.normalize("NFC", str(name or "")).strip() or counter.name or f"Quầy {number}"
    if len(label) > 100:
        raise invalid("name", "The name is longer than %(limit)s characters.", limit=100)
    had_clerk = has_active_clerk(session)
    counter.name, counter.active = label, is_active
    counter.services = [found[code] for code in codes]
    session.add(counter)
    refuse_unusable(session, had_clerk)
    catalog_state.touch(session, f"counter:{number}")
    return counter


# --- clerks ----------------------------------------------------------------------------------------


def _clerk_counter(session: Session, counter: Any) -> int | None:
    number = whole(counter, "counter", 1, MAX_COUNTER, blank_ok=True)
    if number is not None and session.get(Counter, number) is None:
        raise invalid("counter", "Counter %(number)s does not exist.", number=number)
    return number


def _pin(pin: Any, *, required: bool) -> str | None:
    pin = str(pin or "").strip()
    if not pin and not required:
        return None
    if not PIN_RE.match(pin):
        raise invalid("pin", "The PIN must be 4 to 8 digits.")
    return pin


def create_clerk(session: Session, name: Any, counter: Any, pin: Any) -> Clerk:
    """A new active clerk with a hashed PIN (code CC01, CC02, … chosen by :func:`kiosk.catalog.add_clerk`)."""
    refuse_if_central(session)
    name = text_field(name, "name", "Fill in the clerk's name.")
    number = _clerk_counter(session, counter)
    return add_clerk(session, name, _pin(pin, required=True), number)


def update_clerk(session: Session, clerk_id: str, name: Any, counter: Any, active: Any, pin: Any = None) -> Clerk:
    """Change a clerk's name, usual counter, active flag; or give a new PIN (one no other active clerk has)."""
    refuse_if_central(session)
    clerk = session.get(Clerk, clerk_id)
    if clerk is None:
        raise missing("clerk", "This clerk does not exist on this kiosk.")
    name = text_field(name, "name", "Fill in the clerk's name.")
    number = _clerk_counter(session, counter)
    new_pin = _pin(pin, required=False)
    if new_pin is not None:
        refuse_taken_pin(session, new_pin, exclude=clerk.id)
    had_clerk = has_active_clerk(session)
    clerk.name, clerk.counter_number, clerk.active = name, number, flag(active)
    if new_pin is not None:
        clerk.pin_hash = hash_pin(new_pin)
    session.add(clerk)
    refuse_unusable(session, had_clerk)
    catalog_state.touch(session, f"clerk:{clerk.id}")
    return clerk
