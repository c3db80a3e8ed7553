"""A real `kiosk-central` for browser tests: its CLI as a subprocess, and `serve` on a free port.

SQLite in the data directory (the small default); the PostgreSQL path is covered by tests/central.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

from tests.server import ServerProcess


class CentralServer(ServerProcess):
    """`python -m central.cli serve` with its data in ``data_dir`` (cookies without HTTPS, as on a test host)."""

    name = "kiosk-central"
    log_name = "central.log"

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None):
        super().__init__(data_dir, env, defaults={"KIOSK_CENTRAL_SECURE_COOKIES": "false"})

    def command(self) -> list[str]:
        return [sys.executable, "-m", "central.cli", "serve", "--port", str(self.port)]

    def answers(self) -> bool:
        requests.get(self.base + "/login", timeout=1)
        return True

    def cli(self, *args: str, timeout: float = 60) -> str:
        """Run `kiosk-central ARGS`; its output, or AssertionError with the output when it fails."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "central.cli", *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"kiosk-central {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def add_device(self, name: str, commune: str, commune_name: str) -> dict[str, str]:
        """The KIOSK_* settings `add-device` prints once (device id, secret, commune code)."""
        out = self.cli("add-device", name, "--commune", commune, "--commune-name", commune_name)
        return dict(re.findall(r"^(KIOSK_[A-Z_]+)=(\S+)$", out, re.M))


def sign_in(base: str, username: str, password: str) -> requests.Session:
    """A requests session signed in to the central pages at ``base`` through the real form."""
    web = requests.Session()
    page = web.get(f"{base}/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = web.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrf_token": csrf},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return web
