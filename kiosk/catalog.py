"""Services, counters and clerks: seeding from settings and managing clerks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from kiosk.models import Clerk, Counter, Service
from kiosk.scale import levels_from_settings, seed_levels

PIN_RE = re.compile(r"^[0-9]{4,8}$")
CODE_RE = re.compile(r"^[A-Z0-9]{1,16}$")


def seed(session: Session, settings: Mapping[str, Any]) -> None:
    """Create or update services, counters and the rating scale from settings (idempotent)."""
    seed_levels(session, levels_from_settings(settings))
    services = {}
    for position, spec in enumerate(settings["services"]):
        try:
            code = str(spec["code"]).upper()
            name = str(spec["name"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"Setting services: entry {spec!r} needs a code and a name.") from exc
        if not CODE_RE.match(code):
            raise ConfigError(f"Setting services: code {code!r} must be 1–16 letters or digits.")
        service = session.get(Service, code) or Service(code=code)
        service.name = name
        service.prefix = str(spec.get("prefix", ""))[:4]
        service.daily_max = spec.get("daily_max")
        service.position = position
        service.active = True
        session.add(service)
        services[code] = service
    session.flush()
    for spec in settings["counters"]:
        try:
            number = int(spec["number"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"Setting counters: entry {spec!r} needs a whole number.") from exc
        counter = session.get(Counter, number) or Counter(number=number)
        counter.name = str(spec.get("name", f"Quầy {number}"))
        wanted = [str(c).upper() for c in spec.get("services", list(services))]
        missing = [c for c in wanted if c not in services]
        if missing:
            raise ConfigError(f"Setting counters: counter {number} handles unknown service(s) {', '.join(missing)}.")
        counter.services = [services[c] for c in wanted]
        session.add(counter)
    session.flush()


def hash_pin(pin: str) -> str:
    return generate_password_hash(pin)


def pin_matches(clerk: Clerk, pin: str) -> bool:
    return check_password_hash(clerk.pin_hash, pin)


def add_clerk(session: Session, name: str, pin: str, counter: int | None = None, code: str | None = None) -> Clerk:
    """Add a clerk with a hashed PIN; the clerk's usual counter is optional."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("The clerk needs a name.", {"field": "name"})
    if not PIN_RE.match(pin or ""):
        raise ValidationError("The PIN must be 4 to 8 digits.", {"field": "pin"})
    if counter is not None and session.get(Counter, counter) is None:
        raise NotFoundError(f"Counter {counter} does not exist: run `kiosk init` or add it to the counters setting.")
    if code is None:
        taken = set(session.scalars(select(Clerk.code)))
        code = next(f"CC{n:02d}" for n in range(1, 10_000) if f"CC{n:02d}" not in taken)
    elif session.scalar(select(Clerk).where(Clerk.code == code)):
        raise ConflictError(f"A clerk with code {code} already exists.", {"field": "code"})
    clerk = Clerk(name=name, code=code, pin_hash=hash_pin(pin), counter_number=counter)
    session.add(clerk)
    session.flush()
    return clerk
