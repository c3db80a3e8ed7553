"""Applying the commune's catalogue document on the kiosk: all of it in one transaction, or none.

Services, counters and clerks the document does not list are deactivated, never deleted (records refer to
them) — except what was edited here and not yet delivered while the kiosk owns the catalogue, and clerks the
server has not heard of yet: nothing a person relies on disappears because the server has not seen it. A
clerk the server matched with one of the commune's clerks (``aliases``) is deactivated here: the same person
signs in as the commune's clerk, with the commune's PIN. Counters keep their paused flag.

A document that would leave the kiosk with no service in use, no open counter for one, or no active clerk
(when it has one) is refused: nothing is changed, the refusal is logged, kept for `/healthz` and `/admin`,
and told to the server at the next exchange. After a change, :meth:`kiosk.app.Kiosk.reload_catalog`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common.catalog_rules import CODE_RE, unusable
from common.errors import ValidationError
from kiosk import catalog_state as state
from kiosk.catalog import has_active_clerk
from kiosk.db import transaction
from kiosk.models import Clerk, Counter, Question, Service
from kiosk.scale import INDICATORS, Level, seed_levels
from sync import catalog_document

log = logging.getLogger(__name__)


class CatalogRefused(ValidationError):
    """The commune's catalogue would leave this kiosk unusable (or is malformed): it was not applied."""

    code = "catalog_refused"


