"""Screens an admin enrolled: tablets on the office network whose ratings count like the kiosk's own screen.

A counted rating comes only from someone who holds the visit (docs/screens.md): the kiosk's own screens
(loopback) and button panel, the ticket holder's phone page, and the screens listed here. An admin enrols a
screen at `/admin/screens` on that screen itself (web.admin_screens): it gets a long-lived signed cookie with a
random id, and the kiosk keeps the id with a name, optionally a counter, when and by whom (device_state key
``enrolled_screens``). Revoking removes the id: the cookie then counts for nothing. No IP address is involved.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from common.errors import NotFoundError, refusal
from common.safe_text import text_problem
from kiosk import device_state
from kiosk.clock import Clock
from kiosk.device_state import ENROLLED_SCREENS
from kiosk.models import Counter
from kiosk.storage import transaction

MAX_NAME = 80
#: Enrolled screens a kiosk keeps (a commune has a handful of counters).
MAX_SCREENS = 50


@dataclass(frozen=True)
class Screen:
    id: str
    name: str
    counter: int | None
    enrolled_at: str
    by: str


def _screen(screen_id: str, entry: Any) -> Screen | None:
    if not isinstance(entry, dict):
        return None
    counter = entry.get("counter")
    return Screen(
        screen_id,
        str(entry.get("name") or ""),
        counter if isinstance(counter, int) and not isinstance(counter, bool) else None,
        str(entry.get("enrolled_at") or ""),
        str(entry.get("by") or ""),
    )


def _entries(session: Session) -> dict[str, Any]:
    found = device_state.get(session, ENROLLED_SCREENS)
    return dict(found) if isinstance(found, dict) else {}


def listing(sessions: sessionmaker[Session]) -> list[Screen]:
    """The enrolled screens, oldest first."""
    with sessions() as session:
        entries = _entries(session)
    screens = [s for s in (_screen(key, value) for key, value in entries.items()) if s is not None]
    return sorted(screens, key=lambda s: (s.enrolled_at, s.name))


def find(engine: Any, screen_id: Any) -> Screen | None:
    """The enrolled screen with this id; None for an id never enrolled or revoked (a plain read, never waits)."""
    if not isinstance(screen_id, str) or not screen_id:
        return None
    entries = device_state.read(engine, ENROLLED_SCREENS)
    return _screen(screen_id, entries.get(screen_id)) if isinstance(entries, dict) else None


def clean_name(name: Any) -> str:
    """The screen's name as the admin typed it, checked like any text the kiosk stores."""
    if not isinstance(name, str) or not name.strip():
        raise refusal("name", "Give this screen a name, e.g. “Máy tính bảng quầy 2”.")
    name = " ".join(name.split())
    if text_problem(name) is not None or len(name) > MAX_NAME:
        raise refusal("name", "The screen's name must be plain text of at most %(n)s characters.", n=MAX_NAME)
    return name


def enrol(sessions: sessionmaker[Session], clock: Clock, name: Any, counter: int | None, by: str) -> Screen:
    """Enrol a new screen (a fresh random id) and return it; the caller gives the screen its cookie."""
    name = clean_name(name)
    with transaction(sessions) as session:
        entries = _entries(session)
        if len(entries) >= MAX_SCREENS:
            raise refusal("name", "This kiosk already has %(n)s enrolled screens; revoke one first.", n=MAX_SCREENS)
        if counter is not None and session.get(Counter, counter) is None:
            raise refusal("counter", "Counter %(n)s does not exist on this kiosk.", n=counter)
        screen_id = secrets.token_urlsafe(16)
        entry = {"name": name, "counter": counter, "enrolled_at": clock.local().strftime("%Y-%m-%d %H:%M"), "by": by}
        entries[screen_id] = entry
        device_state.put(session, ENROLLED_SCREENS, entries)
    screen = _screen(screen_id, entry)
    assert screen is not None
    return screen


def revoke(sessions: sessionmaker[Session], screen_id: str) -> Screen:
    """Revoke an enrolled screen: its cookie no longer makes its ratings count. NotFound for an unknown id."""
    with transaction(sessions) as session:
        entries = _entries(session)
        entry = entries.pop(screen_id, None)
        if entry is None:
            raise NotFoundError("There is no such enrolled screen.", {"field": "screen"})
        device_state.put(session, ENROLLED_SCREENS, entries)
    screen = _screen(screen_id, entry)
    assert screen is not None
    return screen
