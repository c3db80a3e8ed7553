"""Start a real `kiosk serve` subprocess for tests and benchmarks, and wait until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KioskServer:
    """`python -m kiosk.cli serve` on a free port with its data in ``data_dir``."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, demo: bool = False, port: int | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        self.env.update(
            {
                "KIOSK_DATA_DIR": str(self.data_dir),
                "KIOSK_CONFIG": str(self.data_dir / "no-config.toml"),
                "KIOSK_GPIO": "mock",
                "KIOSK_PRINTER": "none",
                "KIOSK_CLOCK_SYNC": "yes",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env.update(env or {})
        self.demo = demo
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir / "server.log"

    def start(self, timeout: float = 30.0) -> KioskServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "kiosk.cli", "serve", "--port", str(self.port)]
        if self.demo:
            args.append("--demo")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kiosk serve exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"kiosk serve did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> KioskServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
