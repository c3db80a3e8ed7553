"""How long systemd waits for `kiosk serve` to say READY=1, and what one watchdog round costs.

Start → READY decides how long the screen stays dark after a crash or a power cut (and `TimeoutStartSec=` in
systemd/kiosk.service); the watchdog round runs every 15 s for the life of the kiosk, so it must be cheap.
On a 100 MB database (years of visits, bench/big_kiosk_db.py) it also times the start-up check of kiosk.db_guard,
``PRAGMA quick_check``, against the full ``integrity_check`` it chose not to run (why: kiosk.db_guard.problem), and
start → READY after a clean stop and after SIGKILL (the WAL replayed and checkpointed at start).
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
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import row, summary_ms  # noqa: E402

ROUNDS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_to_ready(data_dir: Path, crash: bool = False) -> float:
    """Seconds from starting the process to the READY=1 datagram; with ``crash``, it then takes ratings and is
    killed (SIGKILL), leaving its WAL behind as a power cut would."""
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
    started, port = time.monotonic(), _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while "READY=1" not in listener.recv(4096).decode().split("\n"):
            pass
        ready = time.monotonic() - started
        if crash:
            for _ in range(50):  # urllib: `python bench/startup.py` puts bench/ (and its queue.py) first on the path
                rating = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/ratings",
                    data=b'{"level": "satisfied"}',
                    headers={"Content-Type": "application/json"},
                )
                urllib.request.urlopen(rating, timeout=10).close()
            proc.kill()
        return ready
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


def check_seconds(db: Path, pragma: str) -> float:
    """Median seconds of db_guard's verdict with ``PRAGMA <pragma>`` on ``db`` (page cache warm)."""
    from kiosk.db_guard import sqlite_verdict

    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        assert sqlite_verdict(db, pragma) is None
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def big_database_rows(tmp_path: Path, megabytes: int = 100) -> list[dict]:
    """The start-up check and start → READY on a database of ``megabytes``, after a clean stop and a crash."""
    from bench.big_kiosk_db import big_database

    db = big_database(tmp_path / "big", megabytes)
    size = f"{db.stat().st_size / 1e6:.0f} MB"
    quick, full = check_seconds(db, "quick_check"), check_seconds(db, "integrity_check")
    clean = statistics.median(start_to_ready(tmp_path / "big") for _ in range(ROUNDS))
    crashed = []
    for _ in range(ROUNDS):
        start_to_ready(tmp_path / "big", crash=True)
        crashed.append(start_to_ready(tmp_path / "big"))
    return [
        row("startup", f"start-up check, {size} database: quick_check", quick, "s", "", "what kiosk.db_guard runs"),
        row(
            "startup",
            f"start-up check, {size} database: integrity_check",
            full,
            "s",
            "",
            f"{full / quick:.1f}× quick_check",
        ),
        row("startup", f"start → READY=1, {size} database, after a clean stop, median", clean, "s", "< 5 s"),
        row(
            "startup",
            f"start → READY=1, {size} database, after SIGKILL, median",
            statistics.median(crashed),
            "s",
            "",
            "WAL replayed, quick_check, checkpoint",
        ),
    ]


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        fresh = [start_to_ready(tmp_path / f"fresh{i}") for i in range(ROUNDS)]
        restart = [start_to_ready(tmp_path / "fresh0") for _ in range(ROUNDS)]
        rounds = summary_ms(watchdog_round(tmp_path))
        big = big_database_rows(tmp_path)
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
        *big,
    ]


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']}: {r['value']:.3f} {r['unit']} {r['target']}")
