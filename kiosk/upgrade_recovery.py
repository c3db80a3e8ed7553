"""The database after an upgrade a power cut (or any restart) interrupted: put right before the kiosk opens it.

systemd/kiosk-upgrade.sh copies the database to ``DATA_DIR/upgrade-backup/`` (with the versions it upgrades
``from`` and ``to`` beside it) before the new version's migrations run, holds ``DATA_DIR/upgrade.lock`` while
it works, and removes the copy once the new version passed its health check (or the old one is back). A copy
still there while nobody holds the lock is an upgrade that never finished. At start (`kiosk serve`, and
`kiosk init`, which the package's postinst runs), :func:`recover` then decides:

- the database is at a revision this version's migrations do not know (a newer version migrated it, then the
  power went and this version booted: the overlay root lost the new one, or the script put the old package
  back) → the migrated files are set aside as ``kiosk.db.migrated-by-VERSION-TIME`` (never deleted), the copy
  is restored, and the outcome is ``interrupted`` (not ``rolled_back``: nothing is known against the release);
- this version is the one upgraded from and reads the database (the cut came before any migration) → the
  database is kept as it is (no record lost), the stale copy removed, the same outcome;
- otherwise (the new version runs: it never passed its health check) → left to the script, which checks it
  (kiosk-upgrade-recover.service starts it again).

The version is not marked as rolled back (``upgrade-rolled-back``): a power cut says nothing about the release,
and the next night's upgrade tries it again.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from common.settings import Settings
from kiosk import upgrade_outcome
from kiosk.db import known_revisions
from kiosk.db_guard import set_aside, sqlite_path

log = logging.getLogger("kiosk.upgrade_recovery")

BACKUP = "upgrade-backup"
LOCK = "upgrade.lock"


def upgrade_running(data_dir: Path) -> bool:
    """Whether kiosk-upgrade.sh holds its lock (``flock`` on ``DATA_DIR/upgrade.lock``) now."""
    try:
        fd = os.open(Path(data_dir) / LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _word(path: Path) -> str | None:
    """The first line of a small text file the script wrote, or None."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _revision(path: Path) -> str | None:
    """The database's Alembic revision, read-only (WAL included); None when there is no file or no revision."""
    if not path.exists():
        return None
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except (sqlite3.Error, TypeError):
        return None
    finally:
        connection.close()


def _restore(backup: Path, path: Path) -> None:
    """Copy the backup's database files in place, each written whole before its name is given."""
    for suffix in ("-wal", "-shm", ""):
        copy = backup / (path.name + suffix)
        if copy.exists():
            part = path.with_name(f"{path.name}{suffix}.restoring")
            shutil.copy2(copy, part)
            with open(part, "rb") as written:
                os.fsync(written.fileno())
            part.replace(path.with_name(path.name + suffix))


def recover(settings: Settings) -> dict[str, Any] | None:
    """Put right the database of an interrupted upgrade (module docstring); the outcome written, or None."""
    data = settings.data_path
    backup = data / BACKUP
    path = sqlite_path(settings["database_url"])
    if path is None or not backup.is_dir() or upgrade_running(data):
        return None
    from_, to = _word(backup / "from"), _word(backup / "to")
    revision, running = _revision(path), upgrade_outcome.installed_version()
    where = f"upgrade {from_ or '?'} -> {to or '?'} interrupted by a restart"
    known = revision in known_revisions()
    if not known and (backup / path.name).exists():
        label = "migrated-by-" + re.sub(r"[^\w.+-]", "_", to or "newer")
        moved = set_aside(path, label) if path.exists() else []
        _restore(backup, path)
        kept = f"; the database it migrated kept as {moved[0].name}" if moved else ""
        detail = f"{where} before {to or 'it'} passed its health check{kept}; database restored, back on {running}"
    elif known and running == from_:
        detail = f"{where} before any migration; database kept as it was, still on {running}"
    else:
        return None  # the new version runs and was never checked: kiosk-upgrade.sh does that
    shutil.rmtree(backup)
    log.warning("%s", detail)
    return upgrade_outcome.record(data, "interrupted", from_, to, detail)
