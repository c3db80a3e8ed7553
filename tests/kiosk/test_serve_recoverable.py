"""After a full disk and a power cut the kiosk serves again by itself, with every acknowledged record (issue 21).

SQLite copies its write-ahead log into kiosk.db every ~1000 WAL frames (a checkpoint). It writes the first
page, whose header holds the new page count, before the pages that make the file longer; when the disk is full
by then, the file is left shorter than its header says, while kiosk.db-wal still holds every page and SQLite
reads the database whole. Such a database must be served, never refused as "truncated" (exit status 4, which
systemd does not restart); only real damage is refused (tests/kiosk/test_serve_refusals.py).
"""

from __future__ import annotations

import itertools
import sqlite3
import struct
import threading
import time
from pathlib import Path

import pytest
import requests

from kiosk.storage_watch import FULL_BYTES
from tests.kiosk.test_serve_refusals import one_plain_line, serve
from tests.server import KioskServer
from tests.small_disk import free_bytes, tmpfs

#: SQLite's wal_autocheckpoint (the kiosk keeps the default): a checkpoint follows the commit that passes it.
CHECKPOINT_FRAMES = 1000
COMMENT = "Cán bộ tiếp dân nhiệt tình, hướng dẫn rõ ràng. " * 12


class Writers:
    """Client threads posting tickets and ratings to a kiosk; they keep the id of every answer 201."""

    def __init__(self, base: str, threads: int = 6) -> None:
        self.base = base
        self.acknowledged: dict[str, list[str]] = {"tickets": [], "ratings": []}
        self.statuses: dict[int, int] = {}
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(threads)]
        for thread in self.threads:
            thread.start()

    def _write(self, n: int) -> None:
        with requests.Session() as session:
            for i in itertools.count():
                if self.stop.is_set():
                    return
                table = "tickets" if (n + i) % 2 else "ratings"
                body = {"service": "HT"} if table == "tickets" else {"level": "satisfied", "comment": COMMENT}
                try:
                    answer = session.post(f"{self.base}/api/{table}", json=body, timeout=10)
                except requests.RequestException:
                    return  # the server is gone: nothing was acknowledged for this request
                self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1
                if answer.status_code == 201:
                    self.acknowledged[table].append(answer.json()["id"])

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)


def wal_frames(shm: Path) -> int:
    """The frames in the WAL now: mxFrame of the WAL index header (https://www.sqlite.org/walformat.html)."""
    try:
        with open(shm, "rb") as index:
            header = index.read(20)
    except FileNotFoundError:
        return 0
    return struct.unpack("=I", header[16:20])[0] if len(header) == 20 else 0


def header_pages(page_one: bytes) -> int:
    """The page count the database header holds."""
    return int.from_bytes(page_one[28:32], "big")


def shorter_than_its_header(db: Path) -> bool:
    with open(db, "rb") as f:
        header = f.read(100)
    page_size = int.from_bytes(header[16:18], "big")
    return db.stat().st_size < header_pages(header) * page_size


def take_every_free_byte(filler) -> None:
    for chunk in (1 << 20, 1 << 16, 4096):
        try:
            while True:
                filler.write(b"\0" * chunk)
        except OSError:  # ENOSPC
            pass


