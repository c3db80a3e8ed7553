"""A real central server for the package tests: ``kiosk-central serve`` on this machine (a booted container shares
its network, so the kiosk in it reaches the central on 127.0.0.1) with the container's kiosk added to it, and the
settings the commune writes into the kiosk's /etc/kiosk/kiosk.toml to sync there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.central_server import CentralServer
from tests.container.machine import Container


@contextmanager
def serving_central(folder: Path) -> Iterator[CentralServer]:
    """A central server with its data in ``folder``, serving; ``.device`` the KIOSK_* settings of a kiosk added
    to it."""
    server = CentralServer(folder)
    server.cli("init")
    server.device = server.add_device("Kiosk Một cửa", "XTN", "UBND xã Thử Nghiệm")
    with server:
        yield server


def sync_to(box: Container, central: CentralServer, interval: int = 3) -> None:
    """Append to the container's kiosk.toml what makes its kiosk sync to ``central`` every ``interval`` seconds
    (read at the kiosk's next start)."""
    settings = {k.removeprefix("KIOSK_").lower(): v for k, v in central.device.items()}
    settings.update(central_url=central.base)
    lines = [f"{key} = {json.dumps(value)}\n" for key, value in settings.items()] + [f"sync_interval = {interval}\n"]
    with box.path("/etc/kiosk/kiosk.toml").open("a") as toml:
        toml.writelines(lines)
