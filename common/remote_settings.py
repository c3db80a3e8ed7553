"""A kiosk's remote settings: the values the commune/province sets from the central pages, as a signed document.

Only settings marked ``remote=True`` in the registry (:mod:`common.settings`) may be set so — never a secret,
the kiosk's identity, its central server's address or its database, nor a setting whose bad value would stop the
kiosk at start (the printer's or announcer's address: a kiosk that does not start cannot be told otherwise). Both programs check the values with the
registry's own parsing (:func:`check`): the central page before it saves a version, the kiosk again before it
applies one. The document ``{"device", "version", "values"}`` is signed at save time with the device's secret
(HMAC-SHA256 over its canonical JSON, :func:`sign`), so a document changed anywhere after the save — in the
database, on the way — is refused by the kiosk (:func:`verify`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from common.errors import ValidationError
from common.settings import BY_NAME, PARSERS, REGISTRY, Setting

#: Values a setting may take besides what its type allows.
CHOICES: dict[str, tuple[str, ...]] = {
    "home_screen": ("rating", "ticket"),
    "language": ("vi", "en"),
    "clock_sync": ("auto", "yes", "no"),
    "upgrade_ring": ("ring0", "stable"),
}
_WIDTH = re.compile(r"^(58|80)(mm)?$")


def remote_settings() -> list[Setting]:
    """The settings the central pages may set, in the registry's order."""
    return [s for s in REGISTRY if s.remote]


def check_one(name: str, raw: Any) -> Any:
    """The value of remote setting ``name`` parsed as the kiosk parses it; ValidationError naming it otherwise."""
    setting = BY_NAME.get(name)
    if setting is None or not setting.remote:
        raise ValidationError(f"Setting {name} cannot be set from the central server.", {"setting": name})
    try:
        value = PARSERS[setting.type](raw)
    except (ValueError, TypeError):
        raise ValidationError(
            f"Setting {name}: {raw!r} is not a valid {setting.type}. {setting.help}", {"setting": name}
        ) from None
    text = str(value)
    bad = (
        (name in CHOICES and text not in CHOICES[name])
        or (name == "printer_width" and not _paper_width(text))
        or (setting.type in ("int", "float") and value < 0)
    )
    if bad:
        allowed = f" Use one of: {', '.join(CHOICES[name])}." if name in CHOICES else ""
        raise ValidationError(f"Setting {name}: {raw!r} is not allowed.{allowed} {setting.help}", {"setting": name})
    return value


def _paper_width(text: str) -> bool:
    """As the printer reads ``printer_width``: 58mm, 80mm, or dots (a multiple of 8 from 128 to 1024)."""
    text = text.strip().lower().replace(" ", "")
    return bool(_WIDTH.match(text)) or (text.isdigit() and 128 <= int(text) <= 1024 and int(text) % 8 == 0)


def check(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every value parsed (:func:`check_one`); the first bad one raises ValidationError naming its setting."""
    if not isinstance(values, Mapping):
        raise ValidationError("Remote settings must be an object of setting names and values.")
    return {name: check_one(name, raw) for name, raw in values.items()}


def canonical(device: str, version: int, values: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: the document as sorted, compact JSON."""
    document = {"device": device, "version": version, "values": dict(values)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, device: str, version: int, values: Mapping[str, Any]) -> str:
    return hmac.new(secret.encode(), canonical(device, version, values), hashlib.sha256).hexdigest()


def verify(secret: str, document: Mapping[str, Any]) -> bool:
    """True when ``document`` (``device``, ``version``, ``values``, ``signature``) is signed with ``secret``."""
    try:
        expected = sign(secret, document["device"], int(document["version"]), document["values"])
    except (KeyError, TypeError, ValueError):
        return False
    return hmac.compare_digest(expected, str(document.get("signature", "")))


#: Where a kiosk reports its remote settings and takes the current document (signed like every call).
REMOTE_PATH = "/api/v1/remote"
#: Where a kiosk uploads the diagnostics bundle it was asked for.
DIAGNOSTICS_PATH = "/api/v1/diagnostics"
#: Largest diagnostics bundle the server takes (bytes of JSON, before compression).
BUNDLE_MAX = 2 * 1024 * 1024
