"""Device secrets derived from one server master key, so the database holds nothing that can sign.

HMAC is symmetric: the server must be able to recompute each device's secret. Storing the secrets (even
encrypted next to their key) would let anyone with a database dump forge batches. Instead a device's
secret is HMAC-SHA256(master key, "device-secret/<id>/<key_version>"): `add-device` prints it once, the
server recomputes it on every request, and the database keeps only its SHA-256 fingerprint (to tell a
changed master key from a wrong signature). Bumping ``key_version`` rotates one device's secret.

The master key comes from the ``central_secret_key`` setting or, when that is empty, from the file
``DATA_DIR/central_secret_key`` (made once, mode 0600). Back it up with the database: without it no
kiosk can sync until each is given a new secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from common.errors import ConfigError

KEY_FILE = "central_secret_key"


def key_path(settings: Mapping[str, Any]) -> Path:
    return Path(settings["data_dir"]).resolve() / KEY_FILE


def master_key(settings: Mapping[str, Any], may_create: Callable[[], bool] = lambda: True) -> bytes:
    """The master key; made (and saved) only when none exists and ``may_create()`` agrees."""
    if settings.get("central_secret_key"):
        return str(settings["central_secret_key"]).encode()
    path = key_path(settings)
    try:
        return path.read_text().strip().encode()
    except FileNotFoundError:
        if not may_create():
            raise ConfigError(
                f"The central database already has devices but the master key {path} is missing: point "
                "KIOSK_DATA_DIR at the folder that holds it, or set KIOSK_CENTRAL_SECRET_KEY."
            ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key.encode()


def device_secret(master: bytes, device_id: str, key_version: int) -> str:
    return hmac.new(master, f"device-secret/{device_id}/{key_version}".encode(), "sha256").hexdigest()


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def flask_secret(master: bytes) -> str:
    """A session-cookie key for the central server's pages, derived so there is one key to keep."""
    return hmac.new(master, b"flask-session", "sha256").hexdigest()