def fill_the_disk_during_a_checkpoint(mount: Path, data: Path, deadline: float) -> Path:
    """Fill the disk just before a checkpoint, until one runs out of space; the filler file.

    The kiosk refuses writes with less than FULL_BYTES free, so the disk is first filled to a little above
    that (plus room for the WAL to grow to its full size), and the rest is taken when the WAL is a commit or
    two from its checkpoint: the requests already past the kiosk's check then commit, and the checkpoint that
    follows finds no space to grow the file. Not at the right moment, the space is given back and taken again.
    """
    db, wal, shm = data / "kiosk.db", data / "kiosk.db-wal", data / "kiosk.db-shm"
    full_wal = (CHECKPOINT_FRAMES + 50) * (4096 + 24)
    filler = mount / "filler"
    with open(filler, "wb", buffering=0) as f:
        while True:
            assert time.monotonic() < deadline, "no checkpoint ran out of space: the test would prove nothing"
            room = FULL_BYTES + 512 * 1024 + max(full_wal - (wal.stat().st_size if wal.exists() else 0), 0)
            f.write(b"\0" * max(free_bytes(mount) - room, 0))
            wait_until = min(time.monotonic() + 5, deadline)
            while wal_frames(shm) < CHECKPOINT_FRAMES - 15 and time.monotonic() < wait_until:
                time.sleep(0.0002)
            take_every_free_byte(f)
            for _ in range(40):
                time.sleep(0.01)
                if shorter_than_its_header(db):  # and it stays so: not a checkpoint still under way
                    time.sleep(0.05)
                    if shorter_than_its_header(db):
                        return filler
            f.seek(0)
            f.truncate()  # the space back: the kiosk writes again until the next try
            frames, wait_until = wal_frames(shm), time.monotonic() + 1
            while wal_frames(shm) == frames and time.monotonic() < wait_until:  # the next commit
                time.sleep(0.0005)


def stored_ids(db: Path, table: str) -> set[str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {row[0] for row in con.execute(f"SELECT id FROM {table}")}
    finally:
        con.close()


def assert_serves_with_everything(server: KioskServer, acknowledged: dict[str, list[str]]) -> None:
    """The server answers, takes a new ticket and rating, and holds every record it acknowledged before."""
    health = requests.get(server.base + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["db"] == "ok", health.text
    assert requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=10).status_code == 201
    assert requests.post(server.base + "/api/ratings", json={"level": "satisfied"}, timeout=10).status_code == 201
    db = server.data_dir / "kiosk.db"
    for table, ids in acknowledged.items():
        lost = set(ids) - stored_ids(db, table)
        assert not lost, f"{len(lost)} of {len(ids)} acknowledged {table} lost"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()


class KioskOnAFullDisk(KioskServer):
    """A kiosk that is up once /healthz answers at all: on a full disk it says 503 (``disk: full``)."""

    def answers(self) -> bool:
        return requests.get(self.base + "/healthz", timeout=1).status_code in (200, 503)


def ticket_status(server: KioskServer) -> int:
    return requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=10).status_code


@pytest.mark.slow
@pytest.mark.parametrize("space_freed", ["before the restart", "after the restart"])
def test_a_full_disk_then_a_power_cut_leaves_a_kiosk_that_serves_again_by_itself(tmp_path, space_freed):
    with tmpfs(tmp_path / "disk", "32m") as mount:
        server = KioskServer(mount / "var", env={"KIOSK_RESPONSE_INTERVAL": "0"})
        try:
            server.start()
            writers = Writers(server.base)
            deadline = time.monotonic() + 40  # to catch a checkpoint, once the kiosk serves (its start not counted)
            try:
                filler = fill_the_disk_during_a_checkpoint(mount, server.data_dir, deadline)
                time.sleep(0.5)  # the clients meet the full disk
                server.kill()  # the power cut
            finally:
                writers.join()
            assert writers.statuses.get(507), f"the disk never answered full: {writers.statuses}"
            assert len(writers.acknowledged["ratings"]) > 20 and len(writers.acknowledged["tickets"]) > 20
            assert shorter_than_its_header(server.data_dir / "kiosk.db")

            if space_freed == "before the restart":
                filler.unlink()  # a technician frees space; systemd restarts the kiosk
                server.start()
                assert not shorter_than_its_header(server.data_dir / "kiosk.db"), "the WAL is checkpointed at start"
            else:  # the power comes back first: the kiosk starts on the full disk and waits for space
                server = KioskOnAFullDisk(server.data_dir, server.env, port=server.port).start()
                health = requests.get(server.base + "/healthz", timeout=10).json()
                assert (health["db"], health["disk"]) == ("ok", "full"), health
                assert ticket_status(server) == 507
                filler.unlink()  # then a technician frees space, and touches nothing else
                give_up = time.monotonic() + 10
                while ticket_status(server) != 201:
                    assert time.monotonic() < give_up, "the kiosk did not take tickets again once space was freed"
                    time.sleep(0.2)

            assert_serves_with_everything(server, writers.acknowledged)
        finally:
            server.stop()


