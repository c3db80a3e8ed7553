"""Session marks: what lets a server end every session of a user at once, copied cookies included.

A signed session cookie alone stays valid until it expires. So the session also keeps a *mark* of the user's
state when it began — their id, their session epoch (a number the server raises to sign them out everywhere)
and the hash of their secret (password or PIN) — and the server checks it against the stored state on every
request: signing out (the epoch moves on) or a new secret (the hash changes) ends every session.

The mark is an HMAC keyed by the secret's hash: the cookie, which anyone holding it can read, reveals nothing
of the hash. Used by the clerk's and the admin's sessions of the kiosk and the central server's sign-in.
"""

from __future__ import annotations

import hashlib
import hmac

#: Hex digits kept of the HMAC (128 bits).
LENGTH = 32


def make_mark(user_id: str, epoch: int, secret: str) -> str:
    """The mark of a session of ``user_id`` at session epoch ``epoch`` under ``secret`` (the stored hash)."""
    message = f"{user_id}\n{int(epoch)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:LENGTH]


def mark_holds(mark: object, user_id: str, epoch: int, secret: str | None) -> bool:
    """Whether a session's ``mark`` is the one of the user's stored state now (no secret set: never)."""
    if not isinstance(mark, str) or not secret:
        return False
    return hmac.compare_digest(mark, make_mark(user_id, epoch, secret))
