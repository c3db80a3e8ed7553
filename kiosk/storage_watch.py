"""The runtime truth about the database file and the disk, for `/healthz`, `/admin` and every write.

``kiosk serve`` refuses to start on a damaged database (``kiosk.db_guard``, the deploy side); this module is
what happens once it runs:

* the database turns out **damaged** — a write or read meets SQLITE_CORRUPT / SQLITE_NOTADB, ``PRAGMA
  quick_check`` (run by ``/healthz`` at most every :data:`QUICK_CHECK_SECONDS`) fails, or the file was
  deleted, emptied or replaced under the running kiosk: ``/healthz`` says ``db: damaged`` with the reason,
  and every write is refused (503) instead of being issued into a damaged file;
* the **disk** is ``low`` (less than ``disk_low_mb`` free) or ``full`` (almost nothing free, or a write just
  failed with SQLITE_FULL / ENOSPC): a write answers 507 with a plain Vietnamese message, nothing is
  half-written (each write is one transaction);
* repeated identical faults are logged **once a minute** with a count (:class:`FaultLog`), not once per
  request with a traceback each.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from common.errors import DatabaseDamagedError, DiskFull, KioskError
from common.fault_log import FaultLog

log = logging.getLogger("kiosk.storage")

QUICK_CHECK_SECONDS = 300.0
#: Below this many bytes free the disk is full for the kiosk (SQLite needs room for its journal).
FULL_BYTES = 4 * 1024 * 1024
#: A write that failed for lack of space keeps the disk "full" this long, whatever statvfs says (no retry storm).
FULL_MEMORY_SECONDS = 5.0

_CORRUPT = {"SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CORRUPT_INDEX", "SQLITE_CORRUPT_SEQUENCE", "SQLITE_CORRUPT_VTAB"}
_CORRUPT_WORDS = ("malformed", "not a database", "database disk image")


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 8:
        seen.append(exc)
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return seen


def is_disk_full(exc: BaseException) -> bool:
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(cause, sqlite3.Error):
            name = getattr(cause, "sqlite_errorname", "") or ""
            if name == "SQLITE_FULL" or "database or disk is full" in str(cause):
                return True
    return False


def is_corrupt(exc: BaseException) -> bool:
    for cause in _causes(exc):
        if isinstance(cause, sqlite3.DatabaseError):
            name = getattr(cause, "sqlite_errorname", "") or ""
            if name in _CORRUPT or any(word in str(cause) for word in _CORRUPT_WORDS):
                return True
    return False


class StorageWatch:
    """Watches one kiosk's SQLite file and data disk. Thread-safe; cheap enough to ask on every write."""

    def __init__(self, engine: Any, data_dir: Path, db_path: Path | None, disk_low_mb: float) -> None:
        self.engine = engine
        self.data_dir = Path(data_dir)
        self.db_path = db_path
        self.low_bytes = int(disk_low_mb * 1024 * 1024)
        self.faults = FaultLog(log)
        self._identity = self._stat_identity()
        self._damaged: str | None = None
        self._checked_at: float | None = None
        self._checked_mark: tuple[int, int] | None = None
        self._full_at: float | None = None
        self._lock = threading.Lock()

    # --- the database ----------------------------------------------------------------------------------

    def damage(self, check: bool = False) -> str | None:
        """Why the database is damaged (None when it is not known to be); ``check`` runs quick_check if due."""
        if self._damaged is None:
            changed = self._file_changed()
            if changed:
                self._mark_damaged(changed)
        if self._damaged is None and check:
            self._quick_check_if_due()
        return self._damaged

    def _file_changed(self) -> str | None:
        if self.db_path is None or self._identity is None:
            return None
        try:
            stat = self.db_path.stat()
        except FileNotFoundError:
            return f"the database file {self.db_path} was deleted while the kiosk was running"
        except OSError as exc:
            return f"the database file {self.db_path} cannot be read ({exc.strerror})"
        if (stat.st_dev, stat.st_ino) != self._identity:
            return f"the database file {self.db_path} was replaced while the kiosk was running"
        if stat.st_size == 0:
            return f"the database file {self.db_path} was emptied (0 bytes) while the kiosk was running"
        return None

    def _quick_check_if_due(self) -> None:
        """``PRAGMA quick_check`` every QUICK_CHECK_SECONDS, and whenever the file changed since the last one.

        It runs on a fresh connection: the pooled ones keep pages in their cache (in WAL mode SQLite trusts
        them until the WAL index changes), so bytes damaged on disk would be read back as they were.
        """
        now = time.monotonic()
        mark = self._file_mark()
        with self._lock:
            due = self._checked_at is None or now - self._checked_at >= QUICK_CHECK_SECONDS
            if not due and mark == self._checked_mark:
                return
            self._checked_at, self._checked_mark = now, mark
        try:
            found = self._run_quick_check()
        except Exception as exc:  # noqa: BLE001 - whatever stops the check is the answer
            if is_corrupt(exc):
                self._mark_damaged(f"the database fails its integrity check ({' '.join(str(exc).split())[:200]})")
            return
        if found != ["ok"]:
            first = " ".join(str(found[0]).split())[:200] if found else "no answer"
            self._mark_damaged(f"the database fails its integrity check ({first}; {len(found)} problem(s))")

    def _run_quick_check(self) -> list[str]:
        if self.db_path is None:
            with self.engine.connect() as conn:
                return [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return [row[0] for row in db.execute("PRAGMA quick_check")]
        finally:
            db.close()

    def _file_mark(self) -> tuple[int, int] | None:
        try:
            stat = self.db_path.stat() if self.db_path is not None else None
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size) if stat is not None else None

    def _mark_damaged(self, reason: str) -> None:
        with self._lock:
            if self._damaged is None:
                self._damaged = reason
        self.faults.emit("db-damaged", f"database damaged: {reason}; writes are refused until it is restored")

    def refuse_writes(self) -> None:
        """Raise DatabaseDamagedError (503) or DiskFull (507) when a write cannot be stored safely now."""
        reason = self.damage()
        if reason is not None:
            raise DatabaseDamagedError(reason, {"reason": "database_damaged", "why": reason})
        state, free = self.disk()
        if state == "full":
            self.faults.emit("disk-full", f"disk full ({free} bytes free): writes are refused")
            raise DiskFull(f"The disk of {self.data_dir} is full.", {"reason": "disk_full", "free_bytes": free})

    # --- the disk --------------------------------------------------------------------------------------

    def disk(self) -> tuple[str, int | None]:
        """("ok" | "low" | "full", bytes free)."""
        try:
            free = shutil.disk_usage(self.data_dir).free
        except OSError:
            free = None
        recent = self._full_at is not None and time.monotonic() - self._full_at < FULL_MEMORY_SECONDS
        if recent or (free is not None and free < FULL_BYTES):
            return "full", free
        if free is not None and free < self.low_bytes:
            return "low", free
        return "ok", free

    # --- faults of a request ---------------------------------------------------------------------------

    def classify(self, exc: BaseException, where: str) -> KioskError | None:
        """The plain error for a storage fault (disk full, damaged database), logged once a minute; else None."""
        if is_disk_full(exc):
            self._full_at = time.monotonic()
            self.faults.emit("disk-full", f"disk full: {where} was not saved ({' '.join(str(exc).split())[:160]})")
            return DiskFull(str(exc), {"reason": "disk_full"})
        if is_corrupt(exc):
            self._mark_damaged(f"the database answered: {' '.join(str(exc).split())[:200]}")
            return DatabaseDamagedError(self._damaged or str(exc), {"reason": "database_damaged", "why": self._damaged})
        return None

    def _stat_identity(self) -> tuple[int, int] | None:
        if self.db_path is None:
            return None
        try:
            stat = os.stat(self.db_path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino
