"""The device's admin password: stored only as a hash, checked with a lock after repeated wrong tries.

There is no default password. A technician sets one with `kiosk admin-password`; only `kiosk serve
--demo` sets the well-known password ``demo``, and only when none is set. Wrong passwords are counted
in the database (``device_state``), so restarting the kiosk does not reset the count, and after
``MAX_FAILURES`` in a row the log-in is locked for ``LOCK_SECONDS`` even for the right password — the
same rule as a clerk's PIN (:mod:`kiosk.clerks`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.clock import Clock, to_naive_utc
from kiosk.db import transaction
from kiosk.errors import AuthError, KioskError, ValidationError
from kiosk.models import DeviceState

PASSWORD_KEY = "admin_password_hash"
FAILURES_KEY = "admin_login_failures"
MAX_FAILURES = 5
LOCK_SECONDS = 300
MIN_LENGTH = 8
MAX_LENGTH = 200
DEMO_PASSWORD = "demo"


class LockedOut(KioskError, PermissionError):
    """Too many wrong admin passwords in a row."""

    status = 429
    code = "locked"


def password_hash(session: Session) -> str | None:
    row = session.get(DeviceState, PASSWORD_KEY)
    return row.value if row is not None and row.value else None


def fingerprint(hashed: str) -> str:
    """A short digest of the stored hash: kept in the admin's session cookie, so a new password ends old sessions."""
    return hashlib.sha256(hashed.encode()).hexdigest()[:24]


def current_fingerprint(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session:
        hashed = password_hash(session)
    return fingerprint(hashed) if hashed else None


def set_password(session: Session, password: str, *, demo: bool = False) -> None:
    """Store the hash of a new admin password and clear any lock. Short passwords are refused (not in demo)."""
    if not isinstance(password, str) or not password.strip():
        raise ValidationError("The admin password cannot be empty or only spaces.", {"field": "password"})
    if not demo and len(password) < MIN_LENGTH:
        raise ValidationError(
            f"The admin password must be at least {MIN_LENGTH} characters long; choose a longer one.",
            {"field": "password", "min_length": MIN_LENGTH},
        )
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"The admin password is longer than {MAX_LENGTH} characters.", {"field": "password"})
    row = session.get(DeviceState, PASSWORD_KEY) or DeviceState(key=PASSWORD_KEY)
    row.value = generate_password_hash(password)
    session.add(row)
    _store_failures(session, 0, None)


def seed_demo_password(sessions: sessionmaker[Session]) -> bool:
    """`kiosk serve --demo`: set the password ``demo`` when none is set. True if it was set now."""
    with transaction(sessions) as session:
        if password_hash(session):
            return False
        set_password(session, DEMO_PASSWORD, demo=True)
        return True


def demo_password_active(sessions: sessionmaker[Session]) -> bool:
    """Whether the admin password is still the demo one (so the demo banner may print it)."""
    with sessions() as session:
        hashed = password_hash(session)
    return bool(hashed) and check_password_hash(hashed, DEMO_PASSWORD)


def login(sessions: sessionmaker[Session], clock: Clock, password: str) -> str:
    """Check the admin password; returns the fingerprint to keep in the session.

    AuthError (401) when no password is set or it is wrong, LockedOut (429) while locked. The failure
    count is committed before the answer, so killing the process cannot forget a wrong try.
    """
    failed = locked = False
    with transaction(sessions) as session:
        hashed = password_hash(session)
        if not hashed:
            raise AuthError(
                "No admin password is set on this kiosk: run `kiosk admin-password` on the device.",
                {"reason": "no_password"},
            )
        now = to_naive_utc(clock.now())
        failures, until = _failures(session, now)
        if until is not None and now < until:
            seconds = int((until - now).total_seconds())
            raise LockedOut(
                f"Too many wrong admin passwords: log-in is locked for about {max(1, round(seconds / 60))} minute(s).",
                {"reason": "locked", "seconds": seconds},
            )
        if isinstance(password, str) and password and check_password_hash(hashed, password):
            if failures or until:
                _store_failures(session, 0, None)
        else:
            failures += 1
            locked = failures >= MAX_FAILURES
            _store_failures(
                session, 0 if locked else failures, now + timedelta(seconds=LOCK_SECONDS) if locked else None
            )
            failed = True
    if locked:
        raise LockedOut(
            f"Wrong admin password {MAX_FAILURES} times in a row: log-in is locked for {LOCK_SECONDS // 60} minutes.",
            {"reason": "locked", "seconds": LOCK_SECONDS},
        )
    if failed:
        raise AuthError(
            f"Wrong admin password; {MAX_FAILURES - failures} tries left before a {LOCK_SECONDS // 60}-minute lock.",
            {"reason": "wrong_password", "tries_left": MAX_FAILURES - failures},
        )
    return fingerprint(hashed)


def _failures(session: Session, now: datetime) -> tuple[int, datetime | None]:
    row = session.get(DeviceState, FAILURES_KEY)
    if row is None:
        return 0, None
    data = json.loads(row.value)
    until = datetime.fromisoformat(data["locked_until"]) if data.get("locked_until") else None
    if until is not None and until - now > timedelta(seconds=LOCK_SECONDS):
        until = None  # the wall clock went back (a Pi has no clock): never lock longer than promised
    return int(data.get("failures", 0)), until


def _store_failures(session: Session, failures: int, until: datetime | None) -> None:
    row = session.get(DeviceState, FAILURES_KEY) or DeviceState(key=FAILURES_KEY)
    row.value = json.dumps({"failures": failures, "locked_until": until.isoformat() if until else None})
    session.add(row)
