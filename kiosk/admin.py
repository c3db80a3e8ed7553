"""The device's admin password: stored only as a hash, checked with a lock after repeated wrong tries.

There is no default password. A technician sets one with `kiosk admin-password`; only `kiosk serve
--demo` sets the well-known password ``demo``, and only when none is set. Wrong passwords are counted
in the database (``device_state``), so restarting the kiosk does not reset the count, and after
``MAX_FAILURES`` in a row the log-in is locked for ``LOCK_SECONDS`` even for the right password, timed
on the monotonic clock so a clock change neither lifts nor lengthens it — the same rule as a clerk's PIN
(:mod:`kiosk.lockout`).

An admin session is a mark in the signed cookie (:func:`current_mark`): a digest of the password hash and
a session epoch. A new password changes the digest; signing out raises the epoch. Either ends every admin
session, a copied cookie included.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from common.errors import AuthError, KioskError, ValidationError
from kiosk import device_state
from kiosk.clock import Clock
from kiosk.device_state import ADMIN_LOGIN_FAILURES, ADMIN_PASSWORD_HASH, ADMIN_SESSION_EPOCH
from kiosk.lockout import Lockout
from kiosk.storage import transaction

PASSWORD_KEY = ADMIN_PASSWORD_HASH.name
FAILURES_KEY = ADMIN_LOGIN_FAILURES.name
EPOCH_KEY = ADMIN_SESSION_EPOCH.name
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
    return device_state.get(session, ADMIN_PASSWORD_HASH) or None


def fingerprint(hashed: str) -> str:
    """A short digest of the stored hash: kept in the admin's session cookie, so a new password ends old sessions."""
    return hashlib.sha256(hashed.encode()).hexdigest()[:24]


def current_fingerprint(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session:
        hashed = password_hash(session)
    return fingerprint(hashed) if hashed else None


def current_mark(sessions: sessionmaker[Session]) -> str | None:
    """What a valid admin session cookie holds now: the password digest and the session epoch."""
    with sessions() as session:
        hashed = password_hash(session)
        epoch = device_state.get(session, ADMIN_SESSION_EPOCH)
    return f"{fingerprint(hashed)}:{epoch}" if hashed else None


def end_sessions(sessions: sessionmaker[Session]) -> None:
    """Sign out everywhere: every admin session cookie stops working (server-side, copies included)."""
    with transaction(sessions) as session:
        device_state.put(session, ADMIN_SESSION_EPOCH, device_state.get(session, ADMIN_SESSION_EPOCH) + 1)


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
    device_state.put(session, ADMIN_PASSWORD_HASH, generate_password_hash(password))
    _clear_failures(session)


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


def make_lockout(clock: Clock) -> Lockout:
    """The admin password's lock-out of one kiosk (keep one per app: its monotonic lock start lives in it)."""
    return Lockout(FAILURES_KEY, clock, MAX_FAILURES, LOCK_SECONDS)


def login(sessions: sessionmaker[Session], lockout: Lockout, password: str) -> str:
    """Check the admin password; returns the mark to keep in the session (:func:`current_mark`).

    AuthError (401) when no password is set or it is wrong, LockedOut (429) while locked. The failure
    count is committed before the answer, so killing the process cannot forget a wrong try.
    """
    outcome = None
    with transaction(sessions) as session:
        hashed = password_hash(session)
        if not hashed:
            raise AuthError(
                "No admin password is set on this kiosk: run `kiosk admin-password` on the device.",
                {"reason": "no_password"},
            )
        state = lockout.state(session)
        if state.locked:
            raise LockedOut(
                f"Too many wrong admin passwords: log-in is locked for about {max(1, round(state.seconds_left / 60))} "
                "minute(s).",
                {"reason": "locked", "seconds": state.seconds_left},
            )
        if isinstance(password, str) and password and check_password_hash(hashed, password):
            lockout.succeeded(session)
        else:
            outcome = lockout.failed(session)
    if outcome is not None and outcome.locked:
        raise LockedOut(
            f"Wrong admin password {MAX_FAILURES} times in a row: log-in is locked for {LOCK_SECONDS // 60} minutes.",
            {"reason": "locked", "seconds": LOCK_SECONDS},
        )
    if outcome is not None:
        raise AuthError(
            f"Wrong admin password; {MAX_FAILURES - outcome.failures} tries left before a {LOCK_SECONDS // 60}-minute "
            "lock.",
            {"reason": "wrong_password", "tries_left": MAX_FAILURES - outcome.failures},
        )
    return current_mark(sessions) or ""


def _clear_failures(session: Session) -> None:
    """A new password clears the lock-out."""
    device_state.put(session, ADMIN_LOGIN_FAILURES, {"failures": 0, "locked": False})