def check_catalog(doc: Any) -> None:
    """Refuse a document that is malformed or would break the kiosk's tables."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("version"), str):
        raise CatalogRefused("The commune's catalogue is not an object with a version.")
    for part in ("services", "counters", "clerks", "scale"):
        if not isinstance(doc.get(part), list) or not all(isinstance(x, Mapping) for x in doc[part]):
            raise CatalogRefused(f"The commune's catalogue has no {part} list.")
    if not all(isinstance(s.get("code"), str) and CODE_RE.match(s["code"]) for s in doc["services"]):
        raise CatalogRefused("The commune's catalogue has a service without a valid code.")
    codes = {s["code"] for s in doc["services"]}
    counters = set()
    for counter in doc["counters"]:
        if type(counter.get("number")) is not int:
            raise CatalogRefused(f"Counter {counter.get('number')!r} of the commune's catalogue is not a number.")
        unknown = set(counter.get("services") or []) - codes
        if unknown:
            raise CatalogRefused(f"Counter {counter['number']} handles unknown service(s) {sorted(unknown)}.")
        counters.add(counter["number"])
    for clerk in doc["clerks"]:
        if not all(isinstance(clerk.get(k), str) and clerk[k] for k in ("id", "code", "name", "pin_hash")):
            raise CatalogRefused("A clerk of the commune's catalogue lacks an id, code, name or PIN hash.")
        if clerk.get("counter") is not None and clerk["counter"] not in counters:
            raise CatalogRefused(f"Clerk {clerk['code']} sits at counter {clerk['counter']}, which is not listed.")
    levels = [s for s in doc["scale"] if s.get("active", True)]
    if not 2 <= len(levels) <= 5 or not all(
        isinstance(s.get("key"), str) and type(s.get("points")) is int for s in levels
    ):
        raise CatalogRefused("The commune's rating scale needs 2 to 5 levels with points.")
    if not isinstance(doc.get("questions", []), list) or not isinstance(doc.get("aliases", {}), Mapping):
        raise CatalogRefused("The commune's catalogue has malformed questions or aliases.")


def current_version(sessions) -> str | None:
    with sessions() as session:
        return state.get(session, state.VERSION_KEY)


def refused(sessions) -> dict[str, Any] | None:
    """The last document refused, and why ({"version", "reason", "at"}), or None."""
    with sessions() as session:
        text = state.get(session, state.REFUSED_KEY)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def apply_catalog(kiosk: Any, doc: Mapping[str, Any], pages: str | None = None) -> bool:
    """Apply ``doc`` (verified as signed by the server); False when this version is already in use.

    ``pages`` is where the commune's catalogue is edited at the central server (shown on `/admin`).
    Raises :class:`CatalogRefused` (after recording why) when the document is malformed or unusable.
    """
    if pages:
        with transaction(kiosk.sessions) as session:
            if state.get(session, state.PAGES_KEY) != pages:
                state.put(session, state.PAGES_KEY, pages)
    try:
        check_catalog(doc)
    except CatalogRefused as exc:
        _refuse(kiosk, doc.get("version") if isinstance(doc, Mapping) else None, exc.message)
        raise
    if current_version(kiosk.sessions) == doc["version"]:
        if refused(kiosk.sessions) is not None:  # the commune's catalogue is back to the one in use here
            with transaction(kiosk.sessions) as session:
                state.put(session, state.REFUSED_KEY, None)
        return False
    try:
        _apply(kiosk.sessions, doc)
    except IntegrityError as exc:
        message = f"The commune's catalogue clashes with itself ({exc.orig}); nothing of it was applied."
        _refuse(kiosk, doc["version"], message)
        raise CatalogRefused(message) from exc
    except ValidationError as exc:  # unusable: nothing was applied
        message = f"The commune's catalogue (version {doc['version'][:12]}) was refused: {exc.message}"
        _refuse(kiosk, doc["version"], message, exc.detail)
        raise CatalogRefused(message, exc.detail) from exc
    kiosk.reload_catalog()
    return True


def _refuse(kiosk: Any, version: Any, message: str, detail: Any = None) -> None:
    """Log the refusal and keep it (with the translatable reason, when there is one) for `/healthz` and `/admin`."""
    log.error("catalogue refused: %s", message)
    at = kiosk.clock.now().isoformat(timespec="seconds")
    note = {"version": version if isinstance(version, str) else None, "reason": message, "at": at}
    if isinstance(detail, Mapping) and detail.get("msgid"):
        note.update(msgid=detail["msgid"], params=detail.get("params", {}))
    note = json.dumps(note, ensure_ascii=False)
    with transaction(kiosk.sessions) as session:
        state.put(session, state.REFUSED_KEY, note)


def _apply(sessions, doc: Mapping[str, Any]) -> None:
    with transaction(sessions) as session:
        owner = doc.get("owner") if doc.get("owner") in state.OWNERS else "central"
        keep = set(state.dirty_items(session)) if owner == "kiosk" else set()
        had_clerk = has_active_clerk(session)
        services = {}
        for position, spec in enumerate(doc["services"]):
            row = session.get(Service, spec["code"])
            services[spec["code"]] = row = row or Service(code=spec["code"])
            if f"service:{row.code}" in keep and row.name is not None:
                continue
            row.name, row.prefix = str(spec["name"])[:200], str(spec.get("prefix") or "")[:4]
            row.daily_max, row.position, row.active = spec.get("daily_max"), position, bool(spec.get("active", True))
            session.add(row)
        for row in session.scalars(select(Service)):
            if row.code not in services and f"service:{row.code}" not in keep:
                row.active = False
            services.setdefault(row.code, row)
        session.flush()
        numbers = set()
        for spec in doc["counters"]:
            numbers.add(spec["number"])
            row = session.get(Counter, spec["number"])
            if row is not None and f"counter:{row.number}" in keep:
                continue
            row = row or Counter(number=spec["number"])
            row.name = str(spec.get("name") or f"Quầy {spec['number']}")[:100]
            row.active = bool(spec.get("active", True))
            row.services = [services[code] for code in spec.get("services") or []]
            session.add(row)
        for row in session.scalars(select(Counter)):
            if row.number not in numbers and f"counter:{row.number}" not in keep:
                row.active = False
        session.flush()
        _apply_clerks(session, doc["clerks"], dict(doc.get("aliases") or {}), keep)
        levels = [s for s in doc["scale"] if s.get("active", True)]
        seed_levels(session, [Level(s["key"], str(s["label"])[:100], s["points"], i) for i, s in enumerate(levels)])
        _apply_questions(session, doc.get("questions") or [])
        session.flush()
        problem = unusable(state.snapshot(session), had_clerk)
        if problem is not None:
            raise problem
        if state.owner(session) != owner:
            log.info(
                "the commune's catalogue is now managed by %s",
                "the central server" if owner == "central" else "the kiosks",
            )
        state.put(session, state.OWNER_KEY, owner)
        state.put(session, state.VERSION_KEY, doc["version"])
        state.put(session, state.REFUSED_KEY, None)
        if owner == "central":
            dropped = state.dirty_items(session)
            if dropped:
                log.warning(
                    "the commune's catalogue is managed centrally: edits not delivered are dropped: %s", dropped
                )
            state.put(session, state.DIRTY_KEY, None)
        state.touch(session)
        # What the server sent is what it has: no need to send it back (items still edited here stay dirty).
        state.put(session, state.SENT_KEY, catalog_document.digest(state.snapshot(session)))


def _apply_clerks(session, specs: list, aliases: dict[str, str], keep: set[str]) -> None:
    """Clerks by id. Codes are unique, so the codes listed clerks take are first parked on placeholders.

    A clerk the server has not heard of yet keeps working; if a listed clerk has her code, she gets a free
    one (and that change travels up with her at the next exchange).
    """
    existing = {c.id: c for c in session.scalars(select(Clerk))}
    incoming = {spec["id"]: spec for spec in specs if f"clerk:{spec['id']}" not in keep}  # local edits stand
    taken = {spec["code"] for spec in incoming.values()}
    used = taken | {c.code for c in existing.values()}
    for clerk in existing.values():
        if clerk.id in incoming or clerk.id in aliases:
            clerk.code = f"~{clerk.id}"[:32]
            if clerk.id in aliases:
                clerk.active = False  # the same person is the commune's clerk aliases[id]
        elif clerk.code in taken:
            clerk.code = next(f"CC{n:02d}" for n in range(1, 10_000) if f"CC{n:02d}" not in used)
            used.add(clerk.code)
            state.touch(session, f"clerk:{clerk.id}")
    session.flush()
    for clerk_id, spec in incoming.items():
        clerk = existing.get(clerk_id) or Clerk(id=clerk_id)
        clerk.code, clerk.name, clerk.pin_hash = spec["code"], str(spec["name"])[:200], spec["pin_hash"]
        clerk.counter_number, clerk.active = spec.get("counter"), bool(spec.get("active", True))
        session.add(clerk)
    session.flush()


def _apply_questions(session, specs: list) -> None:
    listed = {}
    for position, spec in enumerate(specs):
        key = spec.get("key") if isinstance(spec, Mapping) else None
        if key not in INDICATORS:
            continue  # a question this kiosk's software does not know is not asked
        row = session.get(Question, key) or Question(key=key)
        row.question = str(spec.get("question") or INDICATORS[key].question)[:200]
        answers = spec.get("answers")
        valid = isinstance(answers, list) and len(answers) == 3
        row.answers = [str(a)[:100] for a in answers] if valid else list(INDICATORS[key].answers)
        row.position, row.active = position, bool(spec.get("active", True))
        session.add(row)
        listed[key] = row
    if listed:
        for row in session.scalars(select(Question)):
            if row.key not in listed:
                row.active = False
