"""Editing one item of a catalogue — the rules the kiosk's ``/admin`` and the central pages share.

Each function checks everything inside the caller's transaction and raises on a refusal, so the caller's
rollback leaves nothing written. Codes and numbers are fixed once created: tickets, ratings and clerk
actions refer to them, so a service or counter is switched off (``active``), never renamed or deleted.
An edit that would leave the kiosks with no service in use, no open counter for one, or no active clerk
is refused; a PIN another active clerk has is refused naming that clerk. Each change is recorded by the
store (:meth:`common.catalog_store.CatalogStore.changed`): the kiosk's undelivered items, the central
server's audit log. Refusals are :class:`ValidationError` (or :class:`NotFoundError`) whose detail carries
``msgid`` and ``params``: the English message is also the gettext msgid, so a page shows it translated.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from common.catalog_items import (
    clerk_code,
    clerk_item,
    counter_item,
    counter_number,
    service_code,
    service_item,
    site_code,
)
from common.catalog_rules import (
    MAIN_SITE,
    MAX_COUNTER,
    MAX_LABEL,
    flag,
    free_clerk_code,
    hash_pin,
    invalid,
    missing,
    pin_field,
    pin_holder,
    text_field,
    ticket_prefix,
    unusable,
    whole,
)
from common.catalog_store import CatalogStore, ClerkRow, CounterRow, ServiceRow
from common.scale import INDICATORS


def has_active_clerk(store: CatalogStore) -> bool:
    return any(clerk.active for clerk in store.clerks())


def still_usable(store: CatalogStore, had_clerk: bool) -> None:
    """Raise (so the caller's transaction is rolled back) when the catalogue as changed would be unusable."""
    store.flush()
    problem = unusable(store.snapshot(), had_clerk, store.points())
    if problem is not None:
        raise problem


def service_values(row: ServiceRow) -> dict[str, Any]:
    return {"name": row.name, "prefix": row.prefix, "daily_max": row.daily_max, "active": row.active}


def counter_label(site: str | None, number: int) -> str:
    """How a change names a counter: "3" at the commune's centre (as before points), "CN · 3" at another point."""
    return str(number) if site in (None, MAIN_SITE) else f"{site} · {number}"


def counter_values(store: CatalogStore, row: CounterRow) -> dict[str, Any]:
    return {"name": row.name, "active": row.active, "services": store.handled(row)}


def clerk_values(row: ClerkRow) -> dict[str, Any]:
    return {"name": row.name, "code": row.code, "counter": row.counter_number, "active": row.active}


# --- services ---------------------------------------------------------------------------------------


def save_service(
    store: CatalogStore,
    code: Any,
    name: Any,
    prefix: Any,
    daily_max: Any,
    active: Any,
    *,
    new: bool,
    counters: list[Any] | None = None,
) -> ServiceRow:
    """Create (``new``, in use) or update the service ``code``: name, ticket prefix, daily maximum, in use.

    ``counters`` (keys as :func:`counter_key` reads them): counters that are to handle it from now on — a
    new service needs an open counter at every reception point, or its tickets could not be called.
    """
    code = str(code or "").strip().upper()
    row = None
    if new:
        code = service_code(code)
        if store.service(code) is not None:
            raise invalid("code", "A service with code %(code)s already exists.", code=code)
    else:
        row = store.service(code)
        if row is None:
            raise store.not_found("service", code)
    item = service_item(code, name, prefix, daily_max, True if new else flag(active))
    ticket_prefix(
        item.prefix, lambda p: next((s.code for s in store.services() if s.prefix == p and s.code != code), None)
    )
    had_clerk = has_active_clerk(store)
    before = service_values(row) if row is not None else None
    if row is None:
        row = store.add_service(code, max((s.position or 0 for s in store.services()), default=0) + 1)
    row.name, row.prefix, row.daily_max, row.active = item.name, item.prefix, item.daily_max, item.active
    store.flush()
    store.changed("service", code, before, service_values(row))
    hand_to_counters(store, code, counters or [])
    still_usable(store, had_clerk)
    return row


def counter_key(value: Any) -> tuple[str | None, int]:
    """(reception point, number) of a counter as a form names it: "CN:3" at the point CN, or "3" (this kiosk's,
    or the commune's centre)."""
    site, _, number = str(value or "").strip().upper().rpartition(":")
    return (site or None), counter_number(number)


def hand_to_counters(store: CatalogStore, code: str, counters: list[Any]) -> None:
    """The counters named (see :func:`counter_key`) handle service ``code`` too; each change is recorded."""
    for key in counters:
        site, number = counter_key(key)
        row = store.counter(number, site)
        if row is None:
            raise invalid("counters", "Counter %(number)s does not exist.", number=number)
        handled = store.handled(row)
        if code in handled:
            continue
        before = counter_values(store, row)
        store.set_handled(row, sorted([*handled, code]))
        store.changed("counter", counter_label(site, number), before, counter_values(store, row))


# --- counters ---------------------------------------------------------------------------------------


def save_counter(
    store: CatalogStore,
    number: Any,
    services: list[Any] | None,
    active: Any,
    name: Any = None,
    *,
    new: bool,
    site: Any = None,
) -> CounterRow:
    """Create (``new``, open) or update a counter of reception point ``site`` (None: the commune's centre, or the
    kiosk's own): the services it handles, whether it is open, its name."""
    number = counter_number(number)
    site = site_code(site) if site not in (None, "") else None
    label = counter_label(site, number)
    row = store.counter(number, site)
    if new and row is not None:
        raise invalid("number", "Counter %(number)s already exists.", number=label)
    if not new and row is None:
        raise missing("number", "Counter %(number)s does not exist.", number=label)
    codes = [str(code) for code in services or []]
    unknown = sorted({c.strip().upper() for c in codes if c.strip() and store.service(c.strip().upper()) is None})
    if unknown:
        raise invalid("services", "Unknown service(s): %(codes)s.", codes=", ".join(unknown))
    item = counter_item(number, codes, True if new else flag(active), name, row.name if row is not None else None)
    had_clerk = has_active_clerk(store)
    before = counter_values(store, row) if row is not None else None
    row = row or store.add_counter(number, site)
    row.name, row.active = item.name, item.active
    store.set_handled(row, list(item.services))
    still_usable(store, had_clerk)
    store.changed("counter", label, before, counter_values(store, row))
    return row


# --- clerks -----------------------------------------------------------------------------------------


def _counter_of(store: CatalogStore, counter: Any) -> int | None:
    number = whole(counter, "counter", 1, MAX_COUNTER, blank_ok=True)
    if number is not None and store.counter(number) is None:
        raise invalid("counter", "Counter %(number)s does not exist.", number=number)
    return number


def refuse_taken_pin(store: CatalogStore, pin: str, exclude: str | None = None) -> None:
    """ValidationError naming the clerk who already has this PIN (a PIN must say who is signing in)."""
    other = pin_holder(store.clerks(), pin, exclude)
    if other is not None:
        raise invalid(
            "pin",
            "This PIN is already the PIN of %(name)s (%(code)s); every clerk needs a PIN of their own. Choose another.",
            name=other.name,
            code=other.code,
        )


def add_clerk(store: CatalogStore, name: Any, code: Any, counter: Any, pin: Any) -> ClerkRow:
    """A new active clerk (code CC01, CC02, … unless given) with a hashed PIN no other active clerk has."""
    name = text_field(name, "name", "Fill in the clerk's name.")
    taken = {clerk.code for clerk in store.clerks()}
    code = str(code or "").strip().upper()
    if code:
        code = clerk_code(code)
        if code in taken:
            raise invalid("code", "A clerk with code %(code)s already exists.", code=code)
    item = clerk_item(code or free_clerk_code(taken), name, _counter_of(store, counter), pin=pin_field(pin))
    refuse_taken_pin(store, item.pin)
    row = store.add_clerk(str(uuid.uuid4()), item.code)
    row.name, row.pin_hash, row.counter_number, row.active = item.name, hash_pin(item.pin), item.counter, True
    store.flush()
    store.changed("clerk", row.id, None, clerk_values(row))
    return row


def update_clerk(store: CatalogStore, clerk_id: str, name: Any, counter: Any, active: Any, pin: Any = None) -> ClerkRow:
    """Rename, move to another counter, (de)activate, or give a new PIN; the clerk keeps her id and history."""
    row = store.clerk(clerk_id)
    if row is None:
        raise store.not_found("clerk", clerk_id)
    name = text_field(name, "name", "Fill in the clerk's name.")
    number = _counter_of(store, counter)
    new_pin = pin_field(pin, required=False)
    if new_pin is not None:
        refuse_taken_pin(store, new_pin, exclude=row.id)
    had_clerk = has_active_clerk(store)
    before = clerk_values(row)
    row.name, row.counter_number, row.active = name, number, flag(active)
    if new_pin is not None:
        row.pin_hash = hash_pin(new_pin)
    still_usable(store, had_clerk)
    store.changed("clerk", row.id, before, clerk_values(row) | ({"pin": "reset"} if new_pin is not None else {}))
    return row


# --- rating wording and questions -------------------------------------------------------------------


def save_wording(store: CatalogStore, labels: Mapping[str, Any], questions: Mapping[str, Mapping[str, Any]]) -> None:
    """The labels of the rating levels (their points follow TT 01), and which questions are asked, worded how."""
    levels = {row.key: row for row in store.levels()}
    stored = {row.key: row for row in store.questions()}
    before = {
        "labels": {k: r.label for k, r in levels.items()},
        "questions": {k: [q.active, q.question, list(q.answers)] for k, q in stored.items()},
    }
    for key, label in labels.items():
        if key in levels:
            levels[key].label = text_field(
                label, f"label-{key}", "Fill in the wording of every level.", limit=MAX_LABEL
            )
    for position, indicator in enumerate(INDICATORS.values()):
        spec = questions.get(indicator.key, {})
        row = stored.get(indicator.key)
        if row is None:
            row = stored[indicator.key] = store.add_question(indicator.key)
            row.answers = list(indicator.answers)
        row.active = flag(spec.get("active"))
        text = spec.get("question") or row.question or indicator.question
        row.question = text_field(text, f"question-{indicator.key}", "Fill in the wording of every question.")
        if indicator.key != "attitude":  # its answers are the rating levels' own wording
            field = f"answer-{indicator.key}-0"
            answers = spec.get("answers") or list(row.answers or indicator.answers)
            row.answers = [
                text_field(a, field, "Fill in the wording of every answer.", limit=MAX_LABEL) for a in answers
            ]
        row.position = position
    store.flush()
    after = {
        "labels": {k: r.label for k, r in levels.items()},
        "questions": {k: [q.active, q.question, list(q.answers)] for k, q in stored.items()},
    }
    store.changed("wording", "scale, questions", before, after)
