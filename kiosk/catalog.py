"""Services, counters and clerks: seeding from settings and managing clerks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from kiosk.models import Clerk, Counter, ScaleLevel, Service
from kiosk.scale import levels_from_settings, seed_levels

PIN_RE = re.compile(r"^[0-9]{4,8}$")
CODE_RE = re.compile(r"^[A-Z0-9]{1,16}$")


def seed(session: Session, settings: Mapping[str, Any], reseed: bool = False) -> list[str]:
    """Add the services, counters and rating scale of the settings that the database lacks.

    What already exists is left alone: after the first start the catalogue belongs to `/admin` or to
    the central server, and an upgrade must not undo their edits. ``reseed`` re-applies the settings
    over what exists (`kiosk init --reseed`). Returns what was added or changed, for the CLI to say.
    """
    changes: list[str] = []
    levels = levels_from_settings(settings)
    if reseed or not session.scalar(select(ScaleLevel.key).where(ScaleLevel.active).limit(1)):
        seed_levels(session, levels)
        changes.append("rating scale: " + ", ".join(level.label for level in levels))
    services = {s.code: s for s in session.scalars(select(Service))}
    for position, spec in enumerate(settings["services"]):
        try:
            code = str(spec["code"]).upper()
            name = str(spec["name"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"Setting services: entry {spec!r} needs a code and a name.") from exc
        if not CODE_RE.match(code):
            raise ConfigError(f"Setting services: code {code!r} must be 1–16 letters or digits.")
        if code in services and not reseed:
            continue
        service = services.get(code) or Service(code=code)
        changes.append(f"service {code} {name}")
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
        counter = session.get(Counter, number)
        if counter is not None and not reseed:
            continue
        counter = counter or Counter(number=number)
        changes.append(f"counter {number}")
        counter.name = str(spec.get("name", f"Quầy {number}"))
        wanted = [str(c).upper() for c in spec.get("services", list(services))]
        missing = [c for c in wanted if c not in services]
        if missing:
            raise ConfigError(f"Setting counters: counter {number} handles unknown service(s) {', '.join(missing)}.")
        counter.services = [services[c] for c in wanted]
        session.add(counter)
    session.flush()
    return changes


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
