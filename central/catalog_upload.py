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

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit
from central.catalog_store import CentralStore
from central.clerk_ownership import check_clerk_changes, mark_origin
from central.identity import match_person
from central.models import MAIN_SITE, Clerk, ClerkAlias, Device
from common.catalog_apply import Policy, apply_catalog, check_applied, has_active_clerk, write_clerk
from common.catalog_items import ClerkItem
from common.catalog_read import Catalog, read_catalog
from common.catalog_rules import free_clerk_code
from common.errors import ValidationError

CHANGED_RE = re.compile(r"^(service:[A-Z0-9]{1,16}|counter:[0-9]{1,4}|clerk:[0-9a-f-]{36}|scale|questions)$")


def check_upload(catalog: Any, changed: Any) -> tuple[Catalog, set[str]]:
    """The uploaded catalogue, every entry checked by the catalogue's rules, and the items the kiosk changed.

    ValidationError (naming the entry) otherwise. The kiosk sends its whole catalogue: services, counters and
    the rating scale; clerks and questions when it has them.
    """
    if not isinstance(catalog, Mapping) or not all(isinstance(catalog.get(p), list) for p in ("services", "counters")):
        raise ValidationError("The kiosk's catalogue must have services, counters, clerks and scale lists.")
    if not isinstance(changed, list) or not all(isinstance(c, str) and CHANGED_RE.match(c) for c in changed):
        raise ValidationError("'changed' must list items such as service:HT, counter:1, clerk:<id>, scale.")
    doc = {"clerks": [], "scale": [], **catalog}
    try:
        return read_catalog(doc, None, by_id=True), set(changed)
    except ValidationError as exc:
        raise ValidationError(f"The kiosk's catalogue is refused: {exc.message}", exc.detail) from exc


def receive(
    session: Session,
    commune_code: str,
    device_id: str,
    device_name: str,
    catalog: Catalog,
    changed: set[str],
    now: datetime,
) -> str:
    """Take a kiosk's catalogue in (caller's transaction); returns "adopted", "merged" or "joined"."""
    actor = audit.Actor(f"kiosk {device_name}", central=False)
    commune = audit.commune_for_change(session, commune_code, actor, now)
    store = CentralStore(session, commune_code)
    catalog = at_kiosk_point(session, device_id, catalog)
    clerks = catalog.clerks or []
    if commune.catalog_owner == "kiosk" and commune.catalog_adopted_at is None:
        _adopt(store, catalog, device_id)
        commune.catalog_adopted_at = now
        counts = {part: len(getattr(catalog, part) or []) for part in ("services", "counters", "clerks")}
        audit.record(session, commune_code, actor, "adopt", "catalog", now, counts)
        return "adopted"
    if commune.catalog_owner == "kiosk":
        check_clerk_changes(store, device_id, catalog, changed)  # before anything of it is written
    _join_clerks(store, device_id, clerks, actor, now)
    if commune.catalog_owner != "kiosk":
        return "joined"
    _merge(CentralStore(session, commune_code, (actor, now)), catalog, changed)
    return "merged"


def _adopt(store: CentralStore, catalog: Catalog, device_id: str) -> None:
    """The kiosk's catalogue becomes the commune's: what the commune had and the kiosk does not list is retired."""
    had_clerk = has_active_clerk(store)
    applied = apply_catalog(store, dataclasses.replace(catalog, clerks=None))
    for item in catalog.clerks or []:
        mark_origin(_put_clerk(store, item, store.clerk(item.id)), device_id)
    check_applied(store, applied.services, had_clerk)


