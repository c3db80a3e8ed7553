"""The catalogue (services, counters, clerks, rating scale, questions): seeding from settings, adding clerks.

A PIN is stored only as a hash (werkzeug scrypt, salted), so "unique within the commune" cannot be a
database constraint: a new PIN is checked against the hash of every active clerk (:func:`pin_clash`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.catalog_rules import CODE_RE, PIN_RE, hash_pin, invalid, pin_matches, unusable
from common.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from kiosk import catalog_state
from kiosk.models import Clerk, Counter, ScaleLevel, Service
from kiosk.scale import levels_from_settings, seed_levels, seed_questions


def seed(session: Session, settings: Mapping[str, Any], reseed: bool = False) -> list[str]:
    """Add the services, counters and rating scale of the settings that the database lacks.

    What already exists is left alone: after the first start the catalogue belongs to `/admin` or to
    the central server, and an upgrade must not undo their edits. ``reseed`` re-applies the settings
    over what exists (`kiosk init --reseed`). Returns what was added or changed, for the CLI to say.
    """
    changes: list[str] = []
    dirty: list[str] = []
    levels = levels_from_settings(settings)
    if reseed or not session.scalar(select(ScaleLevel.key).where(ScaleLevel.active).limit(1)):
        seed_levels(session, levels)
        changes.append("rating scale: " + ", ".join(level.label for level in levels))
        dirty.append("scale")
    added = seed_questions(session)
    if added:
        changes.append("questions: " + ", ".join(added))
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
        dirty.append(f"service:{code}")
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
        dirty.append(f"counter:{number}")
    session.flush()
    if changes:
        # What `kiosk init` first seeds is no edit of anyone's (a commune's own catalogue wins over it);
        # `--reseed` deliberately overrides edits, so it travels up like one. Under central management the
        # commune's catalogue is applied again at the next sync, over whatever the settings added here.
        catalog_state.touch(session, *(dirty if reseed else ()))
        if catalog_state.owner(session) == "central":
            catalog_state.put(session, catalog_state.VERSION_KEY, None)
    return changes


def pin_clash(session: Session, pin: str, exclude: str | None = None) -> Clerk | None:
    """The active clerk (other than ``exclude``) whose PIN this already is, if any.

    One scrypt check per active clerk (about 0.1 s each): fine for an administrator's form, and the only
    way, since every hash has its own salt.
    """
    query = select(Clerk).where(Clerk.active).order_by(Clerk.code)
    for clerk in session.scalars(query):
        if clerk.id != exclude and pin_matches(clerk, pin):
            return clerk
    return None


def refuse_taken_pin(session: Session, pin: str, exclude: str | None = None) -> None:
    """ValidationError naming the clerk who already has this PIN (a PIN must say who is signing in)."""
    other = pin_clash(session, pin, exclude)
    if other is not None:
        raise invalid(
            "pin",
            "This PIN is already the PIN of %(name)s (%(code)s); every clerk needs a PIN of their own. Choose another.",
            name=other.name,
            code=other.code,
        )


def refuse_if_central(session: Session) -> None:
    """ConflictError when the central server manages this commune's catalogue (then edits are made there)."""
    if catalog_state.owner(session) == "central":
        raise ConflictError(
            "The central server manages services, counters and clerks of this commune: make the change on its "
            "pages (Danh mục); this kiosk takes it at its next sync.",
            {"reason": "central"},
        )


def add_clerk(session: Session, name: str, pin: str, counter: int | None = None, code: str | None = None) -> Clerk:
    """Add a clerk with a hashed PIN that no other active clerk has; the clerk's usual counter is optional."""
    refuse_if_central(session)
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
    refuse_taken_pin(session, pin)
    clerk = Clerk(name=name, code=code, pin_hash=hash_pin(pin), counter_number=counter)
    session.add(clerk)
    session.flush()
    catalog_state.touch(session, f"clerk:{clerk.id}")
    return clerk


def refuse_unusable(session: Session, had_clerk: bool) -> None:
    """Raise (so the caller's transaction is rolled back) when the catalogue as changed would be unusable."""
    session.flush()
    problem = unusable(catalog_state.snapshot(session), had_clerk)
    if problem is not None:
        raise problem


def has_active_clerk(session: Session) -> bool:
    return session.scalar(select(Clerk.id).where(Clerk.active).limit(1)) is not None
