"""How long systemd waits for `kiosk serve` to say READY=1, and what one watchdog round costs.

Start → READY decides how long the screen stays dark after a crash or a power cut (and `TimeoutStartSec=` in
systemd/kiosk.service); the watchdog round runs every 15 s for the life of the kiosk, so it must be cheap.
Run: ``python bench/startup.py`` (or ``python -m bench startup`` to update bench/RESULTS.md).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import row, summary_ms  # noqa: E402

ROUNDS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_to_ready(data_dir: Path) -> float:
    """Seconds from starting the process to the READY=1 datagram."""
    notify = data_dir.parent / f"notify-{time.monotonic_ns()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(120)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(
        KIOSK_DATA_DIR=str(data_dir),
        KIOSK_CONFIG=str(data_dir.parent / "none.toml"),
        KIOSK_GPIO="mock",
        KIOSK_PRINTER="none",
        KIOSK_CLOCK_SYNC="yes",
        NOTIFY_SOCKET=str(notify),
        WATCHDOG_USEC="30000000",
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "serve", "--port", str(_free_port())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while "READY=1" not in listener.recv(4096).decode().split("\n"):
            pass
        return time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(20)
        listener.close()


def watchdog_round(data_dir: Path, n: int = 2000) -> list[float]:
    """Seconds per round of both checks, against a real database and a running waitress loop."""
    from waitress.server import create_server

    from kiosk.db import make_engine, upgrade
    from kiosk.notify import database_check, loop_check

    engine = make_engine(f"sqlite:///{data_dir / 'round.db'}")
    upgrade(engine)
    server = create_server(lambda environ, start: [], host="127.0.0.1", port=0)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    checks = [database_check(engine, 2.0), loop_check(server, 2.0)]
    times = []
    try:
        for _ in range(n):
            started = time.perf_counter()
            assert all(check() is None for check in checks)
            times.append(time.perf_counter() - started)
    finally:
        server.close()
        loop.join(5)
        engine.dispose()
    return times


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        fresh = [start_to_ready(tmp_path / f"fresh{i}") for i in range(ROUNDS)]
        restart = [start_to_ready(tmp_path / "fresh0") for _ in range(ROUNDS)]
        rounds = summary_ms(watchdog_round(tmp_path))
    return [
        row("startup", "start → READY=1, new data directory (migrations), median", statistics.median(fresh), "s"),
        row(
            "startup",
            "start → READY=1, existing database (a restart), median",
            statistics.median(restart),
            "s",
            "< 5 s",
        ),
        row("startup", "one watchdog round (SELECT 1 + loop stamp), median", rounds["median"], "ms", "< 5 ms"),
        row("startup", "one watchdog round, p99", rounds["p99"], "ms"),
    ]


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']}: {r['value']:.3f} {r['unit']} {r['target']}")
