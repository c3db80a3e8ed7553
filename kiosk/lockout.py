"""Where the kiosk's lock-outs (clerk PINs, the admin password) keep their wrong tries: a ``device_state`` row.

The rule itself — locked after N wrong tries in a row, for M seconds on the monotonic clock — is
:class:`common.throttle.Lockout`. The count lives in the database, so a restart does not reset it; the value is
``{"failures": n, "locked": bool}`` as JSON.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kiosk import device_state


class StoredFailures:
    """The wrong tries of one lock-out (one ``device_state`` key), read and written in the caller's ``session``."""

    def __init__(self, session: Session, key: str) -> None:
        self.session, self.key = session, device_state.declared(key)

    def read(self) -> tuple[int, bool]:
        data = device_state.get(self.session, self.key)
        if data is None:
            return 0, False
        locked = bool(data.get("locked") or data.get("locked_until"))  # "locked_until": before 0.1 kept a time
        return int(data.get("failures", 0)), locked

    def write(self, failures: int, locked: bool) -> None:
        device_state.put(self.session, self.key, {"failures": failures, "locked": locked})
