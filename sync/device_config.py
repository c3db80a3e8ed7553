"""Applying the central server's configuration on the device: all of it in one transaction, or none.

Services, counters and clerks that the server no longer lists are deactivated, never deleted (records
refer to them). Clerks keep their lock-out state; counters keep their paused flag. After the commit the
rating service forgets its cached scale and counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk.catalog import CODE_RE
from kiosk.db import transaction
from kiosk.errors import ValidationError
from kiosk.models import Clerk, Counter, DeviceState, Service
from kiosk.scale import Level, seed_levels
from sync.outbox import CONFIG_VERSION_KEY


def check_config(doc: Any) -> None:
    """Refuse a configuration that would leave the kiosk unusable or break its tables."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("version"), str):
        raise ValidationError("The central configuration is not an object with a version.")
    for part in ("services", "counters", "clerks", "scale"):
        if not isinstance(doc.get(part), list) or not all(isinstance(x, Mapping) for x in doc[part]):
            raise ValidationError(f"The central configuration has no {part} list.")
    services = {s.get("code") for s in doc["services"] if s.get("active", True)}
    if not services or not all(isinstance(c, str) and CODE_RE.match(c) for c in services):
        raise ValidationError("The central configuration has no valid active services; the local one is kept.")
    counters = set()
    for counter in doc["counters"]:
        if type(counter.get("number")) is not int:
            raise ValidationError(f"Counter {counter.get('number')!r} of the central configuration is not a number.")
        unknown = set(counter.get("services") or []) - {s.get("code") for s in doc["services"]}
        if unknown:
            raise ValidationError(f"Counter {counter['number']} handles unknown service(s) {sorted(unknown)}.")
        counters.add(counter["number"])
    for clerk in doc["clerks"]:
        if not all(isinstance(clerk.get(k), str) and clerk[k] for k in ("id", "code", "name", "pin_hash")):
            raise ValidationError("A clerk of the central configuration lacks an id, code, name or PIN hash.")
        if clerk.get("counter") is not None and clerk["counter"] not in counters:
            raise ValidationError(f"Clerk {clerk['code']} sits at counter {clerk['counter']}, which is not listed.")
    levels = [s for s in doc["scale"] if s.get("active", True)]
    if not 2 <= len(levels) <= 5 or not all(
        isinstance(s.get("key"), str) and type(s.get("points")) is int for s in levels
    ):
        raise ValidationError("The central configuration's rating scale needs 2 to 5 levels with points.")


def current_version(sessions) -> str | None:
    with sessions() as session:
        return session.scalar(select(DeviceState.value).where(DeviceState.key == CONFIG_VERSION_KEY))


def apply_config(kiosk: Any, doc: Mapping[str, Any]) -> bool:
    """Apply ``doc`` (already verified as signed by the server); False when this version is already in use."""
    check_config(doc)
    if current_version(kiosk.sessions) == doc["version"]:
        return False
    try:
        _apply(kiosk.sessions, doc)
    except IntegrityError as exc:
        raise ValidationError(
            f"The central configuration clashes with itself ({exc.orig}); nothing of it was applied."
        ) from exc
    kiosk.ratings.reload()
    return True


def _apply(sessions, doc: Mapping[str, Any]) -> None:
    with transaction(sessions) as session:
        services = {}
        for position, spec in enumerate(doc["services"]):
            row = session.get(Service, spec["code"]) or Service(code=spec["code"])
            row.name, row.prefix = str(spec["name"])[:200], str(spec.get("prefix") or "")[:4]
            row.daily_max, row.position, row.active = spec.get("daily_max"), position, bool(spec.get("active", True))
            session.add(row)
            services[row.code] = row
        for row in session.scalars(select(Service)):
            if row.code not in services:
                row.active = False
        session.flush()
        numbers = set()
        for spec in doc["counters"]:
            row = session.get(Counter, spec["number"]) or Counter(number=spec["number"])
            row.name, row.active = (
                str(spec.get("name") or f"Quầy {spec['number']}")[:100],
                bool(spec.get("active", True)),
            )
            row.services = [services[code] for code in spec.get("services") or []]
            session.add(row)
            numbers.add(row.number)
        for row in session.scalars(select(Counter)):
            if row.number not in numbers:
                row.active = False
        session.flush()
        _apply_clerks(session, doc["clerks"])
        levels = [s for s in doc["scale"] if s.get("active", True)]
        seed_levels(session, [Level(s["key"], str(s["label"])[:100], s["points"], i) for i, s in enumerate(levels)])
        state = session.get(DeviceState, CONFIG_VERSION_KEY) or DeviceState(key=CONFIG_VERSION_KEY)
        state.value = doc["version"]
        session.add(state)


def _apply_clerks(session, specs: list) -> None:
    """Clerks by id; codes are unique, so every code is first parked on a unique placeholder (swaps work)."""
    wanted = {spec["id"]: spec for spec in specs}
    existing = {c.id: c for c in session.scalars(select(Clerk))}
    taken_codes = {spec["code"] for spec in specs}
    for clerk in existing.values():
        if clerk.id in wanted or clerk.code in taken_codes:
            clerk.code = f"~{clerk.id}"[:32]
        if clerk.id not in wanted:
            clerk.active = False
    session.flush()
    for clerk_id, spec in wanted.items():
        clerk = existing.get(clerk_id) or Clerk(id=clerk_id)
        clerk.code, clerk.name, clerk.pin_hash = spec["code"], str(spec["name"])[:200], spec["pin_hash"]
        clerk.counter_number, clerk.active = spec.get("counter"), bool(spec.get("active", True))
        session.add(clerk)
    session.flush()
