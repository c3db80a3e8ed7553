"""The device's admin password: stored only as a hash, checked with a lock after repeated wrong tries.

There is no default password. A technician sets one with `kiosk admin-password`; only `kiosk serve
--demo` sets the well-known password ``demo``, and only when none is set. Wrong passwords are counted
in the database (``device_state``), so restarting the kiosk does not reset the count, and after
``MAX_FAILURES`` in a row the log-in is locked for ``LOCK_SECONDS`` even for the right password, timed
on the monotonic clock so a clock change neither lifts nor lengthens it — the same rule as a clerk's PIN
(:class:`common.throttle.Lockout`, the count in :mod:`kiosk.lockout`).

An admin session is a session mark in the signed cookie (:mod:`common.web.session_mark`) of the password hash
and a session epoch (:func:`mark_holds`). A new password changes the hash; signing out raises the epoch. Either
ends every admin session, a copied cookie included.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from common.errors import AuthError, LockedOut, ValidationError
from common.throttle import Lockout
from common.web import session_mark
from kiosk import device_state
from kiosk.clock import Clock
from kiosk.device_state import ADMIN_LOGIN_FAILURES, ADMIN_PASSWORD_HASH, ADMIN_SESSION_EPOCH
from kiosk.lockout import StoredFailures
from kiosk.storage import transaction

PASSWORD_KEY = ADMIN_PASSWORD_HASH.name
FAILURES_KEY = ADMIN_LOGIN_FAILURES.name
EPOCH_KEY = ADMIN_SESSION_EPOCH.name
MAX_FAILURES = 5
LOCK_SECONDS = 300
MIN_LENGTH = 8
MAX_LENGTH = 200
DEMO_PASSWORD = "demo"
#: The user id in the admin's session mark (a kiosk has one admin password).
ADMIN = "admin"


def password_hash(session: Session) -> str | None:
    return device_state.get(session, ADMIN_PASSWORD_HASH) or None


def has_password(sessions: sessionmaker[Session]) -> bool:
    """Whether an admin password is set on this kiosk."""
    with sessions() as session:
        return password_hash(session) is not None


def _state(session: Session) -> tuple[str | None, int]:
    """(password hash, session epoch): what an admin session's mark is made of."""
    return password_hash(session), device_state.get(session, ADMIN_SESSION_EPOCH)


def mark_holds(sessions: sessionmaker[Session], mark: object) -> bool:
    """Whether an admin session's ``mark`` still holds: same password, not signed out since."""
    with sessions() as session:
        hashed, epoch = _state(session)
    return session_mark.mark_holds(mark, ADMIN, epoch, hashed)


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
    return Lockout(MAX_FAILURES, LOCK_SECONDS, clock.monotonic)


def login(sessions: sessionmaker[Session], lockout: Lockout, password: str) -> str:
    """Check the admin password; returns the session mark to keep in the session (:func:`mark_holds`).

    AuthError (401) when no password is set or it is wrong, LockedOut (429) while locked. The failure
    count is committed before the answer, so killing the process cannot forget a wrong try.
    """
    outcome = None
    with transaction(sessions) as session:
        hashed, epoch = _state(session)
        if not hashed:
            raise AuthError(
                "No admin password is set on this kiosk: run `kiosk admin-password` on the device.",
                {"reason": "no_password"},
            )
        failures = StoredFailures(session, FAILURES_KEY)
        state = lockout.state(failures)
        if state.locked:
            raise LockedOut(
                f"Too many wrong admin passwords: log-in is locked for about {max(1, round(state.seconds_left / 60))} "
                "minute(s).",
                {"reason": "locked", "seconds": state.seconds_left},
                retry_after=state.seconds_left,
            )
        if isinstance(password, str) and password and check_password_hash(hashed, password):
            lockout.succeeded(failures)
        else:
            outcome = lockout.failed(failures)
    if outcome is not None and outcome.locked:
        raise LockedOut(
            f"Wrong admin password {MAX_FAILURES} times in a row: log-in is locked for {LOCK_SECONDS // 60} minutes.",
            {"reason": "locked", "seconds": LOCK_SECONDS},
            retry_after=LOCK_SECONDS,
        )
    if outcome is not None:
        raise AuthError(
            f"Wrong admin password; {MAX_FAILURES - outcome.failures} tries left before a {LOCK_SECONDS // 60}-minute "
            "lock.",
            {"reason": "wrong_password", "tries_left": MAX_FAILURES - outcome.failures},
        )
    return session_mark.make_mark(ADMIN, epoch, hashed)


def _clear_failures(session: Session) -> None:
    """A new password clears the lock-out."""
    StoredFailures(session, FAILURES_KEY).write(0, False)
