"""The device's small facts (table ``device_state``: one text value per key), each key declared here once.

A key has a Python type and the text it is stored as. The encodings are those the kiosk has always written
(a database in the field is read as it is, with no migration): whole numbers as decimal text, JSON as
``json.dumps`` writes it (ASCII-escaped, except the texts a person reads: ``last_sync``, ``catalog_refused``),
plain text as is. Read and write them here:

* in an ORM session's transaction: :func:`get` / :func:`put` (``None`` deletes the row);
* on the read path (never waits for a writer): :func:`read`;
* by driver SQL in the caller's transaction (a :data:`kiosk.storage.Scalars`): :func:`load`, :func:`store`,
  and :func:`add` for the counters that must go up atomically (the record sequence, the sync counter).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from kiosk.models import DeviceState
from kiosk.storage import Scalars, scalars_reader, write_transaction

T = TypeVar("T")


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How a value is stored as text and read back."""

    kind: str
    encode: Callable[[T], str]
    decode: Callable[[str], T]


def _whole(text: str) -> int:
    return int(text or 0)


def _strict_json(text: str) -> Any:
    return json.loads(text)


def _unicode_json(unreadable: Callable[[str], Any]) -> Codec[Any]:
    """JSON as ``json.dumps(value, ensure_ascii=False)`` writes it; text that is not JSON reads as ``unreadable``."""

    def decode(text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            return unreadable(text)

    return Codec("json", lambda value: json.dumps(value, ensure_ascii=False), decode)


def _text_list(text: str) -> list[str]:
    """A JSON list of text; anything else reads as empty."""
    try:
        items = json.loads(text)
    except ValueError:
        return []
    return [str(item) for item in items] if isinstance(items, list) else []


TEXT: Codec[str] = Codec("text", str, str)
WHOLE: Codec[int] = Codec("int", str, _whole)
JSON: Codec[Any] = Codec("json", json.dumps, _strict_json)
TEXT_LIST: Codec[list[str]] = Codec("json list", json.dumps, _text_list)


@dataclass(frozen=True)
class Key(Generic[T]):
    """One fact: its key in the table, how it is stored, and what it reads as when it is not there."""

    name: str
    codec: Codec[T]
    default: T | None = None
    help: str = ""


@dataclass(frozen=True)
class KeyFamily(Generic[T]):
    """Keys made of a prefix and an id (one per clerk, …), each stored like ``first``, whose name is the prefix."""

    first: Key[T]

    @property
    def prefix(self) -> str:
        return self.first.name

    def __call__(self, suffix: str) -> Key[T]:
        return replace(self.first, name=self.prefix + suffix)


# --- the keys -----------------------------------------------------------------------------------------

SEQ: Key[int] = Key("seq", WHOLE, 0, "the last record sequence number handed out (kiosk.records)")
SYNC_COUNTER: Key[int] = Key(
    "sync_counter", WHOLE, 0, "the highest sync request counter reserved (kiosk.uplink.outbox)"
)
LAST_SYNC: Key[Any] = Key(
    "last_sync",
    _unicode_json(lambda text: text or None),  # a dict; text that is not JSON (early releases kept a time) as is
    None,
    'the last sync\'s summary {"at", "ok", "last_ok_at", "sent", "pending", "error", …} (kiosk.uplink.client)',
)
QUEUE_DAY: Key[dict] = Key("queue_day", JSON, None, 'the queue\'s day {"day", "trusted"} (kiosk.queue_day)')
NUMBER_FLOOR: Key[dict] = Key(
    "number_floor", JSON, None, 'numbers moved into the day {"day", "floors"} (kiosk.queue_day)'
)
CATALOG_OWNER: Key[str] = Key("catalog_owner", TEXT, None, "kiosk or central (kiosk.catalog_state)")
CATALOG_REVISION: Key[int] = Key("catalog_revision", WHOLE, 0, "raised by every catalogue change (kiosk.catalog_state)")
CATALOG_DIRTY: Key[list[str]] = Key("catalog_dirty", TEXT_LIST, None, "catalogue items edited here, not yet delivered")
CATALOG_SENT: Key[str] = Key("catalog_sent", TEXT, None, "digest of the catalogue the server last acknowledged")
CATALOG_VERSION: Key[str] = Key("catalog_version", TEXT, None, "version of the server's catalogue document in use")
CATALOG_REFUSED: Key[dict] = Key(
    "catalog_refused", _unicode_json(lambda text: None), None, 'the last document refused {"version", "reason", "at"}'
)
CATALOG_UPLOAD_REFUSED: Key[dict] = Key(
    "catalog_upload_refused",
    _unicode_json(lambda text: None),
    None,
    'this kiosk\'s catalogue the server refused {"digest", "status", "reason", "at"} (kiosk.uplink.upload_refusal)',
)
CATALOG_PAGES: Key[str] = Key(
    "catalog_pages", TEXT, None, "address of the commune's catalogue pages at the central server"
)
CATALOG_SITE: Key[dict] = Key(
    "catalog_site", JSON, None, 'this kiosk\'s reception point {"code", "name"}, as the central server names it'
)
LOGIN_FAILURES: Key[dict] = Key(
    "login_failures", JSON, None, 'wrong clerk PINs in a row {"failures", "locked"} (kiosk.lockout)'
)
ADMIN_LOGIN_FAILURES: Key[dict] = Key(
    "admin_login_failures", JSON, None, "wrong admin passwords in a row, as login_failures"
)
ADMIN_PASSWORD_HASH: Key[str] = Key("admin_password_hash", TEXT, None, "hash of the admin password (kiosk.admin)")
ADMIN_SESSION_EPOCH: Key[int] = Key("admin_session_epoch", WHOLE, 0, "raised when the admin signs out everywhere")
ENROLLED_SCREENS: Key[dict] = Key(
    "enrolled_screens",
    _unicode_json(lambda text: {}),
    None,
    'screens an admin enrolled to cast counted ratings {id: {"name", "counter", "enrolled_at", "by"}} (kiosk.screens)',
)
REMOTE_APPLIED: Key[dict] = Key(
    "remote_applied",
    _unicode_json(lambda text: None),
    None,
    'the remote settings in use {"version", "at", "restart_pending", "pid", "ignored"} (kiosk.uplink.remote_apply)',
)
REMOTE_REFUSED: Key[dict] = Key(
    "remote_refused",
    _unicode_json(lambda text: None),
    None,
    'the last remote settings refused {"version", "reason", "at"}',
)
CLERK_SESSION: KeyFamily[int] = KeyFamily(
    Key("clerk_session:", WHOLE, 0, "a clerk's session epoch, raised at log-out (kiosk.clerks)")
)

KEYS: dict[str, Key[Any]] = {
    key.name: key
    for key in (
        SEQ,
        SYNC_COUNTER,
        LAST_SYNC,
        QUEUE_DAY,
        NUMBER_FLOOR,
        CATALOG_OWNER,
        CATALOG_REVISION,
        CATALOG_DIRTY,
        CATALOG_SENT,
        CATALOG_VERSION,
        CATALOG_REFUSED,
        CATALOG_UPLOAD_REFUSED,
        CATALOG_PAGES,
        CATALOG_SITE,
        LOGIN_FAILURES,
        ADMIN_LOGIN_FAILURES,
        ADMIN_PASSWORD_HASH,
        ADMIN_SESSION_EPOCH,
        ENROLLED_SCREENS,
        REMOTE_APPLIED,
        REMOTE_REFUSED,
    )
}
FAMILIES: tuple[KeyFamily[Any], ...] = (CLERK_SESSION,)


def declared(name: str) -> Key[Any]:
    """The key declared under ``name`` (KeyError for a key nobody declared)."""
    if name in KEYS:
        return KEYS[name]
    for family in FAMILIES:
        if name.startswith(family.prefix):
            return family(name[len(family.prefix) :])
    raise KeyError(f"device_state key {name!r} is not declared in kiosk.device_state")


def as_text(key: Key[Any] | str) -> Key[str]:
    """The same key read and written as its stored text, unchanged (for callers that keep the text)."""
    name = key.name if isinstance(key, Key) else declared(key).name
    return Key(name, TEXT)


def _decoded(key: Key[T], text: str | None) -> T | None:
    return key.default if text is None else key.codec.decode(text)


# --- in an ORM session --------------------------------------------------------------------------------


def _row(session: Session, key: Key[Any]) -> DeviceState | None:
    row = session.get(DeviceState, key.name)
    return None if row is None or row in session.deleted else row


def get(session: Session, key: Key[T]) -> T | None:
    """The value of ``key`` in the session's transaction (its default when it is not stored)."""
    row = _row(session, key)
    return _decoded(key, row.value if row is not None else None)


def put(session: Session, key: Key[T], value: T | None) -> None:
    """Store ``value`` under ``key`` in the session's transaction; ``None`` removes the key."""
    row = _row(session, key)
    if value is None:
        if row is not None:
            session.delete(row)
        return
    row = row or DeviceState(key=key.name)
    row.value = key.codec.encode(value)
    session.add(row)


# --- by driver SQL ------------------------------------------------------------------------------------


def load(scalars: Scalars, *keys: Key[Any]) -> list[Any]:
    """The values of ``keys`` (in that order), read by one statement of ``scalars``."""
    marks = ", ".join("?" * len(keys))
    lines = scalars(
        f"SELECT key || char(9) || value FROM device_state WHERE key IN ({marks})", tuple(k.name for k in keys)
    )
    found = dict(line.split("\t", 1) for line in lines)
    return [_decoded(key, found.get(key.name)) for key in keys]


def read(engine: Any, key: Key[T]) -> T | None:
    """The value of ``key`` by a plain read that never waits for a writer."""
    return load(scalars_reader(engine), key)[0]


def store(scalars: Scalars, key: Key[T], value: T) -> None:
    """Store ``value`` under ``key`` in the transaction of ``scalars``."""
    scalars(_UPSERT, (key.name, key.codec.encode(value)))


def write(engine: Any, key: Key[T], value: T) -> None:
    """Store ``value`` under ``key`` in a transaction of its own, committed before it returns."""
    with write_transaction(engine) as scalars:
        store(scalars, key, value)


def add(scalars: Scalars, key: Key[int], n: int, floor: int = 0) -> int:
    """Raise a whole-number key by ``n`` (from at least ``floor``) in the caller's transaction; the new value.

    One statement, so a number is never handed out twice, whoever else writes.
    """
    found = scalars(_ADD, (floor, n, key.name))
    if not found:
        scalars("INSERT INTO device_state (key, value) VALUES (?, ?)", (key.name, key.codec.encode(floor + n)))
        return floor + n
    return int(found[0])


_UPSERT = "INSERT INTO device_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
_ADD = "UPDATE device_state SET value = CAST(MAX(CAST(value AS INTEGER), ?) + ? AS TEXT) WHERE key = ? RETURNING value"
