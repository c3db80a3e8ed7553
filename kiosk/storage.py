"""How the device reads and writes its database: one read path and one durable write path.

The engine (:mod:`kiosk.db`) gives every SQLite connection WAL, ``synchronous=FULL`` and a busy timeout, and
starts every SQLAlchemy transaction with ``BEGIN IMMEDIATE``. On top of it:

**Reads** never take the write lock (an ORM session would: its first statement opens ``BEGIN IMMEDIATE``), so
on SQLite in WAL mode they neither wait for nor slow a citizen's press:

* :func:`read_rows` / :func:`read_scalars` — one statement on a pooled connection;
* :func:`read_transaction` — several statements on one consistent snapshot (:class:`ReadTransaction`).

**Writes** are committed (one fsync) before they return:

* :func:`transaction` — an ORM session in one ``BEGIN IMMEDIATE`` transaction, committed on success and rolled
  back on any error: what the services over a session use;
* :func:`write_transaction` — the same for driver SQL on an engine connection;
* :class:`DirectWriter` — the hot path of a press and of a ticket: driver SQL on one kept-open connection, so a
  batch of tickets (group commit) or a rating costs one ``BEGIN IMMEDIATE … COMMIT`` and nothing else.

Raw SQL runs through a :data:`Scalars` function (``scalars(sql, params)`` → the first column of its rows) or
the ``rows``/``row`` methods; values are stored as SQLAlchemy's SQLite dialect stores them (:func:`db_value`),
so the ORM reads back what raw writes wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from common.db import transaction

__all__ = [
    "DirectWriter",
    "ReadTransaction",
    "Scalars",
    "db_time",
    "db_value",
    "driver_scalars",
    "insert_sql",
    "ping",
    "read_rows",
    "read_scalars",
    "read_transaction",
    "scalars_reader",
    "transaction",
    "write_transaction",
]

#: ``scalars(sql, params)``: run one driver-SQL statement, return the first column of its rows ([] for none).
Scalars = Callable[[str, tuple], list]


# --- values as stored ---------------------------------------------------------------------------------


def db_time(moment: datetime) -> str:
    """A naive-UTC time in SQLAlchemy's SQLite storage format (so raw and ORM writes compare as text)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def stored_time(value: Any) -> datetime | None:
    """A time as a raw read gives it back (SQLite text, or a datetime) as a naive datetime; None stays None."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def db_value(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite dialect stores it: times as text, booleans as 0/1."""
    if isinstance(value, datetime):
        return db_time(value)
    if isinstance(value, bool):
        return int(value)
    return value


@lru_cache(maxsize=256)
def insert_sql(table: str, columns: tuple[str, ...], rows: int = 1) -> str:
    """``INSERT INTO table (columns) VALUES (?, …), …`` for ``rows`` rows."""
    marks = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([marks] * rows)


# --- the read path ------------------------------------------------------------------------------------


def read_rows(engine: Any, sql: str, params: tuple = ()) -> list[tuple]:
    """One statement outside any write transaction: on SQLite (WAL) it never waits for, nor blocks, a writer."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            cursor.close()
    finally:
        raw.close()


def read_scalars(engine: Any, sql: str, params: tuple = ()) -> list:
    """:func:`read_rows`, first column only."""
    return [row[0] for row in read_rows(engine, sql, params)]


def scalars_reader(engine: Any) -> Scalars:
    """:func:`read_scalars` of ``engine``: a :data:`Scalars` for code that reads by driver SQL."""
    return partial(read_scalars, engine)


class ReadTransaction:
    """Driver-level reads on one connection: ``rows`` as dicts, ``scalars`` as the first column."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        cursor = self.raw.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalars(self, sql: str, params: tuple = ()) -> list:
        return [row[0] for row in self.raw.execute(sql, params).fetchall()]


@contextmanager
def read_transaction(engine: Engine) -> Iterator[ReadTransaction]:
    """Several reads on one consistent snapshot: a plain (deferred) transaction that never takes the write lock."""
    raw = engine.raw_connection()
    sqlite = engine.dialect.name == "sqlite"
    try:
        if sqlite:
            raw.execute("BEGIN")
        yield ReadTransaction(raw if sqlite else raw.cursor())
    finally:
        try:
            if sqlite:
                raw.execute("ROLLBACK")
        finally:
            raw.close()


# --- the write path -----------------------------------------------------------------------------------


def driver_scalars(db: Session | Connection) -> Scalars:
    """A :data:`Scalars` running driver SQL in the transaction of an ORM session or an SQLAlchemy connection."""
    conn = db.connection() if isinstance(db, Session) else db

    def run(sql: str, params: tuple) -> list:
        result = conn.exec_driver_sql(sql, params)
        return list(result.scalars()) if result.returns_rows else []

    return run


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Scalars]:
    """A short ``BEGIN IMMEDIATE`` transaction of driver SQL on ``engine``, committed when the block ends."""
    with engine.begin() as conn:
        yield driver_scalars(conn)


def ping(db: Session | Connection) -> None:
    """``SELECT 1`` in ``db``'s transaction: raises the database's error when it does not answer."""
    driver_scalars(db)("SELECT 1", ())


class DirectWriter:
    """Writes through the SQLite driver on one kept-open pooled connection: the hot path of a press and a ticket.

    The connection comes from the engine, so it has the same pragmas (WAL, synchronous=FULL, busy
    timeout, foreign keys). Values are stored as SQLAlchemy's SQLite dialect stores them (:func:`db_value`),
    so the ORM reads them back unchanged. Not thread-safe: callers hold a lock.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dbapi: Any = None

    @contextmanager
    def transaction(self) -> Iterator[DirectWriter]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: the block's writes are durable when it ends without error."""
        if self._dbapi is None:
            self._dbapi = self.engine.raw_connection()
        self._dbapi.execute("BEGIN IMMEDIATE")
        try:
            yield self
            self._dbapi.execute("COMMIT")
        except BaseException:
            try:
                self._dbapi.execute("ROLLBACK")
            except Exception:  # the connection is unusable: drop it so no lock is kept
                self.close()
            raise

    def row(self, sql: str, params: tuple = ()) -> dict | None:
        cursor = self._dbapi.execute(sql, params)
        found = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], found, strict=True)) if found else None

    def scalars(self, sql: str, params: tuple = ()) -> list:
        return [r[0] for r in self._dbapi.execute(sql, params).fetchall()]

    def insert(self, table: str, values: dict) -> None:
        """One row, from a dict of column values."""
        self._dbapi.execute(insert_sql(table, tuple(values)), tuple(db_value(v) for v in values.values()))

    def insert_rows(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        """Many rows of stored values (in ``columns`` order) in one statement."""
        self._dbapi.execute(insert_sql(table, columns, len(rows)), tuple(v for row in rows for v in row))

    def close(self) -> None:
        if self._dbapi is not None:
            try:
                self._dbapi.invalidate()
            except Exception:  # noqa: BLE001
                pass
            self._dbapi = None
