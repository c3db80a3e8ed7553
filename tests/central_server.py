"""A real `kiosk-central` for browser tests: its CLI as a subprocess, and `serve` on a free port.

SQLite in the data directory (the small default); the PostgreSQL path is covered by tests/central.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.server import free_port


class CentralServer:
    """`python -m sync.cli serve` with its data in ``data_dir`` (cookies without HTTPS, as on a test host)."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None):
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        self.env.update(
            {
                "KIOSK_DATA_DIR": str(self.data_dir),
                "KIOSK_CONFIG": str(self.data_dir / "no-config.toml"),
                "KIOSK_CENTRAL_SECURE_COOKIES": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir / "central.log"

    def cli(self, *args: str, timeout: float = 60) -> str:
        """Run `kiosk-central ARGS`; its output, or AssertionError with the output when it fails."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "sync.cli", *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"kiosk-central {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def add_device(self, name: str, commune: str, commune_name: str) -> dict[str, str]:
        """The KIOSK_* settings `add-device` prints once (device id, secret, commune code)."""
        out = self.cli("add-device", name, "--commune", commune, "--commune-name", commune_name)
        return dict(re.findall(r"^(KIOSK_[A-Z_]+)=(\S+)$", out, re.M))

    def start(self, timeout: float = 30.0) -> CentralServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "sync.cli", "serve", "--port", str(self.port)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kiosk-central exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                requests.get(self.base + "/login", timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"kiosk-central did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self) -> CentralServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
