"""Applying the commune's catalogue document on the kiosk: all of it in one transaction, or none.

Services, counters and clerks the document does not list are deactivated, never deleted (records refer to
them) — except what was edited here and not yet delivered while the kiosk owns the catalogue, and clerks the
server has not heard of yet: nothing a person relies on disappears because the server has not seen it. A
clerk the server matched with one of the commune's clerks (``aliases``) is deactivated here: the same person
signs in as the commune's clerk, with the commune's PIN. Counters keep their paused flag.

Every entry is checked by the catalogue's rules, the same the central server applies to its pages and to
`import-config` (:mod:`common.catalog_apply`). A document that breaks one, or that would leave the kiosk with
no service in use, no open counter for one, or no active clerk (when it has one) is refused: nothing is changed, the refusal is logged, kept for `/healthz` and `/admin`,
and told to the server at the next exchange. After a change, :meth:`kiosk.app.Kiosk.reload_catalog`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from common import catalog_apply as rules
from common.catalog_items import ClerkItem
from common.catalog_read import read_catalog
from common.catalog_rules import counter_site, free_clerk_code
from common.errors import ValidationError
from kiosk import catalog_state as state
from kiosk.catalog_store import DeviceStore
from kiosk.storage import transaction
from sync import catalog_document

log = logging.getLogger(__name__)


class CatalogRefused(ValidationError):
    """The commune's catalogue would leave this kiosk unusable (or is malformed): it was not applied."""

    code = "catalog_refused"


def check_catalog(doc: Any) -> None:
    """Refuse a document that is not a catalogue at all (its entries are checked when it is applied)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("version"), str):
        raise CatalogRefused("The commune's catalogue is not an object with a version.")
    for part in ("services", "counters", "clerks", "scale"):
        if not isinstance(doc.get(part), list):
            raise CatalogRefused(f"The commune's catalogue has no {part} list.")
    if not isinstance(doc.get("questions", []), list) or not isinstance(doc.get("aliases", {}), Mapping):
        raise CatalogRefused("The commune's catalogue has malformed questions or aliases.")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in doc.get("aliases", {}).items()):
        raise CatalogRefused("The commune's catalogue has malformed aliases.")


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
    point = _point(doc)
    with kiosk.sessions() as session:
        moved = point is not None and state.site(session) != point
    if current_version(kiosk.sessions) == doc["version"] and not moved:
        if refused(kiosk.sessions) is not None:  # the commune's catalogue is back to the one in use here
            with transaction(kiosk.sessions) as session:
                state.put(session, state.REFUSED_KEY, None)
        return False
    try:
        _apply(kiosk.sessions, own_point(doc, point), point)
    except IntegrityError as exc:
        message = f"The commune's catalogue clashes with itself ({exc.orig}); nothing of it was applied."
        _refuse(kiosk, doc["version"], message)
        raise CatalogRefused(message) from exc
    except ValidationError as exc:  # an entry breaks a rule, or the result would be unusable: nothing was applied
        message = (
            f"The commune's catalogue (version {doc['version'][:12]}) was refused, nothing of it was applied: "
            f"{exc.message}"
        )
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


def _point(doc: Mapping[str, Any]) -> dict[str, str] | None:
    """The reception point the document names for this kiosk ({"code", "name"}), or None (an older server)."""
    site = doc.get("site")
    if isinstance(site, Mapping) and isinstance(site.get("code"), str) and site["code"]:
        name = site.get("name") if isinstance(site.get("name"), str) else site["code"]
        return {"code": site["code"], "name": name}
    return None


def own_point(doc: Mapping[str, Any], point: dict[str, str] | None) -> dict[str, Any]:
    """The document as this kiosk applies it: only the counters of its own reception point (a server that names
    no point: all of them), and a clerk's usual counter only when it is one of those."""
    if point is None:
        return dict(doc)
    counters = [c for c in doc["counters"] if not isinstance(c, Mapping) or counter_site(c) == point["code"]]
    numbers = {c.get("number") for c in counters if isinstance(c, Mapping)}
    clerks = [
        dict(c, counter=None) if isinstance(c, Mapping) and c.get("counter") not in numbers else c
        for c in doc["clerks"]
    ]
    return {**doc, "counters": counters, "clerks": clerks}


def _apply(sessions, doc: Mapping[str, Any], point: dict[str, str] | None = None) -> None:
    """The document by the catalogue's rules (:mod:`common.catalog_apply`): what was edited here and not yet
    delivered (``keep``, while the kiosk owns the catalogue) stays; what the document does not list is retired."""
    with transaction(sessions) as session:
        if point is not None:
            state.put_site(session, point)
        owner = doc.get("owner") if doc.get("owner") in state.OWNERS else "central"
        keep = set(state.dirty_items(session)) if owner == "kiosk" else set()
        store = DeviceStore(session, track=False)
        had_clerk = rules.has_active_clerk(store)
        catalog = read_catalog(doc, store, skip_unknown_questions=True)
        policy = rules.Policy(
            write=lambda item, exists: not exists or item not in keep, retire=lambda item: item not in keep
        )
        applied = rules.apply_catalog(store, catalog, policy)
        _apply_clerks(store, catalog.clerks or [], dict(doc.get("aliases") or {}), keep)
        rules.check_applied(store, applied.services, had_clerk)
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


def _apply_clerks(store: DeviceStore, items: list[ClerkItem], aliases: dict[str, str], keep: set[str]) -> None:
    """Clerks by id. Codes are unique, so the codes listed clerks take are first parked on placeholders.

    A clerk the server has not heard of yet keeps working; if a listed clerk has her code, she gets a free
    one (and that change travels up with her at the next exchange).
    """
    existing = {c.id: c for c in store.clerks()}
    incoming = {item.id: item for item in items if f"clerk:{item.id}" not in keep}  # local edits stand
    taken = {item.code for item in incoming.values()}
    used = taken | {c.code for c in existing.values()}
    for clerk in existing.values():
        if clerk.id in incoming or clerk.id in aliases:
            clerk.code = f"~{clerk.id}"[:32]
            if clerk.id in aliases:
                clerk.active = False  # the same person is the commune's clerk aliases[id]
        elif clerk.code in taken:
            clerk.code = free_clerk_code(used)
            used.add(clerk.code)
            state.touch(store.session, f"clerk:{clerk.id}")
    store.flush()
    for clerk_id, item in incoming.items():
        row = existing.get(clerk_id) or store.add_clerk(clerk_id, item.code)
        row.code = item.code
        rules.write_clerk(store, row, item)
    store.flush()
