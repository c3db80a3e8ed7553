"""A commune's configuration at the central server: what `GET /api/v1/config` sends its kiosks.

Services, counters (with the services each handles), clerks (with their PIN hashes, so a clerk logs in
with the same PIN at any kiosk of the commune) and the rating scale's wording and points. It is managed
with `kiosk-central import-config` (a JSON or TOML file) and seeded from the settings when a commune is
created. Whatever is not in an imported file is deactivated, never deleted: records refer to it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk.catalog import CODE_RE, PIN_RE, hash_pin
from kiosk.errors import NotFoundError, ValidationError
from kiosk.scale import levels_from_settings
from sync import protocol
from sync.central.models import Clerk, Commune, Counter, CounterService, ScaleLevel, Service


def build_config(session: Session, commune_code: str, device_id: str, device_name: str) -> dict[str, Any]:
    """The configuration document of a commune, as sent to one of its kiosks."""
    commune = session.get(Commune, commune_code)
    if commune is None:
        raise NotFoundError(f"Commune {commune_code} does not exist at the central server.")
    where = {"commune_code": commune_code}
    services = session.scalars(
        select(Service).filter_by(**where).order_by(Service.active.desc(), Service.position, Service.code)
    ).all()
    links: dict[int, list[str]] = {}
    for link in session.scalars(select(CounterService).filter_by(**where).order_by(CounterService.service_code)):
        links.setdefault(link.counter_number, []).append(link.service_code)
    counters = session.scalars(select(Counter).filter_by(**where).order_by(Counter.number)).all()
    clerks = session.scalars(select(Clerk).filter_by(**where).order_by(Clerk.code)).all()
    scale = session.scalars(select(ScaleLevel).filter_by(**where).order_by(ScaleLevel.position)).all()
    content = {
        "commune": {"code": commune.code, "name": commune.name},
        "services": [
            {"code": s.code, "name": s.name, "prefix": s.prefix, "daily_max": s.daily_max, "active": s.active}
            for s in services
        ],
        "counters": [
            {"number": c.number, "name": c.name, "active": c.active, "services": links.get(c.number, [])}
            for c in counters
        ],
        "clerks": [
            {
                "id": c.id,
                "code": c.code,
                "name": c.name,
                "pin_hash": c.pin_hash,
                "counter": c.counter_number,
                "active": c.active,
            }
            for c in clerks
        ],
        "scale": [{"key": s.key, "label": s.label, "points": s.points, "active": s.active} for s in scale],
    }
    version = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    header = {"v": protocol.PROTOCOL_VERSION, "version": version, "device": {"id": device_id, "name": device_name}}
    return header | content


def ensure_commune(
    session: Session, code: str, name: str | None, settings: Mapping[str, Any], now: datetime, **place: str | None
) -> Commune:
    """The commune with this code, created (and seeded from the settings) if it is new."""
    if not CODE_RE.match(code or ""):
        raise ValidationError(f"Commune code {code!r} must be 1–16 capital letters or digits.")
    commune = session.get(Commune, code)
    if commune is not None:
        return commune
    commune = Commune(code=code, name=name or f"Xã {code}", created_at=now, **place)
    session.add(commune)
    session.flush()
    import_config(
        session,
        code,
        {
            "services": settings["services"],
            "counters": settings["counters"],
            "scale": [{"key": lv.key, "label": lv.label, "points": lv.points} for lv in levels_from_settings(settings)],
        },
    )
    return commune


def import_config(session: Session, commune_code: str, doc: Mapping[str, Any]) -> None:
    """Replace the parts of a commune's configuration that ``doc`` has (services, counters, clerks, scale)."""
    if session.get(Commune, commune_code) is None:
        raise NotFoundError(f"Commune {commune_code} does not exist: create it with `kiosk-central add-commune`.")
    unknown = set(doc) - {"services", "counters", "clerks", "scale", "commune", "v", "version", "device"}
    if unknown:
        raise ValidationError(
            f"Unknown section(s) {', '.join(sorted(unknown))}; use services, counters, clerks, scale."
        )
    try:
        if "services" in doc:
            _import_services(session, commune_code, doc["services"])
        if "counters" in doc:
            _import_counters(session, commune_code, doc["counters"])
        if "clerks" in doc:
            _import_clerks(session, commune_code, doc["clerks"])
        if "scale" in doc:
            _import_scale(session, commune_code, doc["scale"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(
            f"The configuration has an entry without a required field or of the wrong kind: {exc}."
        ) from exc
    session.flush()


def _deactivate_others(session: Session, model: type, commune_code: str, keep: set, key: str) -> None:
    for row in session.scalars(select(model).filter_by(commune_code=commune_code)):
        if getattr(row, key) not in keep:
            row.active = False


def _import_services(session: Session, commune_code: str, specs: list) -> None:
    seen = set()
    for position, spec in enumerate(specs):
        code = str(spec["code"]).upper()
        if not CODE_RE.match(code):
            raise ValidationError(f"Service code {code!r} must be 1–16 capital letters or digits.")
        row = session.get(Service, (commune_code, code)) or Service(commune_code=commune_code, code=code)
        row.name = str(spec["name"])[:200]
        row.prefix = str(spec.get("prefix") or "")[:4]
        row.daily_max = spec.get("daily_max")
        row.position, row.active = position, bool(spec.get("active", True))
        session.add(row)
        seen.add(code)
    _deactivate_others(session, Service, commune_code, seen, "code")
    session.flush()


def _import_counters(session: Session, commune_code: str, specs: list) -> None:
    services = set(session.scalars(select(Service.code).filter_by(commune_code=commune_code, active=True)))
    seen = set()
    session.execute(delete(CounterService).filter_by(commune_code=commune_code))
    for spec in specs:
        number = int(spec["number"])
        row = session.get(Counter, (commune_code, number)) or Counter(commune_code=commune_code, number=number)
        row.name, row.active = str(spec.get("name") or f"Quầy {number}")[:100], bool(spec.get("active", True))
        session.add(row)
        wanted = [str(c).upper() for c in spec.get("services", sorted(services))]
        missing = sorted(set(wanted) - services)
        if missing:
            raise ValidationError(f"Counter {number} handles unknown service(s) {', '.join(missing)}.")
        session.add_all(
            CounterService(commune_code=commune_code, counter_number=number, service_code=c) for c in set(wanted)
        )
        seen.add(number)
    _deactivate_others(session, Counter, commune_code, seen, "number")
    session.flush()


def _import_clerks(session: Session, commune_code: str, specs: list) -> None:
    counters = set(session.scalars(select(Counter.number).filter_by(commune_code=commune_code)))
    by_code = {c.code: c for c in session.scalars(select(Clerk).filter_by(commune_code=commune_code))}
    seen = set()
    for spec in specs:
        code = str(spec["code"]).upper()
        if not CODE_RE.match(code):
            raise ValidationError(f"Clerk code {code!r} must be 1–16 capital letters or digits.")
        row = by_code.get(code) or Clerk(commune_code=commune_code, id=str(uuid.uuid4()), code=code)
        if "pin" in spec:
            if not PIN_RE.match(str(spec["pin"])):
                raise ValidationError(f"The PIN of clerk {code} must be 4 to 8 digits.")
            row.pin_hash = hash_pin(str(spec["pin"]))
        elif spec.get("pin_hash"):
            row.pin_hash = str(spec["pin_hash"])
        elif not row.pin_hash:
            raise ValidationError(f"Clerk {code} needs a pin (4 to 8 digits).")
        counter = spec.get("counter")
        if counter is not None and int(counter) not in counters:
            raise ValidationError(f"Clerk {code} sits at counter {counter}, which the commune does not have.")
        row.name = str(spec["name"])[:200]
        row.counter_number = None if counter is None else int(counter)
        row.active = bool(spec.get("active", True))
        session.add(row)
        seen.add(code)
    _deactivate_others(session, Clerk, commune_code, seen, "code")
    session.flush()


def _import_scale(session: Session, commune_code: str, specs: list) -> None:
    if not 2 <= len(specs) <= 5:
        raise ValidationError("The rating scale needs 2 to 5 levels.")
    seen = set()
    for position, spec in enumerate(specs):
        key = str(spec["key"])
        row = session.get(ScaleLevel, (commune_code, key)) or ScaleLevel(commune_code=commune_code, key=key)
        row.label, row.points, row.position = str(spec["label"])[:100], int(spec["points"]), position
        row.active = True
        session.add(row)
        seen.add(key)
    _deactivate_others(session, ScaleLevel, commune_code, seen, "key")
    session.flush()
