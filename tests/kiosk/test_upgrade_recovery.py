"""An upgrade a power cut interrupted is put right when the kiosk starts again, without anyone travelling there.

The data directory is left as systemd/kiosk-upgrade.sh leaves it when the power goes: the database copy in
``upgrade-backup/`` (with the versions ``from`` and ``to``), and the database either migrated by the newer
version (stamped with a revision this version does not know, holding a rating that version took) or not yet.
The real `kiosk serve` starts on it (kiosk.upgrade_recovery; the package side: tests/deploy/test_power_cut.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kiosk import __version__, upgrade_outcome
from tests.kiosk.test_serve_refusals import kiosk
from tests.server import KioskServer

NEWER = "9.9.9+1"


def ratings(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM ratings")}


def rate(server: KioskServer, count: int) -> list[str]:
    answers = [
        requests.post(server.base + "/api/ratings", json={"level": "satisfied"}, timeout=10) for _ in range(count)
    ]
    assert all(answer.status_code == 201 for answer in answers)
    return [answer.json()["id"] for answer in answers]


@pytest.fixture
def interrupted(tmp_path) -> tuple[Path, set[str]]:
    """A kiosk with ratings, stopped and copied as kiosk-upgrade.sh does before installing ``NEWER``."""
    data = tmp_path / "var"
    with KioskServer(data) as server:
        before = set(rate(server, 5))
    backup = data / "upgrade-backup"
    backup.mkdir(mode=0o700)
    for name in ("kiosk.db", "kiosk.db-wal", "kiosk.db-shm"):
        if (data / name).exists():
            shutil.copy2(data / name, backup / name)
    (backup / "from").write_text(__version__ + "\n")
    (backup / "to").write_text(NEWER + "\n")
    return data, before


@contextlib.contextmanager
def upgrade_lock(data: Path) -> Iterator[None]:
    """Hold the lock as kiosk-upgrade.sh does (`flock` on DATA_DIR/upgrade.lock) while it upgrades."""
    with open(data / "upgrade.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def migrate_as_newer(data: Path) -> str:
    """What the newer version did before the power went: took a rating, and ran its migration. The rating's id."""
    with upgrade_lock(data), KioskServer(data) as server:  # the script holds its lock all the while
        (taken,) = rate(server, 1)
    with sqlite3.connect(data / "kiosk.db") as db:
        db.execute("CREATE TABLE newer_feature (id INTEGER PRIMARY KEY)")
        db.execute("UPDATE alembic_version SET version_num = 'f00d_newer'")
    return taken


def test_a_database_a_newer_version_migrated_is_set_aside_and_the_copy_served(interrupted):
    data, before = interrupted
    taken = migrate_as_newer(data)
    with KioskServer(data) as server:
        health = requests.get(server.base + "/healthz", timeout=10).json()
        after = rate(server, 1)
    assert health["upgrade"]["outcome"] == "interrupted" and health["upgrade"]["to"] == NEWER
    assert "interrupted by a restart" in health["upgrade"]["detail"] and "upgrade interrupted" in health["warnings"]
    assert upgrade_outcome.for_sync(data)["outcome"] == "interrupted"  # what the next sync batch sends
    assert ratings(data / "kiosk.db") == before | set(after)  # every record from before the upgrade, and new ones
    aside = sorted(data.glob(f"kiosk.db.migrated-by-{NEWER}-*"))
    assert aside and aside[0].name in health["upgrade"]["detail"]
    assert taken in ratings(aside[0])  # never deleted: the newer version's records are still there to fetch
    assert not (data / "upgrade-backup").exists()


def test_a_database_not_yet_migrated_is_kept_and_the_stale_copy_removed(interrupted):
    data, before = interrupted
    with KioskServer(data) as server:
        health = requests.get(server.base + "/healthz", timeout=10).json()
    assert health["upgrade"]["outcome"] == "interrupted" and "before any migration" in health["upgrade"]["detail"]
    assert ratings(data / "kiosk.db") == before
    assert not (data / "upgrade-backup").exists() and not list(data.glob("kiosk.db.migrated-*"))


def test_nothing_is_touched_while_the_upgrade_runs(interrupted):
    data, _ = interrupted
    migrate_as_newer(data)
    with upgrade_lock(data):
        done = kiosk(data, "init")
    assert done.returncode != 0  # this version cannot read the newer database: the script rolls back itself
    assert (data / "upgrade-backup" / "kiosk.db").exists() and not list(data.glob("kiosk.db.migrated-*"))
    assert not (data / "upgrade.json").exists()


def test_the_new_version_never_checked_is_left_to_the_upgrade_script(interrupted):
    data, before = interrupted
    (data / "upgrade-backup" / "from").write_text("0.0.1\n")  # this version is the new one: the script checks it
    done = kiosk(data, "init")
    assert done.returncode == 0, done.stderr
    assert (data / "upgrade-backup" / "kiosk.db").exists() and not (data / "upgrade.json").exists()
    assert ratings(data / "kiosk.db") == before