# --- the same state, made by hand: no root needed ------------------------------------------------------


def page_one_of_last_commit(wal: Path) -> bytes:
    """The first page as the WAL's last committed transaction left it (what a checkpoint writes first)."""
    data = wal.read_bytes()
    page_size, salts = int.from_bytes(data[8:12], "big"), data[16:24]
    latest = committed = None
    for offset in range(32, len(data) - 24 - page_size + 1, 24 + page_size):
        frame = data[offset : offset + 24 + page_size]
        if frame[8:16] != salts:  # a frame of an earlier round of the WAL
            break
        if int.from_bytes(frame[0:4], "big") == 1:
            latest = frame[24:]
        if int.from_bytes(frame[4:8], "big"):  # a commit frame
            committed = latest
    assert committed is not None, "the WAL holds no committed first page"
    return committed


@pytest.fixture
def checkpoint_cut_short(tmp_path) -> tuple[Path, dict[str, list[str]]]:
    """A kiosk killed with its WAL unmerged, whose kiosk.db got the WAL's first page and nothing more.

    That is what a checkpoint leaves when the disk fills up (or the power goes) right after it wrote page 1.
    """
    data = tmp_path / "var"
    with KioskServer(data):
        pass  # a kiosk that has run: its database exists, merged and closed
    server = KioskServer(data, env={"KIOSK_RESPONSE_INTERVAL": "0"}).start()
    acknowledged: dict[str, list[str]] = {"tickets": [], "ratings": []}
    with requests.Session() as session:
        for _ in range(25):  # fewer frames than a checkpoint needs: everything stays in the WAL
            rating = session.post(server.base + "/api/ratings", json={"level": "satisfied", "comment": COMMENT})
            ticket = session.post(server.base + "/api/tickets", json={"service": "HT"})
            acknowledged["ratings"].append(rating.json()["id"])
            acknowledged["tickets"].append(ticket.json()["id"])
    server.kill()
    db = data / "kiosk.db"
    page_one = page_one_of_last_commit(data / "kiosk.db-wal")
    assert header_pages(page_one) * len(page_one) > db.stat().st_size, "the WAL must hold pages past the file"
    with open(db, "r+b") as f:
        f.write(page_one)
    assert shorter_than_its_header(db)
    return data, acknowledged


def test_a_database_shorter_than_its_header_is_served_when_its_wal_holds_the_rest(checkpoint_cut_short):
    data, acknowledged = checkpoint_cut_short
    with KioskServer(data) as server:
        assert_serves_with_everything(server, acknowledged)


def test_the_same_file_without_its_wal_is_truncated_and_refused(checkpoint_cut_short):
    data, _ = checkpoint_cut_short
    for suffix in ("-wal", "-shm"):
        (data / f"kiosk.db{suffix}").unlink()

    refused = serve(data)

    assert refused.returncode == 4, refused.stderr
    assert "is truncated" in one_plain_line(refused)


# --- a database SQLite cannot look at just now ---------------------------------------------------------


def test_a_database_another_program_keeps_locked_at_start_is_waited_for_not_refused(tmp_path):
    """SQLite busy at start (a backup, a stuck `kiosk sync`) says nothing about the file: never exit status 4."""
    data = tmp_path / "var"
    with KioskServer(data):
        pass
    holder = sqlite3.connect(data / "kiosk.db", check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # in WAL mode: nobody else may even read until it closes
    holder.execute("SELECT count(*) FROM ratings").fetchall()
    release = threading.Timer(20, holder.close)  # longer than the start-up check waits (10 s) after starting
    release.start()
    server = KioskServer(data)
    try:
        server.start(timeout=60)
        assert requests.get(server.base + "/healthz", timeout=10).json()["db"] == "ok"
        assert ticket_status(server) == 201
    finally:
        release.join()
        server.stop()
    assert "could not check" in server.log.read_text()
