"""Reading a whole catalogue — the settings `kiosk init` seeds, ``import-config``, a kiosk's upload, the
commune's document a kiosk takes down — into checked items, before anything is written.

Every entry is checked with the item rules (:mod:`common.catalog_items`), and what needs the whole catalogue
with them: a code or number listed twice, a counter handling a service the catalogue does not have, a clerk
at a counter it does not have, 2 to 5 rating levels in use, no more entries than a section may hold.
:mod:`common.catalog_apply` then writes the items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.catalog_items import (
    ClerkItem,
    CounterItem,
    LevelItem,
    QuestionItem,
    ServiceItem,
    clerk_item,
    counter_item,
    entries,
    entry,
    level_item,
    once,
    question_item,
    service_item,
)
from common.catalog_rules import MAX_LEVELS, MIN_LEVELS, doc_flag, invalid
from common.catalog_store import CatalogStore
from common.scale import INDICATORS, levels_from_settings

SECTIONS = ("services", "counters", "clerks", "scale", "questions")


@dataclass
class Catalog:
    """A catalogue's checked items; a section the document did not have is None (left as the store has it)."""

    services: list[ServiceItem] | None = None
    counters: list[CounterItem] | None = None
    clerks: list[ClerkItem] | None = None
    scale: list[LevelItem] | None = None
    questions: list[QuestionItem] | None = None

    def sections(self) -> list[str]:
        return [part for part in SECTIONS if getattr(self, part) is not None]


def read_catalog(
    doc: Mapping[str, Any],
    store: CatalogStore | None,
    *,
    by_id: bool = True,
    skip_unknown_questions: bool = False,
) -> Catalog:
    """The sections ``doc`` has, every entry checked (ValidationError naming the entry otherwise).

    A counter's services and a clerk's counter are looked up in ``doc``, or in ``store`` when ``doc`` does not
    list them (``store`` None: nothing else exists).

    ``by_id``: clerks are listed with their ids and PIN hashes (a document); otherwise by code, with a PIN or
    its hash (``import-config``). ``skip_unknown_questions``: a question this software does not know is left
    out rather than refused (a newer server's document).
    """
    parts = [part for part in SECTIONS if part in doc]
    catalog = Catalog()
    if "services" in parts:
        catalog.services = _services(doc)
    listed = catalog.services if catalog.services is not None else store.services() if store else []
    codes = {s.code for s in listed}
    if "counters" in parts:
        catalog.counters = _counters(doc, codes, sorted(s.code for s in listed if s.active))
    counters = catalog.counters if catalog.counters is not None else store.counters() if store else []
    numbers = {c.number for c in counters}
    if "clerks" in parts:
        catalog.clerks = _clerks(doc, numbers, by_id)
    if "scale" in parts:
        catalog.scale = _scale(doc)
    if "questions" in parts:
        catalog.questions = _questions(doc, skip_unknown_questions)
    return catalog


def _services(doc: Mapping[str, Any]) -> list[ServiceItem]:
    items, seen = [], set()
    for i, spec in enumerate(entries(doc, "services")):
        with entry("services", i, spec.get("code")):
            item = service_item(
                spec.get("code"),
                spec.get("name"),
                spec.get("prefix"),
                spec.get("daily_max"),
                doc_flag(spec.get("active")),
            )
            once(seen, item.code, invalid("code", "Service %(code)s appears twice.", code=item.code))
        items.append(item)
    return items


def _counters(doc: Mapping[str, Any], codes: set[str], in_use: list[str]) -> list[CounterItem]:
    """Counters, each at its reception point (listed without one: the commune's centre); one listed without its
    services handles every service in use."""
    items, seen = [], set()
    for i, spec in enumerate(entries(doc, "counters")):
        with entry("counters", i, spec.get("number")):
            handled = spec["services"] if "services" in spec else in_use
            active = doc_flag(spec.get("active"))
            item = counter_item(spec.get("number"), handled, active, spec.get("name"), site=spec.get("site"))
            unknown = [code for code in item.services if code not in codes]
            if unknown:
                raise invalid("services", "Unknown service(s): %(codes)s.", codes=", ".join(unknown))
            twice = invalid("number", "Counter %(number)s appears twice.", number=f"{item.site} · {item.number}")
            once(seen, (item.site, item.number), twice)
        items.append(item)
    return items


def _clerks(doc: Mapping[str, Any], numbers: set[int], by_id: bool) -> list[ClerkItem]:
    items, codes, ids = [], set(), set()
    for i, spec in enumerate(entries(doc, "clerks")):
        with entry("clerks", i, spec.get("code")):
            item = clerk_item(
                spec.get("code"),
                spec.get("name"),
                spec.get("counter"),
                doc_flag(spec.get("active")),
                clerk_id=spec.get("id", "") if by_id else None,
                pin=None if by_id else spec.get("pin"),
                pin_hash=spec.get("pin_hash", "" if by_id else None),
            )
            if item.counter is not None and item.counter not in numbers:
                raise invalid("counter", "Counter %(number)s does not exist.", number=item.counter)
            once(codes, item.code, invalid("code", "Clerk code %(code)s appears twice.", code=item.code))
            if by_id:
                once(ids, item.id, invalid("id", "Clerk %(id)s appears twice.", id=item.id))
        items.append(item)
    return items


def _scale(doc: Mapping[str, Any]) -> list[LevelItem]:
    """The levels in use, in order (2 to 5)."""
    items, seen = [], set()
    for i, spec in enumerate(entries(doc, "scale")):
        with entry("scale", i, spec.get("key")):
            if not doc_flag(spec.get("active")):
                continue
            item = level_item(spec.get("key"), spec.get("label"), spec.get("points"))
            once(seen, item.key, invalid("key", "Level %(key)s appears twice.", key=item.key))
        items.append(item)
    if not MIN_LEVELS <= len(items) <= MAX_LEVELS:
        raise invalid(
            "scale", "The rating scale needs %(low)s to %(high)s levels in use.", low=MIN_LEVELS, high=MAX_LEVELS
        )
    return items


def _questions(doc: Mapping[str, Any], skip_unknown: bool) -> list[QuestionItem]:
    items, seen = [], set()
    for i, spec in enumerate(entries(doc, "questions")):
        if skip_unknown and spec.get("key") not in INDICATORS:
            continue  # a question this software does not know is not asked
        with entry("questions", i, spec.get("key")):
            item = question_item(
                spec.get("key"), spec.get("question"), spec.get("answers"), doc_flag(spec.get("active"))
            )
            once(seen, item.key, invalid("key", "Question %(key)s appears twice.", key=item.key))
        items.append(item)
    return items


def from_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The catalogue the settings describe (services, counters, rating scale), as a document to apply."""
    levels = levels_from_settings(settings)
    return {
        "services": settings["services"],
        "counters": settings["counters"],
        "scale": [{"key": level.key, "label": level.label, "points": level.points} for level in levels],
    }
