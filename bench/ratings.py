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


class RawInsert:
    """The physical floor: one INSERT and COMMIT with the same pragmas (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE ratings (id TEXT PRIMARY KEY, seq INTEGER UNIQUE, device_time TEXT, clock_synced INT, "
            "level TEXT, points INT, channel TEXT, panel TEXT, counted INT, flag TEXT, counter_number INT)"
        )
        self.seq = 0

    def once(self) -> float:
        self.seq += 1
        start = time.perf_counter()
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "INSERT INTO ratings VALUES (?, ?, datetime('now'), 1, 'satisfied', 1, 'button', 'buttons', 1, NULL, 1)",
            (str(uuid.uuid4()), self.seq),
        )
        self.db.execute("COMMIT")
        return time.perf_counter() - start


class ButtonPress:
    """A press on the mock button panel until the rating is committed (the same call the real pins make)."""

    def __init__(self, data_dir: Path) -> None:
        from kiosk.app import create_app

        app = create_app({"data_dir": str(data_dir), "gpio": "mock", "response_interval": 0.0, "clock_sync": "yes"})
        self.kiosk = app.extensions["kiosk"]
        panel = self.kiosk.hardware["rating_panel"]
        self.pin = self.kiosk.hardware["pin_factory"].pin(self.kiosk.settings["button_pins"][1])  # "satisfied"
        panel.led_seconds = 0.001
        self.committed_at = 0.0
        store = panel.on_press

        def timed_store(key: str) -> None:
            store(key)  # returns after COMMIT; the LED and buzzer come after this
            self.committed_at = time.perf_counter()

        panel.on_press = timed_store

    def once(self) -> float:
        start = time.perf_counter()
        self.pin.drive_low()  # the pin callback stores the rating, then lights the LED
        self.pin.drive_high()
        return self.committed_at - start


def measure(tmp: Path) -> tuple[list[float], list[float]]:
    """Both paths alternate in one loop, so both see the same machine load and disk state."""
    raw, press = RawInsert(tmp / "raw.db"), ButtonPress(tmp / "kiosk")
    for _ in range(50):  # warm up: statement caches, first pages, as on a running kiosk
        raw.once(), press.once()
    raw_times, press_times = [], []
    for _ in range(N):
        raw_times.append(raw.once())
        press_times.append(press.once())
    press.kiosk.close()
    return raw_times, press_times


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
        raw_times, press_times = measure(Path(tmp))
    raw, svc = summary_ms(raw_times), summary_ms(press_times)
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
