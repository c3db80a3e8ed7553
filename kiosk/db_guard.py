"""Refuse to run on a damaged or vanished device database, instead of hiding it behind a fresh empty one.

Before `kiosk serve` (and every command that opens the database) touches the SQLite file, :func:`check`
looks at it with plain ``sqlite3``:

- missing, while the marker file ``DATA_DIR/database-created`` says this kiosk had one → refused: an empty
  database in its place would silently lose every rating not yet synced (a brand-new data directory, with no
  marker, starts normally and gets its database);
- empty (0 bytes), not an SQLite file, shorter than its own header says (truncated), or failing
  ``PRAGMA quick_check`` (garbage in the middle) → refused.

A refusal is a :class:`~common.errors.DatabaseDamagedError`: one plain line and exit status 4, which
kiosk.service lists in ``RestartPreventExitStatus=`` so that systemd stops instead of looping. The way out is
a backup (docs/deploy.md §8) or ``kiosk init --force-new``, which keeps the damaged files aside
(:func:`set_aside`) and starts an empty database.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from common.errors import DatabaseDamagedError

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


def problem(path: Path) -> str | None:
    """What is wrong with the SQLite file at ``path`` (which exists), in words; None when it is sound."""
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    with open(path, "rb") as db:
        header = db.read(100)
    if not header.startswith(HEADER):
        return "is not an SQLite database (its first bytes are wrong)"
    if len(header) < 100:
        return f"is truncated ({size} bytes, shorter than its own header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if pages and header[92:96] == header[24:28] and size < pages * page_size:
        return f"is truncated ({size} bytes where its header says {pages * page_size})"
    try:
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=10)
    except sqlite3.Error as exc:
        return f"cannot be opened ({exc})"
    try:
        found = [row[0] for row in connection.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        return f"fails its integrity check ({exc})"
    finally:
        connection.close()
    if found != ["ok"]:
        first = " ".join(str(found[0]).split())
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        return f"fails its integrity check ({first}{more})"
    return None


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
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _checked:
        return
    what = problem(path)
    if what:
        raise _damaged(path, what)
    _checked.add(key)


def set_aside(path: Path) -> list[Path]:
    """Rename a damaged database and its WAL files to ``NAME.damaged-TIME`` (never deleted); the new names."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    moved = []
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            target = path.with_name(f"{path.name}.damaged-{stamp}{suffix}")
            source.rename(target)
            moved.append(target)
    return moved
