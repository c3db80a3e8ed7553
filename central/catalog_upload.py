"""A kiosk's catalogue arriving at the central server (``POST /api/v1/catalog``): adopted, merged, or matched.

* **Adopted** — the commune has only the catalogue seeded when it was created, and is kiosk-managed: the
  kiosk's services, counters, clerks (with their ids and PIN hashes), scale and questions become the
  commune's. Nothing on the kiosk changes when it then applies the commune's document.
* **Merged** — the commune is kiosk-managed and already has its catalogue: the items the kiosk edited at
  `/admin` since its last delivery (``changed``) replace the commune's, item by item (the last edit wins).
* **Joined** — whatever the owner, a clerk the commune does not know is matched with one of its clerks
  (``central.identity``: one alias, one person in reports) or added as a new clerk, so that nobody who
  could sign in at a kiosk is locked out when it joins. While the commune is centrally managed the kiosk's
  other items are ignored: the commune's catalogue is edited on the central pages.

The same catalogue (by digest) sent again is not merged again: a kiosk that lost the answer resends it, and
the second delivery changes nothing. Every change is in the audit log, with the kiosk as the actor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit
from central.catalog import replace
from central.identity import match_person
from central.models import Clerk, ClerkAlias, Counter, CounterService, Service
from common.catalog_rules import CODE_RE
from common.errors import ValidationError
from common.scale import INDICATORS
from sync import protocol

CHANGED_RE = re.compile(r"^(service:[A-Z0-9]{1,16}|counter:[0-9]{1,4}|clerk:[0-9a-f-]{36}|scale|questions)$")


def _checked(value: Any, limit: int, what: str, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or (not empty_ok and not value.strip()):
        raise ValidationError(f"The kiosk's catalogue has a bad {what}: {value!r}.")
    return value


def check_upload(catalog: Any, changed: Any) -> tuple[dict[str, Any], set[str]]:
    """The uploaded catalogue and changed items, checked field by field (ValidationError otherwise)."""
    if not isinstance(catalog, Mapping) or not all(isinstance(catalog.get(p), list) for p in ("services", "counters")):
        raise ValidationError("The kiosk's catalogue must have services, counters, clerks and scale lists.")
    for part in ("clerks", "scale", "questions"):
        if not isinstance(catalog.get(part, []), list) or not all(
            isinstance(x, Mapping) for x in catalog.get(part, [])
        ):
            raise ValidationError(f"The kiosk's catalogue has no {part} list.")
    if not isinstance(changed, list) or not all(isinstance(c, str) and CHANGED_RE.match(c) for c in changed):
        raise ValidationError("'changed' must list items such as service:HT, counter:1, clerk:<id>, scale.")
    codes = set()
    for s in catalog["services"]:
        if not isinstance(s, Mapping) or not isinstance(s.get("code"), str) or not CODE_RE.match(s["code"]):
            raise ValidationError(f"The kiosk's catalogue has a bad service code: {s!r}.")
        _checked(s.get("name"), 200, "service name")
        _checked(s.get("prefix") or "", 4, "ticket prefix", empty_ok=True)
        if s.get("daily_max") is not None and (type(s["daily_max"]) is not int or not 0 < s["daily_max"] < 100_000):
            raise ValidationError(f"Service {s['code']} has a bad daily maximum.")
        codes.add(s["code"])
    for c in catalog["counters"]:
        if not isinstance(c, Mapping) or type(c.get("number")) is not int or not 0 < c["number"] < 10_000:
            raise ValidationError(f"The kiosk's catalogue has a bad counter: {c!r}.")
        if not isinstance(c.get("services", []), list) or set(c.get("services", [])) - codes:
            raise ValidationError(f"Counter {c['number']} handles unknown service(s).")
        _checked(c.get("name") or "", 100, "counter name", empty_ok=True)
    numbers = {c["number"] for c in catalog["counters"]}
    for c in catalog.get("clerks", []):
        if not isinstance(c.get("id"), str) or not protocol.UUID_RE.match(c["id"]):
            raise ValidationError(f"The kiosk's catalogue has a clerk with a bad id: {c.get('id')!r}.")
        _checked(c.get("code"), 32, "clerk code")
        _checked(c.get("name"), 200, "clerk name")
        _checked(c.get("pin_hash"), 200, "PIN hash")
        if c.get("counter") is not None and c["counter"] not in numbers:
            raise ValidationError(f"Clerk {c['code']} sits at counter {c['counter']}, which the kiosk does not list.")
    levels = [lv for lv in catalog.get("scale", []) if lv.get("active", True)]
    if not 2 <= len(levels) <= 5 or not all(
        isinstance(lv.get("key"), str) and isinstance(lv.get("label"), str) and type(lv.get("points")) is int
        for lv in levels
    ):
        raise ValidationError("The kiosk's rating scale needs 2 to 5 levels with a label and points.")
    for q in catalog.get("questions", []):
        if q.get("key") not in INDICATORS:
            raise ValidationError(f"The kiosk's catalogue has an unknown question {q.get('key')!r}.")
    return dict(catalog), set(changed)


def receive(
    session: Session,
    commune_code: str,
    device_id: str,
    device_name: str,
    catalog: Mapping[str, Any],
    changed: set[str],
    now: datetime,
) -> str:
    """Take a kiosk's catalogue in (caller's transaction); returns "adopted", "merged" or "joined"."""
    actor = audit.Actor(f"kiosk {device_name}", central=False)
    commune = audit.commune_for_change(session, commune_code, actor, now)
    if commune.catalog_owner == "kiosk" and commune.catalog_adopted_at is None:
        _adopt(session, commune_code, catalog)
        commune.catalog_adopted_at = now
        counts = {part: len(catalog.get(part, [])) for part in ("services", "counters", "clerks")}
        audit.record(session, commune_code, actor, "adopt", "catalog", now, counts)
        return "adopted"
    _join_clerks(session, commune_code, device_id, catalog.get("clerks", []), actor, now)
    if commune.catalog_owner != "kiosk":
        return "joined"
    _merge(session, commune_code, catalog, changed, actor, now)
    return "merged"


def _adopt(session: Session, commune_code: str, catalog: Mapping[str, Any]) -> None:
    doc = {
        "services": catalog["services"],
        "counters": [{**c, "services": c.get("services", [])} for c in catalog["counters"]],
        "scale": [lv for lv in catalog.get("scale", []) if lv.get("active", True)],
    }
    if catalog.get("questions"):
        doc["questions"] = [q for q in catalog["questions"] if q.get("active", True)]
    replace(session, commune_code, doc)
    for spec in catalog.get("clerks", []):
        _put_clerk(session, commune_code, spec, session.get(Clerk, (commune_code, spec["id"])))


def _put_clerk(session: Session, commune_code: str, spec: Mapping[str, Any], row: Clerk | None) -> Clerk:
    """Create or update a clerk from a kiosk's entry; a code another clerk has gets the next free CCnn."""
    row = row or Clerk(commune_code=commune_code, id=spec["id"])
    taken = set(session.scalars(select(Clerk.code).where(Clerk.commune_code == commune_code, Clerk.id != row.id)))
    code = spec["code"] if spec["code"] not in taken else None
    if code is None and row.code and row.code not in taken:
        code = row.code
    row.code = code or next(f"CC{n:02d}" for n in range(1, 10_000) if f"CC{n:02d}" not in taken)
    row.name, row.pin_hash = spec["name"][:200], spec["pin_hash"]
    counter = spec.get("counter")
    row.counter_number = counter if counter is not None and session.get(Counter, (commune_code, counter)) else None
    row.active = bool(spec.get("active", True))
    session.add(row)
    session.flush()
    return row


