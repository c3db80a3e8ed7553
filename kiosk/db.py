"""The device database: the engine of :mod:`common.db` (SQLite, WAL, ``synchronous=FULL``) and its schema.

Schema changes go through Alembic (:func:`upgrade`), so a device in the field takes a new release without
losing data. Reads and writes of the data go through :mod:`kiosk.storage` (``transaction`` is the same here).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from common.db import BUSY_TIMEOUT_MS, PAGE_CACHE_KB, make_engine, make_sessionmaker, transaction
from common.errors import ConfigError

__all__ = ["BUSY_TIMEOUT_MS", "PAGE_CACHE_KB", "make_engine", "make_sessionmaker", "transaction"]

MIGRATIONS = Path(__file__).with_name("migrations")

#: How many times start-up runs the migrations when SQLite gives up its WAL locking dance (SQLITE_PROTOCOL).
UPGRADE_ATTEMPTS = 3

log = logging.getLogger(__name__)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _revision_files(versions: Path) -> dict[str, str | None]:
    """Each migration's revision and its parent, read from the revision files without importing Alembic."""
    parents: dict[str, str | None] = {}
    for path in versions.glob("*.py"):
        found = dict(re.findall(r"^(revision|down_revision)\s*=\s*['\"]?([\w]+)['\"]?", path.read_text(), re.M))
        if "revision" in found:
            parents[found["revision"]] = found.get("down_revision")
    return parents


def known_revisions(versions: Path = MIGRATIONS / "versions") -> set[str]:
    """Every revision this version's migrations know: a database at another one was migrated by a newer version."""
    return set(_revision_files(versions))


def head_revision(versions: Path = MIGRATIONS / "versions") -> str:
    """The newest migration, read from the revision files without importing Alembic."""
    parents = _revision_files(versions)
    heads = set(parents) - set(parents.values())
    if len(heads) != 1:
        raise ConfigError(f"The migrations in {versions} have {len(heads)} heads ({sorted(heads)}); expected one.")
    return heads.pop()


def stored_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for a new database), by plain SQL."""
    with engine.connect() as connection:
        try:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except OperationalError:
            return None


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision; returns the revision.

    A database already at the newest revision is left alone without importing Alembic (about 11 MB
    of memory on a device that has 80 MB to spend).
    """
    head = head_revision()
    if stored_revision(engine) == head:
        return head
    from alembic import command

    cfg = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    for attempt in range(1, UPGRADE_ATTEMPTS + 1):
        try:
            with engine.connect() as connection:
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")
            break
        except OperationalError as exc:
            if not _lost_wal_race(exc) or attempt == UPGRADE_ATTEMPTS:
                raise
            # SQLite's answer when a WAL lock kept changing under it for ~10 s (a loaded machine): the
            # migration that failed was rolled back with its connection; the next attempt goes on from there.
            log.warning("migrating the database lost SQLite's WAL lock race (%s); trying again", exc.orig)
            engine.dispose()
    return current_revision(engine)


def _lost_wal_race(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_PROTOCOL


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def integrity_ok(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
