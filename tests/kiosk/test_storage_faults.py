"""Health tells the truth about the disk and the database while `kiosk serve` runs (issue 12, cases 5 and 6).

From the outside, as a power failure or a full SD card would: files changed under a running server, a disk
filled up (a small tmpfs). The start-up refusal of a damaged database is the deploy side's (kiosk.db_guard).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from tests.server import KioskServer
from tests.small_disk import fill, tmpfs

DISK_FULL_VI = "Bộ nhớ của máy đã đầy"
DAMAGED_VI = "Cơ sở dữ liệu của máy bị hỏng"


@pytest.fixture
def server(tmp_path):
    srv = KioskServer(tmp_path / "var").start()
    yield srv
    srv.stop()


def rate(base: str, n: int = 1) -> list[requests.Response]:
    with requests.Session() as s:
        return [
            s.post(base + "/api/ratings", json={"level": "satisfied", "comment": "Tốt " * 50}, timeout=10)
            for _ in range(n)
        ]


def ticket(base: str) -> requests.Response:
    return requests.post(base + "/api/tickets", json={"service": "HT"}, timeout=10)


def count(db: Path, table: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def assert_refused_plainly(answer: requests.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"], answer.json()


def test_garbage_in_the_middle_of_the_file_is_damage_and_nothing_more_is_written_into_it(server):
    assert all(r.status_code == 201 for r in rate(server.base, 20))
    db = server.data_dir / "kiosk.db"
    con = sqlite3.connect(db)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'services'").fetchone()[0]
    con.close()
    with open(db, "r+b") as f:  # 16 KiB of garbage over the services table, as a failing SD card leaves it
        f.seek((root - 1) * page_size)
        f.write(os.urandom(16 * 1024))
    health = requests.get(server.base + "/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json()["db"] == "damaged" and "integrity" in health.json()["db_detail"]
    assert "database damaged" in health.json()["warnings"]
    assert_refused_plainly(ticket(server.base), 503, DAMAGED_VI)
    assert_refused_plainly(rate(server.base)[0], 503, DAMAGED_VI)
    log = server.log.read_text()
    assert "Traceback" not in log and log.count("database damaged") == 1


def test_a_database_deleted_or_emptied_under_the_running_kiosk_is_said_plainly(tmp_path):
    for harm in ("delete", "empty"):
        srv = KioskServer(tmp_path / harm).start()
        try:
            assert all(r.status_code == 201 for r in rate(srv.base, 3))
            db = srv.data_dir / "kiosk.db"
            if harm == "delete":
                db.unlink()
            else:
                os.truncate(db, 0)
            health = requests.get(srv.base + "/healthz", timeout=10).json()
            assert health["db"] == "damaged"
            assert ("deleted" if harm == "delete" else "emptied") in health["db_detail"]
            assert_refused_plainly(ticket(srv.base), 503, DAMAGED_VI)
            assert_refused_plainly(rate(srv.base)[0], 503, DAMAGED_VI)
        finally:
            srv.stop()


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MiB tmpfs for the data directory (needs root and mount(2), as on CI's container)."""
    with tmpfs(tmp_path / "disk", "24m") as mount:
        yield mount


def test_a_full_disk_answers_507_in_vietnamese_logs_once_and_recovers(small_disk):
    srv = KioskServer(small_disk / "var", env={"KIOSK_DISK_LOW_MB": "8"}).start()
    try:
        db = srv.data_dir / "kiosk.db"
        assert all(r.status_code == 201 for r in rate(srv.base, 5))
        assert requests.get(srv.base + "/healthz", timeout=10).json()["disk"] == "ok"
        filler = fill(small_disk, leave=6 * 1024 * 1024)
        low = requests.get(srv.base + "/healthz", timeout=10)
        assert low.status_code == 200 and low.json()["disk"] == "low" and "disk space low" in low.json()["warnings"]
        assert rate(srv.base)[0].status_code == 201, "a low disk still takes ratings"
        filler.unlink()
        before = count(db, "ratings")
        filler = fill(small_disk, leave=512 * 1024)
        health = requests.get(srv.base + "/healthz", timeout=10)
        assert (
            health.status_code == 503 and health.json()["disk"] == "full" and "disk full" in health.json()["warnings"]
        )
        deadline, answers = time.monotonic() + 3, []
        with requests.Session() as s:
            while time.monotonic() < deadline:
                answers.append(s.post(srv.base + "/api/ratings", json={"level": "satisfied"}, timeout=10))
                answers.append(s.post(srv.base + "/api/tickets", json={"service": "HT"}, timeout=10))
        assert len(answers) > 100
        assert {a.status_code for a in answers} == {507}
        assert DISK_FULL_VI in answers[0].json()["error"] and answers[0].json()["detail"]["reason"] == "disk_full"
        assert count(db, "ratings") == before, "nothing half-written"
        log = srv.log.read_text()
        assert log.count("disk full") == 1, log[-2000:]
        assert "Traceback" not in log

        filler.unlink()  # a technician frees space: the kiosk takes ratings again by itself
        time.sleep(0.2)
        assert requests.get(srv.base + "/healthz", timeout=10).json()["disk"] == "ok"
        assert rate(srv.base)[0].status_code == 201
    finally:
        srv.stop()


def test_sqlite_running_out_of_space_mid_write_is_a_disk_full_fault(small_disk, clock):
    """The kiosk's own check is not the only guard: SQLite's SQLITE_FULL is recognised and nothing is kept."""
    from common.errors import DiskFull
    from kiosk.app import create_app

    app = create_app(
        {"data_dir": str(small_disk / "var"), "gpio": "mock", "printer": "none", "TESTING": True}, clock=clock
    )
    kiosk = app.extensions["kiosk"]
    try:
        kiosk.ratings.record("satisfied")
        filler = fill(small_disk, leave=0)
        with pytest.raises(sqlite3.OperationalError) as raised:
            for _ in range(200):  # until the WAL needs a page the disk does not have
                kiosk.ratings.record("satisfied", comment="x" * 2000)
        fault = kiosk.storage.classify(raised.value, "a rating")
        assert isinstance(fault, DiskFull) and fault.status == 507
        assert kiosk.storage.disk()[0] == "full"
        answer = app.test_client().post("/api/ratings", json={"level": "satisfied"})
        assert answer.status_code == 507 and DISK_FULL_VI in answer.json["error"]
        filler.unlink()
    finally:
        kiosk.close()
