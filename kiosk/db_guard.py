"""Refuse to run on a damaged or vanished device database, instead of hiding it behind a fresh empty one.

Before `kiosk serve` (and every command that opens the database) touches the SQLite file, :func:`check`
asks SQLite itself, which is the judge of what it can read:

- missing, while the marker file ``DATA_DIR/database-created`` says this kiosk had one → refused: an empty
  database in its place would silently lose every rating not yet synced (a brand-new data directory, with no
  marker, starts normally and gets its database);
- empty (0 bytes) → refused before SQLite sees it (it would take it for a new, empty database);
- otherwise SQLite opens it read-only, replaying the write-ahead log (``kiosk.db-wal``) as it does for the
  kiosk, and ``PRAGMA quick_check`` must answer ``ok``. Refused when SQLite cannot open it, it is not a
  database, or the check fails; the header only serves to say which in plain words ("not an SQLite
  database", "truncated", "fails its integrity check"). A file shorter than its header says is *not* damage
  when the WAL holds the missing pages: a checkpoint that ran out of disk space (or power) leaves exactly that,
  and SQLite reads it whole. Such a database is then checkpointed, so that its main file is whole again.
- SQLite busy, out of memory or out of disk space while it looks is no verdict on the file: the check is
  left for later (the kiosk starts; a full disk answers 507 until space is freed, kiosk.storage_watch).

A refusal is a :class:`~common.errors.DatabaseDamagedError`: one plain line and exit status 4, which
kiosk.service lists in ``RestartPreventExitStatus=`` so that systemd stops instead of looping. The way out is
a backup (docs/deploy.md §8) or ``kiosk init --force-new``, which keeps the damaged files aside
(:func:`set_aside`) and starts an empty database. A refused database is left as found: the check only reads
it (SQLite rebuilds the WAL index, ``kiosk.db-shm``, and nothing else).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

from common.errors import DatabaseDamagedError

log = logging.getLogger("kiosk.db_guard")

MARKER = "database-created"
HEADER = b"SQLite format 3\x00"
NEXT_STEP = (
    "restore the last backup (docs/deploy.md, Backup and restore) or run `kiosk init --force-new` "
    "to keep the damaged file aside and start an empty database"
)

#: (path, size, mtime) of files already checked by this process: the server checks once, not per command.
_checked: set[tuple[str, int, int]] = set()


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database or an in-memory one."""
    if not database_url.startswith("sqlite") or "///" not in database_url:
        return None
    path = database_url.split("///", 1)[1].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def _marker(data_dir: Path) -> Path:
    return Path(data_dir) / MARKER


def was_created(data_dir: Path, path: Path) -> bool:
    """Whether the marker records that this kiosk created a database at ``path``."""
    try:
        lines = _marker(data_dir).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return False
    return str(path.resolve()) in (line.split("\t", 1)[0] for line in lines)


def record_created(data_dir: Path, path: Path) -> None:
    """Write down that a database now exists at ``path`` (kept for as long as the data directory)."""
    if was_created(data_dir, path):
        return
    marker = _marker(data_dir)
    marker.parent.mkdir(parents=True, exist_ok=True)
    with open(marker, "a", encoding="utf-8") as out:
        out.write(f"{path.resolve()}\t{time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n")
        out.flush()
        os.fsync(out.fileno())


def _damaged(path: Path, what: str, next_step: str = NEXT_STEP) -> DatabaseDamagedError:
    return DatabaseDamagedError(f"The kiosk database {path} {what}: {next_step}.", detail=str(path))


class CannotJudge(Exception):
    """SQLite could not look at the file just now (busy, out of memory or disk space): no verdict on it."""


#: SQLite's answers that say something about the moment, not about the file.
NOT_NOW = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_NOMEM", "SQLITE_INTERRUPT"}


def _error_name(exc: sqlite3.Error) -> str:
    return getattr(exc, "sqlite_errorname", "") or ""


def wal_bytes(path: Path) -> int:
    """The size of the database's write-ahead log: 0 when there is none (the kiosk stopped cleanly)."""
    try:
        return path.with_name(path.name + "-wal").stat().st_size
    except FileNotFoundError:
        return 0


