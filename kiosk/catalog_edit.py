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

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import catalog_state
from kiosk.catalog import (
    CODE_RE,
    PIN_RE,
    add_clerk,
    has_active_clerk,
    hash_pin,
    invalid,
    refuse_if_central,
    refuse_taken_pin,
    refuse_unusable,
)
from kiosk.errors import NotFoundError
from kiosk.models import Clerk, Counter, Service

PREFIX_RE = re.compile(r"^[A-Z]{0,4}$")
MAX_NAME = 200
MAX_DAILY = 9999
MAX_COUNTER = 999


def _missing(field: str, msgid: str, **params: Any) -> NotFoundError:
    return NotFoundError(msgid % params, {"field": field, "msgid": msgid, "params": params})


def _text(value: Any, field: str, missing: str, limit: int = MAX_NAME) -> str:
    """NFC text (Vietnamese typed with combining marks is stored composed), trimmed, not empty, not too long."""
    text = unicodedata.normalize("NFC", str(value or "")).strip()
    if not text:
        raise invalid(field, missing)
    if len(text) > limit:
        raise invalid(field, "The name is longer than %(limit)s characters.", limit=limit)
    return text


def _whole(value: Any, field: str, low: int, high: int, *, blank_ok: bool = False) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text and blank_ok:
        return None
    if not re.fullmatch(r"[0-9]{1,6}", text) or not low <= int(text) <= high:
        raise invalid(field, "Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    return int(text)


def ticket_prefix(value: Any, holder: Callable[[str], str | None]) -> str:
    """A ticket prefix no other service has (``holder(prefix)``: the code of the service that has it, if any)."""
    prefix = str(value or "").strip().upper()
    if not PREFIX_RE.match(prefix):
        raise invalid("prefix", "The ticket prefix must be at most 4 letters without accents, e.g. A.")
    clash = holder(prefix)
    if clash and not prefix:
        raise invalid(
            "prefix",
            "Service %(other)s already has no prefix; two services without a prefix would print the same numbers.",
            other=clash,
        )
    if clash:
        raise invalid(
            "prefix",
            "Service %(other)s already uses the prefix “%(prefix)s”; two services with one prefix would print the same numbers.",
            other=clash,
            prefix=prefix,
        )
    return prefix


def _flag(value: Any) -> bool:
    return str(value or "").strip().lower() in {"1", "on", "true", "yes"}


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
            raise _missing("code", "Service %(code)s does not exist on this kiosk.", code=code)
    name = _text(name, "name", "Fill in the service name.")
    prefix = ticket_prefix(
        prefix, lambda p: session.scalar(select(Service.code).where(Service.prefix == p, Service.code != code))
    )
    daily = _whole(daily_max, "daily_max", 1, MAX_DAILY, blank_ok=True)
    had_clerk = has_active_clerk(session)
    service.name, service.prefix, service.daily_max, service.active = name, prefix, daily, _flag(active)
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
    number = _whole(number, "number", 1, MAX_COUNTER)
    if new:
        if session.get(Counter, number) is not None:
            raise invalid("number", "Counter %(number)s already exists.", number=number)
        counter = Counter(number=number)
    else:
        counter = session.get(Counter, number)
        if counter is None:
            raise _missing("number", "Counter %(number)s does not exist.", number=number)
    codes = sorted({str(code).strip().upper() for code in services or [] if str(code).strip()})
    found = {s.code: s for s in session.scalars(select(Service).where(Service.code.in_(codes)))} if codes else {}
    missing = [code for code in codes if code not in found]
    if missing:
        raise invalid("services", "Unknown service(s): %(codes)s.", codes=", ".join(missing))
    is_active = _flag(active)
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
    number = _whole(counter, "counter", 1, MAX_COUNTER, blank_ok=True)
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
    name = _text(name, "name", "Fill in the clerk's name.")
    number = _clerk_counter(session, counter)
    return add_clerk(session, name, _pin(pin, required=True), number)


def update_clerk(session: Session, clerk_id: str, name: Any, counter: Any, active: Any, pin: Any = None) -> Clerk:
    """Change a clerk's name, usual counter, active flag; or give a new PIN (one no other active clerk has)."""
    refuse_if_central(session)
    clerk = session.get(Clerk, clerk_id)
    if clerk is None:
        raise _missing("clerk", "This clerk does not exist on this kiosk.")
    name = _text(name, "name", "Fill in the clerk's name.")
    number = _clerk_counter(session, counter)
    new_pin = _pin(pin, required=False)
    if new_pin is not None:
        refuse_taken_pin(session, new_pin, exclude=clerk.id)
    had_clerk = has_active_clerk(session)
    clerk.name, clerk.counter_number, clerk.active = name, number, _flag(active)
    if new_pin is not None:
        clerk.pin_hash = hash_pin(new_pin)
    session.add(clerk)
    refuse_unusable(session, had_clerk)
    catalog_state.touch(session, f"clerk:{clerk.id}")
    return clerk
