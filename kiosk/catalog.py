"""The catalogue (services, counters, clerks, rating scale, questions): seeding from settings, adding clerks.

The rules are the catalogue's own (:mod:`common.catalog_apply`, :mod:`common.catalog_edit`), over this
kiosk's tables (:class:`kiosk.catalog_store.DeviceStore`). A PIN is stored only as a hash (werkzeug scrypt,
salted), so "unique within the commune" cannot be a database constraint: a new PIN is checked against the
hash of every active clerk (:func:`pin_clash`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from common import catalog_edit
from common.catalog_apply import Policy, apply_catalog, check_applied
from common.catalog_read import from_settings, read_catalog
from common.catalog_rules import pin_holder
from common.errors import ConfigError, ConflictError, ValidationError
from common.scale import INDICATORS
from kiosk import catalog_state
from kiosk.catalog_store import DeviceStore
from kiosk.models import Clerk


def seed(session: Session, settings: Mapping[str, Any], reseed: bool = False) -> list[str]:
    """Add the services, counters, rating scale and TT 01 questions of the settings that the database lacks.

    What already exists is left alone: after the first start the catalogue belongs to `/admin` or to
    the central server, and an upgrade must not undo their edits. ``reseed`` re-applies the settings
    over what exists (`kiosk init --reseed`). Returns what was added or changed, for the CLI to say.
    Settings that break a rule of the catalogue are a ConfigError.
    """
    # What `kiosk init` first seeds is no edit of anyone's (a commune's own catalogue wins over it);
    # `--reseed` deliberately overrides edits, so it travels up like one. Under central management the
    # commune's catalogue is applied again at the next sync, over whatever the settings added here.
    store = DeviceStore(session, track=reseed)
    doc = from_settings(settings)
    point = catalog_state.site_code(session)  # the settings' counters stand at this kiosk's point
    doc["counters"] = [dict(c, site=point) if isinstance(c, dict) else c for c in doc["counters"]]
    doc["questions"] = [{"key": key} for key in INDICATORS]  # in their official wording
    written: list[str] = []
    asked = {question.key for question in store.questions()}

    def write(item: str, exists: bool) -> bool:
        wanted = not exists or (reseed and item != "questions")
        if wanted:
            written.append(item)
        return wanted

    try:
        had_clerk = catalog_edit.has_active_clerk(store)
        catalog = read_catalog(doc, store, by_id=False)
        applied = apply_catalog(store, catalog, Policy(write=write, retire=lambda item: False))
        check_applied(store, applied.services, had_clerk)
    except ValidationError as exc:
        raise ConfigError(f"Settings services, counters, rating_levels: {exc.message}", exc.detail) from exc
    changes = _changes(store, written, [key for key in INDICATORS if key not in asked])
    if changes:
        if not reseed:
            catalog_state.touch(session)
        if catalog_state.owner(session) == "central":
            catalog_state.put(session, catalog_state.VERSION_KEY, None)
    return changes


def _changes(store: DeviceStore, written: list[str], added: list[str]) -> list[str]:
    """What :func:`seed` wrote (``added``: the questions), as the CLI says it."""
    changes = []
    if "scale" in written:
        changes.append("rating scale: " + ", ".join(level.label for level in store.levels() if level.active))
    if added:
        changes.append("questions: " + ", ".join(added))
    for item in written:
        kind, _, key = item.partition(":")
        if kind == "service":
            changes.append(f"service {key} {store.service(key).name}")
        elif kind == "counter":
            changes.append(f"counter {key}")
    return changes


def pin_clash(session: Session, pin: str, exclude: str | None = None) -> Clerk | None:
    """The active clerk (other than ``exclude``) whose PIN this already is, if any (see :func:`pin_holder`)."""
    return pin_holder(DeviceStore(session).clerks(), pin, exclude)


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
    return catalog_edit.add_clerk(DeviceStore(session), name, code, counter, pin)
