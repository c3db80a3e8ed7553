"""Rollup rows with nothing left in them are deleted, so the increments equal a rebuild row for row.

A ticket's queue figures move when a late clerk action changes its fact (another counter or clerk ended it,
another wait bucket): the increment takes the old contribution back (−1) and adds the new one. The row it
was taken from can end with every sum zero — a row the rebuild (``central.reports.rebuild``) never makes,
since it only groups records that exist. A row that counts nothing is no row: after an upsert, every row the
increment took something from is deleted if all its sums are now zero. Only such rows can have become
empty, so the delete touches rows the upsert has just locked (no new lock order between kiosks).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, and_, bindparam, delete


def _columns(table: Table) -> tuple[list[str], list[str]]:
    keys = [c.name for c in table.primary_key.columns]
    return keys, [c.name for c in table.columns if not c.primary_key]


def shrunk(table: Table, changes: Sequence[tuple]) -> list[tuple]:
    """The keys of the rows that ``changes`` ((*key, *increments) each) take something from."""
    width = len(table.primary_key.columns)
    return [change[:width] for change in changes if any(v < 0 for v in change[width:])]


def drop(conn: Connection, table: Table, keys: Sequence[tuple]) -> None:
    """Delete the rows of ``keys`` whose sums are all zero (any database; PostgreSQL's ingest uses
    :func:`drop_sql` in its pipeline instead)."""
    if not keys:
        return
    names, values = _columns(table)
    stmt = delete(table).where(
        and_(*(table.c[k] == bindparam(f"k_{k}") for k in names), *(table.c[v] == 0 for v in values))
    )
    conn.execute(stmt, [{f"k_{k}": value for k, value in zip(names, key, strict=True)} for key in keys])


_DROP_SQL: dict[str, str] = {}


def drop_sql(table: Table) -> str:
    """PostgreSQL's :func:`drop`, taking the keys as one array per key column (psycopg parameters)."""
    sql = _DROP_SQL.get(table.name)
    if sql is None:
        from sqlalchemy.dialects import postgresql

        dialect = postgresql.dialect()
        names, values = _columns(table)
        arrays = ", ".join(f"%s::{table.c[k].type.compile(dialect=dialect)}[]" for k in names)
        aliases = ", ".join(f'"{k}"' for k in names)
        same = " AND ".join(f't."{k}" = u."{k}"' for k in names)
        empty = " AND ".join(f't."{v}" = 0' for v in values)
        sql = f"DELETE FROM {table.name} AS t USING unnest({arrays}) AS u({aliases}) WHERE {same} AND {empty}"
        _DROP_SQL[table.name] = sql
    return sql
