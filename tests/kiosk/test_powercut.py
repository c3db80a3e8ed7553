"""Power cuts: a real `kiosk serve` is killed with SIGKILL at random moments while ratings arrive.

After every restart, every rating that was answered 201 is in the database, the database passes
`PRAGMA integrity_check`, and the server comes back by itself.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time

import pytest
import requests

from tests.server import KioskServer

ROUNDS = 12
THREADS = 4


def rate_until_dead(base: str, acknowledged: list[str], stop: threading.Event, rng: random.Random) -> None:
    session = requests.Session()
    levels = ["very_satisfied", "satisfied", "unsatisfied"]
    while not stop.is_set():
        body = {"level": rng.choice(levels), "channel": "touch", "counter": rng.choice([1, 2, 3])}
        if rng.random() < 0.3:
            body["criteria"] = {"time": "satisfied", "attitude": "very_satisfied"}
            body["comment"] = "Cán bộ nhiệt tình"
        try:
            r = session.post(base + "/api/ratings", json=body, timeout=5)
        except requests.RequestException:
            return  # the server is gone: nothing was acknowledged for this request
        if r.status_code == 201:
            acknowledged.append(r.json()["id"])


@pytest.mark.slow
def test_every_acknowledged_rating_survives_sigkill(tmp_path):
    rng = random.Random(20261122)
    server = KioskServer(tmp_path / "var", env={"KIOSK_RESPONSE_INTERVAL": "0"})
    acknowledged: list[str] = []
    db_path = tmp_path / "var" / "kiosk.db"
    try:
        for round_no in range(ROUNDS):
            server.start()
            stop = threading.Event()
            workers = [
                threading.Thread(
                    target=rate_until_dead, args=(server.base, acknowledged, stop, random.Random(rng.random()))
                )
                for _ in range(THREADS)
            ]
            for w in workers:
                w.start()
            time.sleep(rng.uniform(0.05, 0.6))
            server.kill()  # SIGKILL: no cleanup, no final commit, like pulling the plug on the process
            stop.set()
            for w in workers:
                w.join(10)

            db = sqlite3.connect(db_path)
            try:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"round {round_no}"
                stored = {row[0] for row in db.execute("SELECT id FROM ratings")}
                # Detail rows are written in the same transaction as their rating: never orphaned.
                orphans = db.execute(
                    "SELECT count(*) FROM indicator_answers a LEFT JOIN ratings r ON r.id = a.rating_id WHERE r.id IS NULL"
                ).fetchone()[0]
            finally:
                db.close()
            lost = [rid for rid in acknowledged if rid not in stored]
            assert lost == [], f"round {round_no}: {len(lost)} acknowledged ratings lost"
            assert orphans == 0
        assert len(acknowledged) > ROUNDS * 5, "the test must actually store ratings between the kills"
        server.start()  # and once more: it starts by itself after the last cut
        assert requests.get(server.base + "/healthz", timeout=5).json()["db"] == "ok"
    finally:
        server.stop()
