"""The catalogue's field rules both programs apply: codes, PINs, names, numbers, ticket prefixes, a usable catalogue.

Every door of the catalogue — the kiosk's ``/admin`` and ``kiosk`` commands, the central pages, ``import-config``,
a kiosk's upload and the document a kiosk takes down — checks each field with these (through
:mod:`common.catalog_items`, :mod:`common.catalog_edit` and :mod:`common.catalog_apply`). Messages are gettext
msgids (English, ``%(name)s`` placeholders) translated where they are shown. Text is checked like the sync
protocol's (:mod:`common.safe_text`): no NUL, no control character, no lone surrogate, a bounded length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from common.errors import NotFoundError, ValidationError
from common.safe_text import text_problem

PIN_RE = re.compile(r"^[0-9]{4,8}$")
CODE_RE = re.compile(r"^[A-Z0-9]{1,16}$")
PREFIX_RE = re.compile(r"^[A-Z]{0,4}$")
LEVEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")  # a clerk's id (a UUID)
MAX_NAME = 200
MAX_LABEL = 100  # a counter's name, a level's label, an answer's wording
MAX_PIN_HASH = 200
MAX_DAILY = 9999
MAX_COUNTER = 999
MAX_LEVEL_POINTS = 10
#: How many entries a section of one commune's catalogue may hold (the scale: 2 to 5 levels in use).
MAX_ENTRIES = {"services": 100, "counters": MAX_COUNTER, "clerks": 1000, "scale": 10, "questions": 10}
MIN_LEVELS, MAX_LEVELS = 2, 5
#: The reception point (site) every commune has from the start, its one-stop centre; a counter listed without
#: its point stands there.
MAIN_SITE = "TT"


def hash_pin(pin: str) -> str:
    return generate_password_hash(pin)


def pin_matches(clerk: Any, pin: str) -> bool:
    return check_password_hash(clerk.pin_hash, pin)


def invalid(field: str, msgid: str, **params: Any) -> ValidationError:
    """A refusal whose message can be translated: ``msgid`` (English, %(name)s placeholders) is the gettext msgid."""
    return ValidationError(msgid % params, {"field": field, "msgid": msgid, "params": params})


def missing(field: str, msgid: str, **params: Any) -> NotFoundError:
    return NotFoundError(msgid % params, {"field": field, "msgid": msgid, "params": params})


def safe(text: str, field: str) -> str:
    """``text`` when every database of ours can store it (as the sync protocol checks a record's text)."""
    found = text_problem(text)
    if found is not None:
        char = f"U+{ord(text[found[0]]):04X}"
        raise invalid(field, "The text contains a character that cannot be stored (%(char)s).", char=char)
    return text


def _text(value: Any) -> str:
    """NFC text, trimmed (a number in a document is written out; true or false is no text)."""
    if value is not None and not isinstance(value, str):
        value = "" if isinstance(value, bool) else str(value)
    return unicodedata.normalize("NFC", value or "").strip()


def text_field(value: Any, field: str, missing: str, limit: int = MAX_NAME) -> str:
    """NFC text (Vietnamese typed with combining marks is stored composed), trimmed, not empty, not too long."""
    text = _text(value)
    if not text:
        raise invalid(field, missing)
    if len(text) > limit:
        raise invalid(field, "The name is longer than %(limit)s characters.", limit=limit)
    return safe(text, field)


def label_field(value: Any, field: str, fallback: str, limit: int = MAX_LABEL) -> str:
    """Like :func:`text_field`, but a blank value is ``fallback`` (a counter without a name is "Quầy N")."""
    text = _text(value)
    if len(text) > limit:
        raise invalid(field, "The name is longer than %(limit)s characters.", limit=limit)
    return safe(text, field) or fallback


def upper_code(value: Any) -> str:
    """A code as typed, trimmed and in capitals ("" when it is no text); :data:`CODE_RE` says if it is one."""
    return value.strip().upper() if isinstance(value, str) else ""


def pin_field(value: Any, *, required: bool = True) -> str | None:
    """4 to 8 digits (None when not ``required`` and left blank: the PIN is kept)."""
    pin = _text(value)
    if not pin and not required:
        return None
    if not PIN_RE.match(pin):
        raise invalid("pin", "The PIN must be 4 to 8 digits.")
    return pin


def pin_hash_field(value: Any, code: str) -> str:
    """A stored PIN hash as a document carries it: text, not empty, storable."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PIN_HASH:
        raise invalid("pin", "Clerk %(code)s needs a PIN (4 to 8 digits).", code=code)
    return safe(value, "pin")


def whole(value: Any, field: str, low: int, high: int, *, blank_ok: bool = False) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text and blank_ok:
        return None
    if not re.fullmatch(r"[0-9]{1,6}", text) or not low <= int(text) <= high:
        raise invalid(field, "Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    return int(text)


def prefix_field(value: Any) -> str:
    prefix = value.strip().upper() if isinstance(value, str) else ("" if value is None else "?")
    if not PREFIX_RE.match(prefix):
        raise invalid("prefix", "The ticket prefix must be at most 4 letters without accents, e.g. A.")
    return prefix


def prefix_taken(prefix: str, other: str) -> ValidationError:
    """The refusal of a prefix service ``other`` already has (two services would print the same numbers)."""
    if not prefix:
        return invalid(
            "prefix",
            "Service %(other)s already has no prefix; two services without a prefix would print the same numbers.",
            other=other,
        )
    return invalid(
        "prefix",
        "Service %(other)s already uses the prefix “%(prefix)s”; two services with one prefix would print the same numbers.",
        other=other,
        prefix=prefix,
    )


def ticket_prefix(value: Any, holder: Callable[[str], str | None]) -> str:
    """A ticket prefix no other service has (``holder(prefix)``: the code of the service that has it, if any)."""
    prefix = prefix_field(value)
    clash = holder(prefix)
    if clash:
        raise prefix_taken(prefix, clash)
    return prefix


def flag(value: Any) -> bool:
    """A form's checkbox: ticked is "1", "on", "true" or "yes"."""
    return str(value or "").strip().lower() in {"1", "on", "true", "yes"}


def doc_flag(value: Any, field: str = "active") -> bool:
    """A document's true/false (missing: true — an item listed is in use unless it says otherwise)."""
    if value is None:
        return True
    if not isinstance(value, bool):
        raise invalid(field, "“%(name)s” must be true or false.", name=field)
    return value


def pin_holder(clerks: Iterable[Any], pin: str, exclude: str | None = None) -> Any | None:
    """The active clerk (other than ``exclude``) whose PIN this already is, if any.

    One scrypt check per active clerk (about 0.1 s each): fine for an administrator's form, and the only
    way, since every hash has its own salt.
    """
    for clerk in sorted((c for c in clerks if c.active), key=lambda c: c.code):
        if clerk.id != exclude and pin_matches(clerk, pin):
            return clerk
    return None


def free_clerk_code(taken: Iterable[str]) -> str:
    """The first code CC01, CC02, … not in ``taken``."""
    used = set(taken)
    return next(f"CC{n:02d}" for n in range(1, 10_000) if f"CC{n:02d}" not in used)


def unusable(catalog: Mapping[str, Any], had_clerk: bool = True, points: Iterable[str] = ()) -> ValidationError | None:
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
    problem = stranded_field(catalog, points)
    if problem is not None:
        return problem
    if had_clerk and not any(c.get("active", True) for c in catalog.get("clerks", [])):
        return invalid("active", "No clerk could sign in any more: at least one clerk must stay active.")
    return None


def counter_site(counter: Mapping[str, Any]) -> str:
    """The reception point a counter entry stands at (one listed without it: the commune's centre)."""
    return counter.get("site") or MAIN_SITE


def stranded_field(catalog: Mapping[str, Any], points: Iterable[str] = ()) -> ValidationError | None:
    """A service in use that some reception point offers with no open counter there to call its tickets, or None.

    A point offers the commune's services when it has an open counter, or a kiosk (``points``): a kiosk there
    issues tickets for every service in use, and a ticket nobody can call strands a citizen.
    """
    in_use = [s for s in catalog.get("services", []) if s.get("active", True)]
    handled: dict[str, set[str]] = {site: set() for site in points}
    for counter in catalog.get("counters", []):
        if counter.get("active", True):
            handled.setdefault(counter_site(counter), set()).update(counter.get("services") or [])
    for site in sorted(handled):
        for service in in_use:
            if service["code"] not in handled[site]:
                return invalid(
                    "active",
                    "Service %(name)s has no open counter at reception point %(site)s: open a counter that handles "
                    "this service or take the service out of use.",
                    name=service.get("name") or service["code"],
                    code=service["code"],
                    site=site,
                )
    return None