def sqlite_verdict(path: Path, pragma: str = "quick_check", mode: str = "ro") -> str | None:
    """SQLite's own verdict on the file, WAL included: None when it opens and ``PRAGMA <pragma>`` says ok.

    Read-only, so that a file it refuses is left as it was (a read-write connection would copy the WAL into it
    on closing); a file that needs a writer to be read (a hot rollback journal) is judged read-write.
    Raises :class:`CannotJudge` when SQLite's answer is about the moment (:data:`NOT_NOW`).
    """
    try:
        connection = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=10)
    except sqlite3.Error as exc:
        return f"cannot be opened ({exc})"
    try:
        found = [row[0] for row in connection.execute(f"PRAGMA {pragma}")]
    except sqlite3.Error as exc:
        name = _error_name(exc)
        if name.startswith("SQLITE_READONLY") and mode == "ro":
            return sqlite_verdict(path, pragma, "rw")
        if name in NOT_NOW:
            raise CannotJudge(f"SQLite could not check {path} now ({exc})") from exc
        if name == "SQLITE_CANTOPEN":
            return f"cannot be opened ({exc})"
        return f"fails its integrity check ({exc})"
    finally:
        connection.close()
    if found != ["ok"]:
        first = " ".join(str(found[0]).split())
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        return f"fails its integrity check ({first}{more})"
    return None


def _in_words(path: Path, size: int) -> str | None:
    """What the first 100 bytes (the header) say is wrong with a file SQLite refused; None if they look right."""
    try:
        with open(path, "rb") as db:
            header = db.read(100)
    except OSError:  # unreadable: SQLite's own words say it
        return None
    if not header.startswith(HEADER):
        return "is not an SQLite database (its first bytes are wrong)"
    if len(header) < 100:
        return f"is truncated ({size} bytes, shorter than its own header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if pages and header[92:96] == header[24:28] and size < pages * page_size:
        return f"is truncated ({size} bytes where its header says {pages * page_size})"
    return None


def problem(path: Path) -> str | None:
    """What is wrong with the SQLite file at ``path`` (which exists), in words; None when it is sound.

    ``PRAGMA quick_check`` reads every page, record and free list: it finds what a power cut, a full disk or a
    failing card does to a file (missing, torn, zeroed or garbled pages). The full ``integrity_check`` also
    compares every index with its table, and costs 8 to 11 times as much: on 108 MB, 0.17 s against 1.4 s on the
    development machine when idle (0.75 s against 8.6 s when busy), several times that on a Pi, at every start
    after a power cut (bench/startup.py).
    Raises :class:`CannotJudge` when SQLite cannot look at it now.
    """
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    verdict = sqlite_verdict(path)
    if verdict is None:
        return None
    return _in_words(path, size) or verdict


def merge_wal(path: Path) -> None:
    """Copy what the WAL holds into the main file (a passive checkpoint: it never waits for another writer).

    After a crash the main file may lack pages that only the WAL holds; this makes it whole again before the
    kiosk serves. Failing (the disk still full, another process writing) changes nothing: SQLite reads the WAL
    anyway and checkpoints later.
    """
    if not wal_bytes(path):
        return
    try:
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=1)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        log.warning("the write-ahead log of %s stays as it is for now (%s)", path, exc)


def _key(path: Path, stat: os.stat_result) -> tuple[str, int, int]:
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def check(database_url: str, data_dir: Path) -> None:
    """Raise :class:`DatabaseDamagedError` unless the database is sound, or new where none was expected."""
    path = sqlite_path(database_url)
    if path is None:
        return
    try:
        stat = path.stat()
    except FileNotFoundError:
        if was_created(data_dir, path):
            raise _damaged(
                path,
                f"is missing, but this kiosk had one (recorded in {_marker(data_dir)})",
                "restore the last backup (docs/deploy.md, Backup and restore) or run `kiosk init --force-new` "
                "to start an empty database",
            ) from None
        return  # a brand-new kiosk: `kiosk init` (or the first start) creates it
    if _key(path, stat) in _checked:
        return
    try:
        what = problem(path)
    except CannotJudge as exc:  # not a verdict on the file: the kiosk starts, and the next start checks again
        log.warning("%s; starting without the check", exc)
        return
    if what:
        raise _damaged(path, what)
    merge_wal(path)
    _checked.add(_key(path, path.stat()))


def set_aside(path: Path, why: str = "damaged") -> list[Path]:
    """Rename a database and its WAL files to ``NAME.WHY-TIME`` (never deleted; ``damaged`` by default); the new
    names."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    moved = []
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            target = path.with_name(f"{path.name}.{why}-{stamp}{suffix}")
            source.rename(target)
            moved.append(target)
    return moved
