"""Signed catalogue uploads to a real `kiosk-central serve`, sent the way a kiosk's client sends them.

A commune with two registered kiosks (``A`` uploads, ``B`` takes the commune's document down), on SQLite or
PostgreSQL (``central_db``), and a valid catalogue to start from (:func:`base_catalogue`): 2 services,
3 counters, clerks with PINs 1111, 2222 and 3333.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import requests

from common.catalog_rules import hash_pin
from sync import protocol
from tests.central_server import CentralServer

COMMUNE, COMMUNE_NAME = "26734", "Xã Tân Hòa"
PINS = {"Nguyễn Thị Lan": "1111", "Trần Văn Minh": "2222", "Lê Thị Hoa": "3333"}


class Kiosk:
    """One registered kiosk talking to the central process: signed requests with its own counter."""

    def __init__(
        self, server: CentralServer, name: str, commune: str = COMMUNE, identity: tuple[str, str, int] | None = None
    ) -> None:
        """A kiosk registered now (``add-device``), or one already registered: ``identity`` (id, secret, counter)."""
        if identity is None:
            settings = server.add_device(name, commune, COMMUNE_NAME)
            identity = (settings["KIOSK_DEVICE_ID"], settings["KIOSK_DEVICE_SECRET"], 0)
        self.server, self.name, self.commune = server, name, commune
        self.id, self.secret, self.counter = identity

    def _send(self, method: str, body: bytes) -> requests.Response:
        self.counter += 1
        headers = protocol.request_headers(self.secret, method, protocol.CATALOG_PATH, self.id, self.counter, body)
        if body:
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        url = self.server.base + protocol.CATALOG_PATH
        return requests.request(method, url, data=body or None, headers=headers, timeout=60)

    def upload(self, catalog: dict[str, Any], changed: list[str] | None = None) -> requests.Response:
        """``POST /api/v1/catalog`` with this catalogue, as the kiosk's client sends an edited one."""
        body = {
            "v": protocol.PROTOCOL_VERSION,
            "device": self.id,
            "commune": self.commune,
            "applied": None,
            "refused": None,
            "catalog": catalog,
            "digest": hashlib.sha256(json.dumps(catalog, sort_keys=True).encode()).hexdigest(),
            "changed": changed if changed is not None else everything(catalog),
        }
        # JSON escapes (ensure_ascii) carry any string, a lone surrogate too, as a hostile kiosk could send it
        return self._send("POST", gzip.compress(json.dumps(body).encode(), mtime=0))

    def document(self) -> dict[str, Any]:
        """The commune's catalogue document as this kiosk takes it down (``GET /api/v1/catalog``)."""
        answer = self._send("GET", b"")
        assert answer.status_code == 200, answer.text
        return answer.json()


def start_central(data_dir: Path, database_url: str) -> CentralServer:
    return CentralServer(data_dir, {"KIOSK_CENTRAL_DATABASE_URL": database_url}).start()


def everything(catalog: dict[str, Any]) -> list[str]:
    """Every item of ``catalog`` as edited (``changed``), as a kiosk whose admin touched them all."""
    return [
        *(f"service:{s['code']}" for s in catalog.get("services", []) if isinstance(s.get("code"), str)),
        *(f"counter:{c['number']}" for c in catalog.get("counters", []) if isinstance(c.get("number"), int)),
        *(f"clerk:{c['id']}" for c in catalog.get("clerks", []) if isinstance(c.get("id"), str)),
        "scale",
        "questions",
    ]


def clerk(name: str, code: str, pin: str, counter: int | None, active: bool = True) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "code": code,
        "name": name,
        "pin_hash": hash_pin(pin),
        "counter": counter,
        "active": active,
    }


def base_catalogue() -> dict[str, Any]:
    """A usable catalogue as a kiosk's snapshot has it."""
    return {
        "services": [
            {"code": "HT", "name": "Hộ tịch", "prefix": "A", "daily_max": None, "active": True},
            {"code": "CT", "name": "Chứng thực", "prefix": "B", "daily_max": None, "active": True},
        ],
        "counters": [
            {"number": 1, "name": "Quầy 1", "active": True, "services": ["HT"]},
            {"number": 2, "name": "Quầy 2", "active": True, "services": ["CT"]},
            {"number": 3, "name": "Quầy 3", "active": True, "services": ["CT", "HT"]},
        ],
        "clerks": [clerk(name, f"CC0{i}", pin, i) for i, (name, pin) in enumerate(PINS.items(), 1)],
        "scale": [
            {"key": "very_satisfied", "label": "Rất hài lòng", "points": 2, "active": True},
            {"key": "satisfied", "label": "Hài lòng", "points": 1, "active": True},
            {"key": "unsatisfied", "label": "Không hài lòng", "points": 0, "active": True},
        ],
        "questions": [],
    }


def changed_copy(catalog: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(catalog)
