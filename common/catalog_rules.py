"""The catalogue's rules both programs apply: codes, PINs, names, numbers, ticket prefixes, a usable catalogue.

The kiosk's ``/admin``, its ``kiosk`` commands, the central pages, ``import-config`` and a kiosk's upload all
check a catalogue with these; messages are gettext msgids (English, ``%(name)s`` placeholders) translated
where they are shown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from common.errors import NotFoundError, ValidationError

PIN_RE = re.compile(r"^[0-9]{4,8}$")
CODE_RE = re.compile(r"^[A-Z0-9]{1,16}$")
PREFIX_RE = re.compile(r"^[A-Z]{0,4}$")
MAX_NAME = 200
MAX_DAILY = 9999
MAX_COUNTER = 999


def hash_pin(pin: str) -> str:
    return generate_password_hash(pin)


def pin_matches(clerk: Any, pin: str) -> bool:
    return check_password_hash(clerk.pin_hash, pin)


def invalid(field: str, msgid: str, **params: Any) -> ValidationError:
    """A refusal whose message can be translated: ``msgid`` (English, %(name)s placeholders) is the gettext msgid."""
    return ValidationError(msgid % params, {"field": field, "msgid": msgid, "params": params})


def unusable(catalog: Mapping[str, Any], had_clerk: bool = True) -> ValidationError | None:
    """Why a catalogue (in the document's shape) would leave a kiosk unusable, or None.

    It needs a service in use, an open counter that handles one, and — when it had one before (``had_clerk``)
    — an active clerk: a kiosk that nobody can sign in to is worse than one that keeps its old catalogue.
    """
    in_use = {s["code"] for s in catalog.get("services", []) if s.get("active", True)}
    if not in_use:
        return invalid("active", "No service would be in use: at least one service must stay in use.")
    if not any(c.get("active", True) and in_use & set(c.get("services") or []) for c in catalog.get("counters", [])):
        return invalid(
            "active",
            "No open counter would handle a service in use: at least one open counter must handle a service in use.",
        )
    if had_clerk and not any(c.get("active", True) for c in catalog.get("clerks", [])):
        return invalid("active", "No clerk could sign in any more: at least one clerk must stay active.")
    return None


def missing(field: str, msgid: str, **params: Any) -> NotFoundError:
    return NotFoundError(msgid % params, {"field": field, "msgid": msgid, "params": params})


def text_field(value: Any, field: str, missing: str, limit: int = MAX_NAME) -> str:
    """NFC text (Vietnamese typed with combining marks is stored composed), trimmed, not empty, not too long."""
    text = unicodedata.normalize("NFC", str(value or "")).strip()
    if not text:
        raise invalid(field, missing)
    if len(text) > limit:
        raise invalid(field, "The name is longer than %(limit)s characters.", limit=limit)
    return text


def whole(value: Any, field: str, low: int, high: int, *, blank_ok: bool = False) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text and blank_ok:
        return None
    if not re.fullmatch(r"[0-9]{1,6}", text) or not low <= int(text) <= high:
        raise invalid(field, "Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    return int(text)


def ticket_prefix(value: Any, holder: Callable[[str], str | None]) -> str:
    """A ticket prefix no other service has (``holder(prefix)``: the code of the service that has it, if any)."""
    prefix = str(value or "").strip().upper()
    if not PREFIX_RE.match(prefix):
        raise invalid("prefix", "The ticket prefix must be at most 4 letters without accents, e.g. A.")
    clash = holder(prefix)
    if clash and not prefix:
        raise invalid(
            "prefix",
            "Service %(other)s already has no prefix; two services without a prefix would print the same numbers.",
            other=clash,
        )
    if clash:
        raise invalid(
            "prefix",
            "Service %(other)s already uses the prefix “%(prefix)s”; two services with one prefix would print the same numbers.",
            other=clash,
            prefix=prefix,
        )
    return prefix


def flag(value: Any) -> bool:
    return str(value or "").strip().lower() in {"1", "on", "true", "yes"}
