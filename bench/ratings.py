"""Press-to-durable latency of a rating, against a raw sqlite3 insert+commit; idle RSS of `kiosk serve --demo`.

Run: python bench/ratings.py   (or python -m bench for every benchmark)
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import row, summary_ms  # noqa: E402

N = 2000


def raw_sqlite(path: Path) -> list[float]:
    """The physical floor: one INSERT and COMMIT with the same pragmas (WAL, synchronous=FULL)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE ratings (id TEXT PRIMARY KEY, seq INTEGER UNIQUE, device_time TEXT, clock_synced INT, "
        "level TEXT, points INT, channel TEXT, panel TEXT, counted INT, flag TEXT, counter_number INT)"
    )
    times = []
    for i in range(N):
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO ratings VALUES (?, ?, datetime('now'), 1, 'satisfied', 1, 'button', 'buttons', 1, NULL, 1)",
            (str(uuid.uuid4()), i),
        )
        db.execute("COMMIT")
        times.append(time.perf_counter() - start)
    db.close()
    return times


def button_path(data_dir: Path) -> list[float]:
    """A press on the mock button panel until the rating is committed (the same call the real pins make)."""
    from kiosk.app import create_app

    app = create_app({"data_dir": str(data_dir), "gpio": "mock", "response_interval": 0.0, "clock_sync": "yes"})
    kiosk = app.extensions["kiosk"]
    panel = kiosk.hardware["rating_panel"]
    pin = kiosk.hardware["pin_factory"].pin(kiosk.settings["button_pins"][1])  # the "satisfied" button
    panel.led_seconds = 0.001
    committed_at: list[float] = []
    store = panel.on_press

    def timed_store(key: str) -> None:
        store(key)  # returns after COMMIT; the LED and buzzer come after this
        committed_at.append(time.perf_counter())

    panel.on_press = timed_store
    # Warm up (first queries, statement caches), as a running kiosk is.
    for _ in range(20):
        panel.press("satisfied")
    times = []
    for _ in range(N):
        start = time.perf_counter()
        pin.drive_low()  # the pin callback stores the rating, then lights the LED
        times.append(committed_at[-1] - start)
        pin.drive_high()
    kiosk.close()
    return times


def idle_rss_mb() -> float:
    from tests.server import KioskServer

    with tempfile.TemporaryDirectory() as tmp:
        server = KioskServer(Path(tmp) / "var", demo=True, env={"KIOSK_PRINTER": f"spool:{tmp}/spool"}).start()
        try:
            time.sleep(3)
            status = Path(f"/proc/{server.proc.pid}/status").read_text()
            rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        finally:
            server.stop()
    return rss_kb / 1024


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        raw = summary_ms(raw_sqlite(Path(tmp) / "raw.db"))
        svc = summary_ms(button_path(Path(tmp) / "kiosk"))
    rss = idle_rss_mb()
    ratio = svc["median"] / raw["median"]
    return [
        row("ratings", "raw sqlite3 insert+commit, median", raw["median"], "ms", "", "physical floor"),
        row("ratings", "raw sqlite3 insert+commit, p99", raw["p99"], "ms"),
        row("ratings", "button press → durable, median", svc["median"], "ms", "≤ 2× raw", f"{ratio:.2f}× raw"),
        row("ratings", "button press → durable, p99", svc["p99"], "ms", "< 20 ms"),
        row("ratings", "idle RSS of kiosk serve --demo", rss, "MB", "< 80 MB"),
    ]


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:45s} {r['value']:8.2f} {r['unit']:3s}  {r['target']:10s} {r['comparison']}")
