"""Applying a whole catalogue to a store — `kiosk init`'s settings, ``import-config``, a kiosk's upload at the
central server, and the commune's document a kiosk takes down all go through here.

The catalogue is first read and checked (:func:`common.catalog_read.read_catalog`). :func:`apply_catalog` then
writes what a :class:`Policy` says — every item (``import-config``), what the kiosk did not edit itself (the
commune's document), the items a kiosk changed (its upload), only what is missing (`kiosk init`) — and
:func:`check_applied` refuses a result with a service written on another's ticket prefix, or one that would
leave the kiosks unusable. Clerks are matched by code here (``import-config``); who a clerk of a document is
(her id, a code another clerk has) is the caller's business, through :func:`write_clerk`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from common.catalog_edit import clerk_values, counter_label, counter_values, has_active_clerk, service_values
from common.catalog_items import ClerkItem, CounterItem, LevelItem, QuestionItem, ServiceItem
from common.catalog_read import Catalog
from common.catalog_rules import hash_pin, invalid, pin_matches, prefix_taken, unusable
from common.catalog_store import CatalogStore, ClerkRow
from common.scale import INDICATORS

# --- writing ------------------------------------------------------------------------------------------


def _always(*_: Any) -> bool:
    return True


@dataclass(frozen=True)
class Policy:
    """What an application writes.

    ``write(item, exists)``: write a listed item (``service:HT``, ``counter:1``, ``scale``, ``questions``)?
    ``retire(item)``: deactivate an item the catalogue does not list? ``ordered``: services take their
    position from the list (else a new one goes last and the others keep theirs).
    """

    write: Callable[[str, bool], bool] = _always
    retire: Callable[[str], bool] = _always
    ordered: bool = True


@dataclass
class Applied:
    """What an application wrote: the services (for the prefix rule of :func:`check_applied`)."""

    services: set[str] = field(default_factory=set)


def apply_catalog(store: CatalogStore, catalog: Catalog, policy: Policy = Policy()) -> Applied:
    """Write the services, counters, scale and questions of ``catalog`` as ``policy`` says (clerks: the caller's)."""
    applied = Applied()
    if catalog.services is not None:
        applied.services = _write_services(store, catalog.services, policy)
    if catalog.counters is not None:
        _write_counters(store, catalog.counters, policy)
    if catalog.scale is not None:
        _write_scale(store, catalog.scale, policy)
    if catalog.questions is not None:
        _write_questions(store, catalog.questions, policy)
    store.flush()
    return applied


def _write_services(store: CatalogStore, items: list[ServiceItem], policy: Policy) -> set[str]:
    rows = {row.code: row for row in store.services()}
    last = max((row.position or 0 for row in rows.values()), default=0)
    written = set()
    for position, item in enumerate(items):
        row = rows.get(item.code)
        if not policy.write(f"service:{item.code}", row is not None):
            continue
        before = service_values(row) if row is not None else None
        if row is None:
            last += 1
            row = rows[item.code] = store.add_service(item.code, position if policy.ordered else last)
        row.name, row.prefix, row.daily_max, row.active = item.name, item.prefix, item.daily_max, item.active
        if policy.ordered:
            row.position = position
        _changed(store, "service", item.code, before, service_values(row))
        written.add(item.code)
    listed = {item.code for item in items}
    for code, row in rows.items():
        if code not in listed and row.active and policy.retire(f"service:{code}"):
            before = service_values(row)
            row.active = False
            _changed(store, "service", code, before, service_values(row))
    store.flush()
    return written


def _write_counters(store: CatalogStore, items: list[CounterItem], policy: Policy) -> None:
    """Counters by (reception point, number); the items ``policy`` names ``counter:N``."""
    rows = {(store.site_of(row), row.number): row for row in store.counters()}
    for item in items:
        row = rows.get((item.site, item.number))
        if not policy.write(f"counter:{item.number}", row is not None):
            continue
        before = counter_values(store, row) if row is not None else None
        row = row or store.add_counter(item.number, item.site)
        row.name, row.active = item.name, item.active
        store.set_handled(row, list(item.services))
        _changed(store, "counter", counter_label(item.site, item.number), before, counter_values(store, row))
    listed = {(item.site, item.number) for item in items}
    for (site, number), row in rows.items():
        if (site, number) not in listed and row.active and policy.retire(f"counter:{number}"):
            before = counter_values(store, row)
            row.active = False
            _changed(store, "counter", counter_label(site, number), before, counter_values(store, row))
    store.flush()


def _write_scale(store: CatalogStore, items: list[LevelItem], policy: Policy) -> None:
    """The scale as one item: the levels listed, in order; the others out of use."""
    rows = {row.key: row for row in store.levels()}
    if not policy.write("scale", any(row.active for row in rows.values())):
        return
    before = {k: [r.label, r.points, r.position, r.active] for k, r in rows.items()}
    for position, item in enumerate(items):
        row = rows.get(item.key) or store.add_level(item.key)
        row.label, row.points, row.position, row.active = item.label, item.points, position, True
        rows[item.key] = row
    listed = {item.key for item in items}
    for key, row in rows.items():
        if key not in listed:
            row.active = False
    _changed(store, "scale", "scale", before, {k: [r.label, r.points, r.position, r.active] for k, r in rows.items()})


def _write_questions(store: CatalogStore, items: list[QuestionItem], policy: Policy) -> None:
    """The questions asked, in order; a TT 01 question left out is not asked (never deleted)."""
    rows = {row.key: row for row in store.questions()}
    before = {k: [r.active, r.question, list(r.answers), r.position] for k, r in rows.items()}
    for position, item in enumerate(items):
        row = rows.get(item.key)
        if not policy.write("questions", row is not None):
            continue
        row = rows[item.key] = row or store.add_question(item.key)
        row.question, row.answers, row.position, row.active = item.question, list(item.answers), position, item.active
    if policy.retire("questions"):
        listed = {item.key for item in items}
        for position, indicator in enumerate(INDICATORS.values(), start=len(items)):
            if indicator.key not in rows:  # every TT 01 question has its row, asked or not
                row = rows[indicator.key] = store.add_question(indicator.key)
                row.question, row.answers, row.position = indicator.question, list(indicator.answers), position
            if indicator.key not in listed:
                rows[indicator.key].active = False
    after = {k: [r.active, r.question, list(r.answers), r.position] for k, r in rows.items()}
    _changed(store, "questions", "questions", before, after)


def _changed(store: CatalogStore, kind: str, key: str, before: dict | None, after: dict) -> None:
    if before != after:
        store.changed(kind, key, before, after)


# --- clerks -------------------------------------------------------------------------------------------


def write_clerk(store: CatalogStore, row: ClerkRow, item: ClerkItem) -> None:
    """Give ``row`` what ``item`` lists (a typed PIN is hashed; without a PIN or hash the stored one is kept)."""
    before = clerk_values(row) if row.name is not None else None
    old_hash = row.pin_hash
    row.name, row.counter_number, row.active = item.name, item.counter, item.active
    if item.pin is not None:
        row.pin_hash = hash_pin(item.pin)
    elif item.pin_hash is not None:
        row.pin_hash = item.pin_hash
    elif not row.pin_hash:
        raise invalid("pin", "Clerk %(code)s needs a PIN (4 to 8 digits).", code=row.code)
    reset = {"pin": "reset"} if before is not None and row.pin_hash != old_hash else {}
    _changed(store, "clerk", row.id, before, clerk_values(row) | reset)


def import_clerks(store: CatalogStore, items: list[ClerkItem]) -> None:
    """Clerks by code (``import-config``): a code the commune has is the same person; the others listed are new,
    the ones not listed are deactivated. No two active clerks may share a PIN."""
    by_code = {row.code: row for row in store.clerks()}
    for item in items:
        row = by_code.get(item.code)
        if row is None:
            row = by_code[item.code] = store.add_clerk(str(uuid.uuid4()), item.code)
        write_clerk(store, row, item)
    listed = {item.code for item in items}
    for code, row in by_code.items():
        if code not in listed and row.active:
            before = clerk_values(row)
            row.active = False
            _changed(store, "clerk", row.id, before, clerk_values(row))
    store.flush()
    refuse_shared_pins(store, {item.code: item.pin for item in items if item.pin is not None})


def refuse_shared_pins(store: CatalogStore, typed: Mapping[str, str]) -> None:
    """No two active clerks with one PIN: typed PINs compared as typed, else against the stored hashes."""
    active = {clerk.code: clerk for clerk in store.clerks() if clerk.active}
    codes = sorted(code for code in typed if code in active)
    for i, code in enumerate(codes):
        for other in codes[:i]:
            if typed[other] == typed[code]:
                raise _shared(active[code], active[other])
        for other, clerk in sorted(active.items()):
            if other not in typed and pin_matches(clerk, typed[code]):
                raise _shared(active[code], clerk)


def _shared(clerk: ClerkRow, other: ClerkRow):
    return invalid(
        "pin",
        "The PIN of %(name)s (%(code)s) is already the PIN of %(other)s (%(other_code)s); every clerk needs a "
        "PIN of their own.",
        name=clerk.name,
        code=clerk.code,
        other=other.name,
        other_code=other.code,
    )


# --- the result -----------------------------------------------------------------------------------------


def check_applied(store: CatalogStore, written: Iterable[str], had_clerk: bool) -> None:
    """Refuse what an application left: a service it wrote on another's ticket prefix, or an unusable catalogue."""
    store.flush()
    services = sorted(store.services(), key=lambda s: s.code)
    for code in sorted(written):
        service = next(s for s in services if s.code == code)
        other = next((s.code for s in services if s.prefix == service.prefix and s.code != code), None)
        if other is not None:
            raise prefix_taken(service.prefix, other)
    problem = unusable(store.snapshot(), had_clerk, store.points())
    if problem is not None:
        raise problem


__all__ = [
    "Applied",
    "Policy",
    "apply_catalog",
    "check_applied",
    "has_active_clerk",
    "import_clerks",
    "refuse_shared_pins",
    "write_clerk",
]