def _put_clerk(store: CentralStore, item: ClerkItem, row: Clerk | None) -> Clerk:
    """Create or update a clerk from a kiosk's entry; a code another clerk has gets the next free CCnn."""
    taken = {c.code for c in store.clerks() if row is None or c.id != row.id}
    code = item.code if item.code not in taken else None
    if code is None and row is not None and row.code not in taken:
        code = row.code
    code = code or free_clerk_code(taken)
    numbers = {c.number for c in store.counters()}  # her usual counter, at whichever point
    counter = item.counter if item.counter in numbers else None
    row = row or store.add_clerk(item.id, code)
    row.code = code
    write_clerk(store, row, dataclasses.replace(item, counter=counter))
    store.flush()
    return row


def _join_clerks(
    store: CentralStore, device_id: str, items: list[ClerkItem], actor: audit.Actor, now: datetime
) -> None:
    session, commune_code = store.session, store.commune
    clerks = {c.id: c for c in store.clerks()}
    aliases = set(session.scalars(select(ClerkAlias.alias_id).where(ClerkAlias.commune_code == commune_code)))
    for item in items:
        if item.id in clerks or item.id in aliases:
            continue
        active = [c for c in clerks.values() if c.active]
        found = match_person(active, item.name, item.code) or match_person(clerks.values(), item.name, item.code)
        if found is not None:
            person, how = found
            session.add(
                ClerkAlias(
                    commune_code=commune_code,
                    alias_id=item.id,
                    clerk_id=person.id,
                    device_id=device_id,
                    matched_by=how,
                    created_at=now,
                )
            )
            aliases.add(item.id)
            detail = {"alias": item.id, "kiosk_name": item.name, "kiosk_code": item.code, "by": how}
            audit.record(session, commune_code, actor, "alias", f"{person.code} {person.name}", now, detail)
            continue
        row = _put_clerk(store, item, None)
        mark_origin(row, device_id)
        clerks[row.id] = row
        audit.record(session, commune_code, actor, "add", f"{row.code} {row.name}", now, {"from_kiosk": True})
    session.flush()


def _merge(store: CentralStore, catalog: Catalog, changed: set[str]) -> None:
    """The items the kiosk edited, item by item, by the same rules; what it did not edit stays as the commune has it.

    The scale and the questions are each one item (the kiosk's replace the commune's); a counter keeps only the
    services the commune has. Every change is in the audit log (``store`` keeps it), with the kiosk as the actor.
    """
    had_clerk = has_active_clerk(store)
    services = Catalog(services=catalog.services, scale=catalog.scale)
    policy = Policy(write=lambda item, exists: item in changed, retire=lambda item: False, ordered=False)
    applied = apply_catalog(store, services, policy)
    known = {s.code for s in store.services()}
    counters = [
        dataclasses.replace(c, services=tuple(x for x in c.services if x in known)) for c in catalog.counters or []
    ]
    apply_catalog(store, Catalog(counters=counters), _counter_policy(store, counters, changed))
    if "questions" in changed and catalog.questions:
        apply_catalog(store, Catalog(questions=catalog.questions))
    for item in catalog.clerks or []:
        row = store.clerk(item.id)
        if row is not None and f"clerk:{item.id}" in changed:
            _put_clerk(store, item, row)
    check_applied(store, applied.services, had_clerk)


def _counter_policy(store: CentralStore, counters: list, changed: set[str]) -> Policy:
    """The counters a kiosk edited; all of them when its reception point has none yet (a point joining the
    commune brings its counters, as the first kiosk's catalogue is adopted)."""
    points = {store.site_of(row) for row in store.counters()}
    joining = bool(counters) and counters[0].site not in points
    return Policy(write=lambda item, exists: joining or item in changed, retire=lambda item: False, ordered=False)


def at_kiosk_point(session: Session, device_id: str, catalog: Catalog) -> Catalog:
    """A kiosk's counters are those of the reception point it stands at, whatever its catalogue says."""
    device = session.get(Device, device_id)
    site = device.site_code if device is not None else MAIN_SITE
    counters = [dataclasses.replace(c, site=site) for c in catalog.counters or []]
    return dataclasses.replace(catalog, counters=counters if catalog.counters is not None else None)
