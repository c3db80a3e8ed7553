"""Shared pieces of the queue tests: an app without a printer, clerks, logging in, reading the database."""

from __future__ import annotations

import functools
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from common.catalog_rules import hash_pin
from kiosk.app import create_app
from kiosk.db import transaction

PINS = {1: "1111", 2: "2222", 3: "3333"}
NAMES = ["Nguyễn Thị Lan", "Trần Văn Minh", "Lê Thị Hoa"]


@functools.cache
def _hash(pin: str) -> str:
    """The PIN hash of kiosk.catalog (scrypt, slow on purpose), computed once per test session."""
    return hash_pin(pin)


def make_app(data_dir: Path, clock: Any, **settings: Any):
    """An app on ``data_dir`` with mock pins, no printer and the clerks of counters 1–3."""
    config = {"data_dir": str(data_dir), "gpio": "mock", "printer": "none", "announcer": "none", "TESTING": True}
    config.update(settings)
    app = create_app(config, clock=clock)
    kiosk = app.extensions["kiosk"]
    with transaction(kiosk.sessions) as session:
        from sqlalchemy import select

        from kiosk.models import Clerk, Counter

        if session.scalar(select(Clerk.id).limit(1)) is None:
            for (counter, pin), name in zip(PINS.items(), NAMES, strict=True):
                if session.get(Counter, counter) is not None:
                    session.add(Clerk(name=name, code=f"CC{counter:02d}", pin_hash=_hash(pin), counter_number=counter))
    return app


def login(client, counter: int, pin: str | None = None):
    response = client.post("/api/clerk/login", json={"counter": counter, "pin": pin or PINS[counter]})
    assert response.status_code == 200, response.get_json()
    return response


def issue(client, service: str = "HT", priority: bool = False) -> dict:
    response = client.post("/api/tickets", json={"service": service, "priority": priority})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def rows(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(db_path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def add_clerks(server: Any) -> None:
    """A clerk at each of counters 1–3 (PINS) of a `kiosk serve` not started yet (tests.server.KioskServer)."""
    for counter, pin in PINS.items():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kiosk.cli",
                "add-clerk",
                f"Công chức {counter}",
                "--pin",
                pin,
                "--counter",
                str(counter),
            ],
            env=server.env,
            check=True,
            capture_output=True,
        )


def set_admin_password(server: Any, password: str) -> None:
    """Set the admin password of a `kiosk serve` not started yet, as `kiosk admin-password` does."""
    subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "admin-password", "--password-stdin"],
        input=password + "\n",
        text=True,
        env=server.env,
        check=True,
        capture_output=True,
    )