def _join_clerks(
    session: Session, commune_code: str, device_id: str, specs: list, actor: audit.Actor, now: datetime
) -> None:
    clerks = {c.id: c for c in session.scalars(select(Clerk).where(Clerk.commune_code == commune_code))}
    aliases = set(session.scalars(select(ClerkAlias.alias_id).where(ClerkAlias.commune_code == commune_code)))
    for spec in specs:
        if spec["id"] in clerks or spec["id"] in aliases:
            continue
        active = [c for c in clerks.values() if c.active]
        found = match_person(active, spec["name"], spec["code"]) or match_person(
            clerks.values(), spec["name"], spec["code"]
        )
        if found is not None:
            person, how = found
            session.add(
                ClerkAlias(
                    commune_code=commune_code,
                    alias_id=spec["id"],
                    clerk_id=person.id,
                    device_id=device_id,
                    matched_by=how,
                    created_at=now,
                )
            )
            aliases.add(spec["id"])
            detail = {"alias": spec["id"], "kiosk_name": spec["name"], "kiosk_code": spec["code"], "by": how}
            audit.record(session, commune_code, actor, "alias", f"{person.code} {person.name}", now, detail)
            continue
        row = _put_clerk(session, commune_code, spec, None)
        clerks[row.id] = row
        audit.record(session, commune_code, actor, "add", f"{row.code} {row.name}", now, {"from_kiosk": True})
    session.flush()


