"""The device database: SQLAlchemy 2 on SQLite with WAL, synchronous=FULL, a busy timeout, foreign keys.

Every transaction on SQLite starts with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the
busy timeout instead of failing with "database is locked" half way through. Schema changes go
through Alembic (:func:`upgrade`), so a device in the field takes a new release without losing data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.errors import ConfigError

BUSY_TIMEOUT_MS = 10_000
MIGRATIONS = Path(__file__).with_name("migrations")


#: Page cache of each SQLite connection, in KiB (SQLite's default is 2000).
PAGE_CACHE_KB = 512


def make_engine(url: str, **kwargs) -> Engine:
    """An engine with the durability pragmas set on every new SQLite connection."""
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        db_path = url.split("///", 1)[-1] if "///" in url else ""
        if db_path and db_path != ":memory:":
            try:
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"Cannot create the folder of database {db_path}: {exc}. Check KIOSK_DATA_DIR / KIOSK_DATABASE_URL."
                ) from exc
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
    engine = create_engine(url, **kwargs)
    if is_sqlite:
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - exercised by every test
        # Let SQLAlchemy, not the driver, decide when transactions start (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # The OS already caches the database file; each pooled connection (up to 15 under a burst of requests
        # on every worker thread) keeping its own 2 MB page cache cost the kiosk ~15 MB of RSS (bench/phone.py).
        cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision(versions: Path = MIGRATIONS / "versions") -> str:
    """The newest migration, read from the revision files without importing Alembic."""
    revisions, parents = set(), set()
    for path in versions.glob("*.py"):
        found = dict(re.findall(r"^(revision|down_revision)\s*=\s*['\"]?([\w]+)['\"]?", path.read_text(), re.M))
        if "revision" in found:
            revisions.add(found["revision"])
            parents.add(found.get("down_revision"))
    heads = revisions - parents
    if len(heads) != 1:
        raise ConfigError(f"The migrations in {versions} have {len(heads)} heads ({sorted(heads)}); expected one.")
    return heads.pop()


def stored_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for a new database), by plain SQL."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
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
    with engine.connect() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def integrity_ok(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
