"""What the kiosk knows about its catalogue: who owns it, its revision, what is not yet at the central server.

The catalogue (services, counters, clerks, rating wording, questions) of a commune has one owner at a time:
``kiosk`` (edited at `/admin`, edits travel up to the central server) until an administrator first edits it
centrally, then ``central`` (the kiosk's `/admin` shows it read-only). The central server says which in every
catalogue document; before the first sync the kiosk owns it.

Kept in ``device_state`` (keys declared in :mod:`kiosk.device_state`):

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

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kiosk import device_state
from kiosk.device_state import (
    CATALOG_DIRTY,
    CATALOG_OWNER,
    CATALOG_PAGES,
    CATALOG_REFUSED,
    CATALOG_REVISION,
    CATALOG_SENT,
    CATALOG_SITE,
    CATALOG_VERSION,
)
from kiosk.models import Clerk, Counter, Question, ScaleLevel, Service
from sync.catalog_document import (
    clerk_entry,
    counter_entry,
    level_entry,
    question_entry,
    service_entry,
)

OWNER_KEY = CATALOG_OWNER.name
REVISION_KEY = CATALOG_REVISION.name
DIRTY_KEY = CATALOG_DIRTY.name
SENT_KEY = CATALOG_SENT.name
VERSION_KEY = CATALOG_VERSION.name
REFUSED_KEY = CATALOG_REFUSED.name
PAGES_KEY = CATALOG_PAGES.name
OWNERS = ("kiosk", "central")


def get(session: Session, key: str) -> str | None:
    """The stored text of one of the keys above, as it is (:mod:`kiosk.device_state` declares how it reads)."""
    return device_state.get(session, device_state.as_text(key))


def put(session: Session, key: str, value: str | None) -> None:
    """Store the text of one of the keys above as it is; ``None`` removes the key."""
    device_state.put(session, device_state.as_text(key), value)


def owner(session: Session) -> str:
    """``kiosk`` or ``central``: who edits this commune's catalogue now."""
    value = device_state.get(session, CATALOG_OWNER)
    return value if value in OWNERS else "kiosk"


def read_owner(engine: Any) -> str:
    """:func:`owner` by a plain read that never waits for a writer (for pages rendered inside a transaction)."""
    value = device_state.read(engine, CATALOG_OWNER)
    return value if value in OWNERS else "kiosk"


def read_pages(engine: Any) -> str | None:
    """Where the commune's catalogue is edited at the central server, as the last sync found it (a plain read)."""
    return device_state.read(engine, CATALOG_PAGES)


def read_revision(engine: Any) -> str | None:
    """The catalogue's revision as stored, by a plain read that never waits for a writer (the watcher's check)."""
    return device_state.read(engine, device_state.as_text(CATALOG_REVISION))


def touch(session: Session, *dirty: str) -> None:
    """Record a change of the catalogue (in the caller's transaction): a new revision, and the items edited here.

    ``dirty`` names items as ``service:HT``, ``counter:1``, ``clerk:<id>``, ``scale`` or ``questions``; they are
    sent to the central server at the next sync. Changes that came from the server itself name none.
    """
    device_state.put(session, CATALOG_REVISION, device_state.get(session, CATALOG_REVISION) + 1)
    if dirty:
        device_state.put(session, CATALOG_DIRTY, sorted(set(dirty_items(session)) | set(dirty)))


def site(session: Session) -> dict[str, str] | None:
    """This kiosk's reception point {"code", "name"} as the central server last named it (None: not told yet)."""
    value = device_state.get(session, CATALOG_SITE)
    return value if isinstance(value, dict) and isinstance(value.get("code"), str) else None


def site_code(session: Session) -> str | None:
    found = site(session)
    return found["code"] if found else None


def read_site(engine: Any) -> dict[str, str] | None:
    """:func:`site` by a plain read that never waits for a writer (the ticket printed and answered)."""
    value = device_state.read(engine, CATALOG_SITE)
    return value if isinstance(value, dict) and isinstance(value.get("code"), str) else None


def put_site(session: Session, value: dict[str, str] | None) -> None:
    device_state.put(session, CATALOG_SITE, value)


def dirty_items(session: Session) -> list[str]:
    return device_state.get(session, CATALOG_DIRTY) or []


def listing(session: Session) -> dict[str, list[Any]]:
    """The catalogue's services, counters (with their services) and the commune's clerks, in the order shown.

    A clerk whose code is parked as ``~id`` is not listed: that row is kept for its records only, the same
    person being one of the commune's clerks.
    """
    return {
        "services": list(session.scalars(select(Service).order_by(Service.position, Service.code))),
        "counters": list(
            session.scalars(select(Counter).options(selectinload(Counter.services)).order_by(Counter.number))
        ),
        "clerks": list(session.scalars(select(Clerk).where(~Clerk.code.startswith("~")).order_by(Clerk.code))),
    }


def snapshot(session: Session) -> dict[str, Any]:
    """The whole catalogue as the kiosk has it, in the shape of the server's catalogue document."""
    rows = listing(session)
    point = site_code(session)  # every counter of a kiosk stands at its own point
    scale = session.scalars(select(ScaleLevel).order_by(ScaleLevel.position))
    questions = session.scalars(select(Question).order_by(Question.position))
    return {
        "services": [service_entry(s) for s in rows["services"]],
        "counters": [counter_entry(c, sorted(x.code for x in c.services), point) for c in rows["counters"]],
        "clerks": [clerk_entry(c) for c in rows["clerks"]],
        "scale": [level_entry(s) for s in scale],
        "questions": [question_entry(q) for q in questions],
    }