def _merge(
    session: Session,
    commune_code: str,
    catalog: Mapping[str, Any],
    changed: set[str],
    actor: audit.Actor,
    now: datetime,
) -> None:
    """The items the kiosk edited, item by item; what it did not edit stays as the commune has it."""
    services = {s["code"]: (i, s) for i, s in enumerate(catalog["services"])}
    for code, (position, spec) in services.items():
        if f"service:{code}" not in changed:
            continue
        row = session.get(Service, (commune_code, code)) or Service(commune_code=commune_code, code=code)
        row.name, row.prefix = spec["name"][:200], (spec.get("prefix") or "")[:4]
        row.daily_max, row.active = spec.get("daily_max"), bool(spec.get("active", True))
        if row.position is None:
            row.position = position
        session.add(row)
        audit.record(session, commune_code, actor, "service", code, now, dict(spec))
    session.flush()
    known = set(session.scalars(select(Service.code).where(Service.commune_code == commune_code)))
    for spec in catalog["counters"]:
        if f"counter:{spec['number']}" not in changed:
            continue
        number = spec["number"]
        row = session.get(Counter, (commune_code, number)) or Counter(commune_code=commune_code, number=number)
        row.name, row.active = (spec.get("name") or f"Quầy {number}")[:100], bool(spec.get("active", True))
        session.add(row)
        session.flush()
        for link in session.scalars(select(CounterService).filter_by(commune_code=commune_code, counter_number=number)):
            session.delete(link)
        session.flush()
        for code in sorted(set(spec.get("services", [])) & known):
            session.add(CounterService(commune_code=commune_code, counter_number=number, service_code=code))
        audit.record(session, commune_code, actor, "counter", str(number), now, dict(spec))
    session.flush()
    for spec in catalog.get("clerks", []):
        row = session.get(Clerk, (commune_code, spec["id"]))
        if row is None or f"clerk:{spec['id']}" not in changed:
            continue
        before = (row.code, row.name, row.pin_hash, row.counter_number, row.active)
        _put_clerk(session, commune_code, spec, row)
        if (row.code, row.name, row.pin_hash, row.counter_number, row.active) != before:  # not just added
            detail = {k: v for k, v in spec.items() if k != "pin_hash"}
            audit.record(session, commune_code, actor, "clerk", f"{row.code} {row.name}", now, detail)
    parts = {}
    if "scale" in changed:
        parts["scale"] = [lv for lv in catalog.get("scale", []) if lv.get("active", True)]
    if "questions" in changed and catalog.get("questions"):
        parts["questions"] = [q for q in catalog["questions"] if q.get("active", True)]
    if parts:
        replace(session, commune_code, parts)
        for part in parts:
            audit.record(session, commune_code, actor, part, part, now, {part: parts[part]})
