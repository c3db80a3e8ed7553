"""Start a real `kiosk serve` subprocess for tests and benchmarks, and wait until it answers."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess(ABC):
    """A program of ours started as a subprocess on a free port, with its data in ``data_dir``.

    Subclasses say what to run (:meth:`command`) and when it is up (:meth:`answers`).
    """

    name = "server"
    log_name = "server.log"

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, defaults: dict[str, str] | None = None):
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        self.env.update(
            {
                "KIOSK_DATA_DIR": str(self.data_dir),
                "KIOSK_CONFIG": str(self.data_dir / "no-config.toml"),
                "PYTHONUNBUFFERED": "1",
                **(defaults or {}),
            }
        )
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir / self.log_name
        #: (soft, hard) RLIMIT_NOFILE of the process, when a test wants it lower than its own.
        self.open_files: tuple[int, int] | None = None

    def _limits(self) -> None:  # in the child, before it runs the program
        if self.open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, self.open_files)

    @abstractmethod
    def command(self) -> list[str]:
        """The program and its arguments."""

    @abstractmethod
    def answers(self) -> bool:
        """Whether the server is up (called until it is, or the timeout ends)."""

    def start(self, timeout: float = 120.0):  # polled: only a loaded machine (the suite on -n 3) waits that long
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self._limits if self.open_files is not None else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if self.answers():
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

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

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class KioskServer(ServerProcess):
    """`python -m kiosk.cli serve` on a free port with its data in ``data_dir``."""

    name = "kiosk serve"

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, demo: bool = False, port: int | None = None):
        super().__init__(
            data_dir,
            env,
            defaults={"KIOSK_GPIO": "mock", "KIOSK_PRINTER": "none", "KIOSK_CLOCK_SYNC": "yes"},
        )
        if port:
            self.port, self.base = port, f"http://127.0.0.1:{port}"
        self.demo = demo

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "kiosk.cli",
            "serve",
            "--port",
            str(self.port),
            *(["--demo"] if self.demo else []),
        ]

    def answers(self) -> bool:
        return requests.get(self.base + "/healthz", timeout=1).status_code == 200

    def cli(self, *args: str, env: dict[str, str] | None = None, input: str | None = None, check: bool = True):
        """Run `kiosk ARGS` on this kiosk's data; the finished process (AssertionError if it failed and ``check``)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "kiosk.cli", *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
        )
        assert done.returncode == 0 or not check, f"kiosk {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done
