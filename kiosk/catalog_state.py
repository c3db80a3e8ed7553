"""What the kiosk knows about its catalogue: who owns it, its revision, what is not yet at the central server.

The catalogue (services, counters, clerks, rating wording, questions) of a commune has one owner at a time:
``kiosk`` (edited at `/admin`, edits travel up to the central server) until an administrator first edits it
centrally, then ``central`` (the kiosk's `/admin` shows it read-only). The central server says which in every
catalogue document; before the first sync the kiosk owns it.

Kept in ``device_state`` (one row each):

* ``catalog_owner`` — ``kiosk`` or ``central``;
* ``catalog_revision`` — raised by every change, in the same transaction, whoever makes it (`/admin`,
  `kiosk add-clerk`, `kiosk init`, a sync run by another process): a running `kiosk serve` compares it to
  the one it loaded and reloads its caches (:meth:`kiosk.app.Kiosk.reload_catalog`);
* ``catalog_dirty`` — the items edited here since the central server last acknowledged the catalogue;
* ``catalog_sent`` — the digest of the catalogue the server last acknowledged (its signed answer named it):
  the kiosk sends the catalogue again only when it differs;
* ``catalog_version`` — the version of the server's document in use; ``catalog_refused`` — the last
  document this kiosk refused, and why (shown on `/healthz` and `/admin`); ``catalog_pages`` — the
  address of the commune's catalogue pages at the central server the last sync reached.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kiosk.models import Clerk, Counter, DeviceState, Question, ScaleLevel, Service
from sync.catalog_document import (
    clerk_entry,
    counter_entry,
    level_entry,
    question_entry,
    service_entry,
)

OWNER_KEY = "catalog_owner"
REVISION_KEY = "catalog_revision"
DIRTY_KEY = "catalog_dirty"
SENT_KEY = "catalog_sent"
VERSION_KEY = "catalog_version"
REFUSED_KEY = "catalog_refused"
PAGES_KEY = "catalog_pages"
OWNERS = ("kiosk", "central")


def get(session: Session, key: str) -> str | None:
    row = session.get(DeviceState, key)
    return row.value if row is not None else None


def put(session: Session, key: str, value: str | None) -> None:
    row = session.get(DeviceState, key)
    if value is None:
        if row is not None:
            session.delete(row)
        return
    row = row or DeviceState(key=key)
    row.value = value
    session.add(row)


def owner(session: Session) -> str:
    """``kiosk`` or ``central``: who edits this commune's catalogue now."""
    value = get(session, OWNER_KEY)
    return value if value in OWNERS else "kiosk"


def read_owner(engine: Any) -> str:
    """:func:`owner` by a plain read that never waits for a writer (for pages rendered inside a transaction)."""
    from kiosk.tickets import read_rows

    rows = read_rows(engine, "SELECT value FROM device_state WHERE key = ?", (OWNER_KEY,))
    return rows[0][0] if rows and rows[0][0] in OWNERS else "kiosk"


def touch(session: Session, *dirty: str) -> None:
    """Record a change of the catalogue (in the caller's transaction): a new revision, and the items edited here.

    ``dirty`` names items as ``service:HT``, ``counter:1``, ``clerk:<id>``, ``scale`` or ``questions``; they are
    sent to the central server at the next sync. Changes that came from the server itself name none.
    """
    put(session, REVISION_KEY, str(int(get(session, REVISION_KEY) or 0) + 1))
    if dirty:
        put(session, DIRTY_KEY, json.dumps(sorted(set(dirty_items(session)) | set(dirty))))


def dirty_items(session: Session) -> list[str]:
    try:
        items = json.loads(get(session, DIRTY_KEY) or "[]")
    except ValueError:
        return []
    return [str(item) for item in items] if isinstance(items, list) else []


def revision_sql() -> tuple[str, tuple]:
    """The plain read of the revision (for a check that must not open an ORM transaction)."""
    return "SELECT value FROM device_state WHERE key = ?", (REVISION_KEY,)


def snapshot(session: Session) -> dict[str, Any]:
    """The whole catalogue as the kiosk has it, in the shape of the server's catalogue document."""
    services = session.scalars(select(Service).order_by(Service.position, Service.code))
    counters = session.scalars(select(Counter).options(selectinload(Counter.services)).order_by(Counter.number))
    clerks = session.scalars(select(Clerk).order_by(Clerk.code))
    scale = session.scalars(select(ScaleLevel).order_by(ScaleLevel.position))
    questions = session.scalars(select(Question).order_by(Question.position))
    return {
        "services": [service_entry(s) for s in services],
        "counters": [counter_entry(c, sorted(x.code for x in c.services)) for c in counters],
        # a code parked as "~id" is no person's code: that row is kept for its records only
        "clerks": [clerk_entry(c) for c in clerks if not c.code.startswith("~")],
        "scale": [level_entry(s) for s in scale],
        "questions": [question_entry(q) for q in questions],
    }
