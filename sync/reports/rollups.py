"""Keeping the reports' derived tables exact: increments at ingest, and a full rebuild from the records.

Why increments are exact, even for records that arrive months late: every record is stored exactly once
(the sync's unique key) and never changes, and :func:`apply_batch` runs in the same transaction that
stores the batch, adding each newly stored record's contribution to the rollup rows *of the period the
record belongs to* (its corrected local time, not the time it arrived) — its day, dekad, month and year,
under its own field and under "every field" (:data:`ALL_SERVICES`). So a rollup row always equals the sum
over the records stored so far; a late record simply adds to its old period. Contributions that depend on
two records are added when the second of them is stored:

* an indicator answer counts once both it and its rating are stored (whichever batch comes last);
* a ticket's queue figures depend on its clerk actions: the tickets a batch touches get their
  ``ticket_facts`` row recomputed from all their stored records, and the rollups take (new − old).

Increments are upserts (``n = n + excluded.n``) made in key order, so concurrent batches of different
kiosks of one commune neither lose updates nor deadlock. ``sync.reports.rebuild`` recomputes everything
from the records (``kiosk-central rebuild-rollups``); a test checks that it equals the increments.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from kiosk.tt01 import SATISFIED_OR_ABOVE
from sync.central.models import MAIN_SITE, ClerkAction, IndicatorAnswer, Rating, Ticket
from sync.central.report_models import (
    ALL_SERVICES,
    NO_CLERK,
    NO_COUNTER,
    NO_SERVICE,
    PendingLink,
    RollupChannels,
    RollupHeat,
    RollupIndicators,
    RollupLevels,
    RollupQueue,
    RollupRatings,
    RollupTotals,
    RollupWait,
    TicketFact,
)
from sync.reports import facts as facts_mod
from sync.reports.localtime import OFFSET, dekad_of

#: Levels quoted as "hài lòng trở lên" (satisfied or above): the TT 01 rule of kiosk.tt01.
SATISFIED_PLUS = SATISFIED_OR_ABOVE
#: Waits longer than this many minutes share the last histogram bucket.
WAIT_CAP = 480
CHUNK = 1000

#: The commune cube (per commune, site, field) and the people cube (also per counter and clerk).
COMMUNE_CUBE: tuple[Table, ...] = tuple(
    m.__table__ for m in (RollupTotals, RollupLevels, RollupHeat, RollupWait, RollupChannels)
)
PEOPLE_CUBE: tuple[Table, ...] = tuple(m.__table__ for m in (RollupRatings, RollupIndicators, RollupQueue))
ROLLUPS: tuple[Table, ...] = (*COMMUNE_CUBE, *PEOPLE_CUBE)
DERIVED: tuple[Table, ...] = (*ROLLUPS, TicketFact.__table__, PendingLink.__table__)

_TOTALS, _LEVELS, _HEAT, _WAIT, _CHANNELS = (t.name for t in COMMUNE_CUBE)
_RATINGS, _INDICATORS, _QUEUE = (t.name for t in PEOPLE_CUBE)
_TABLES = {t.name: t for t in ROLLUPS}


def key_columns(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def value_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if not c.primary_key]


def spans_of(day: date) -> tuple[tuple[str, date], ...]:
    """The day, dekad, month and year a local day belongs to, as (grain, first day)."""
    return (("D", day), ("T", dekad_of(day)), ("M", day.replace(day=1)), ("Y", date(day.year, 1, 1)))


class Deltas:
    """Increments per rollup row, gathered in memory and written as one sorted upsert per table.

    Increments are first summed per local *day* and field; :meth:`rows` spreads each day's sums over its
    day, dekad, month and year rows, each under its field and under every field.
    """

    def __init__(self) -> None:
        self.days: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, table: str, commune: str, site: str, day: date, service: str, rest: tuple, **values: int) -> None:
        row = self.days[(table, commune, site, day, service, rest)]
        for name, value in values.items():
            row[name] += value

    def rows(self) -> dict[str, dict[tuple, dict[str, int]]]:
        """Table → rollup key → increments, every day's sums spread over its spans and over every field."""
        out: dict[str, dict[tuple, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        for (table, commune, site, day, service, rest), values in self.days.items():
            for grain, start in spans_of(day):
                for field in (service, ALL_SERVICES):
                    row = out[table][(commune, site, grain, start, field, *rest)]
                    for name, value in values.items():
                        row[name] += value
        return out

    def flush(self, conn: Connection) -> None:
        rows = self.rows()
        for table in ROLLUPS:
            if rows.get(table.name):
                _upsert(conn, table, rows[table.name])


def _upsert(conn: Connection, table: Table, pending: Mapping[tuple, Mapping[str, int]]) -> None:
    keys, values = key_columns(table), value_columns(table)
    if conn.dialect.name == "postgresql":
        rows = []
        for key in sorted(pending):  # one lock order for every transaction: no deadlocks between kiosks
            change = pending[key]
            if any(change.values()):
                rows.append((*key, *(change.get(v, 0) for v in values)))
        if rows:  # one statement for the table: its rows as arrays, one array per column
            conn.connection.driver_connection.execute(_upsert_sql(table), [list(c) for c in zip(*rows, strict=True)])
        return
    from sqlalchemy.dialects.sqlite import insert as dialect_insert

    rows = []
    for key in sorted(pending):
        change = pending[key]
        if any(change.values()):
            rows.append({**dict(zip(keys, key, strict=True)), **{v: change.get(v, 0) for v in values}})
    if not rows:
        return
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={v: table.c[v] + stmt.excluded[v] for v in values})
    for chunk in _chunks(rows):
        conn.execute(stmt, chunk)


_UPSERT_SQL: dict[str, str] = {}


def _upsert_sql(table: Table) -> str:
    """``INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO UPDATE SET n = n + excluded.n`` for PostgreSQL,
    taking the rows in the order given (the arrays' order: the lock order)."""
    sql = _UPSERT_SQL.get(table.name)
    if sql is None:
        from sqlalchemy.dialects import postgresql

        dialect = postgresql.dialect()
        keys, values = key_columns(table), value_columns(table)
        names = ", ".join(f'"{c}"' for c in keys + values)
        key_names = ", ".join(f'"{c}"' for c in keys)
        arrays = ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}[]" for c in keys + values)
        sums = ", ".join(f'"{v}" = {table.name}."{v}" + excluded."{v}"' for v in values)
        sql = (
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS u({names}, i) "
            f"ORDER BY i ON CONFLICT ({key_names}) DO UPDATE SET {sums}"
        )
        _UPSERT_SQL[table.name] = sql
    return sql


# --- contributions of one record ----------------------------------------------------------------------


def _person(counter: int | None, clerk: str | None) -> tuple[int, str]:
    return (NO_COUNTER if counter is None else counter, clerk or NO_CLERK)


def rating_contribution(d: Deltas, r: Mapping[str, Any], n: int = 1) -> None:
    """``n`` presses alike (same commune, site, local hour, field, counter, clerk, level, counted, points, channel)."""
    when = r["corrected_time"] + OFFSET
    commune, site, day, counted = r["commune_code"], r["site_code"], when.date(), bool(r["counted"])
    service = r["service_code"] or NO_SERVICE
    sat = n if counted and r["level"] in SATISFIED_PLUS else 0
    values = {
        "ratings": n if counted else 0,
        "satisfied_plus": sat,
        "points": n * r["points"] if counted else 0,
        "flagged": 0 if counted else n,
    }
    d.add(_RATINGS, commune, site, day, service, _person(r["counter_number"], r["clerk_id"]), **values)
    d.add(_TOTALS, commune, site, day, service, (), **values)
    d.add(_CHANNELS, commune, site, day, service, (r["channel"],), **values)
    if counted:
        d.add(_LEVELS, commune, site, day, service, (r["level"],), n=n)
        d.add(_HEAT, commune, site, day, service, (when.isoweekday(), when.hour), ratings=n, satisfied_plus=sat)


def indicator_contribution(d: Deltas, answer: Mapping[str, Any], rating: Mapping[str, Any]) -> None:
    if not rating["counted"]:
        return
    points = answer["points"]
    d.add(
        _INDICATORS,
        rating["commune_code"],
        rating["site_code"],
        (rating["corrected_time"] + OFFSET).date(),
        rating["service_code"] or NO_SERVICE,
        (*_person(rating["counter_number"], rating["clerk_id"]), answer["indicator"]),
        n=1,
        points=points,
        n2=int(points >= 2),
        n1=int(points == 1),
        n0=int(points <= 0),
    )


def fact_contribution(d: Deltas, f: Mapping[str, Any], sign: int) -> None:
    """A ticket's queue figures (``sign`` −1 takes back an older version of its fact)."""
    commune, site, when = f["commune_code"], f["site_code"], f["issued_at"] + OFFSET
    day, service = when.date(), f["service_code"]
    waited, served = f["wait_seconds"] is not None, f["service_seconds"] is not None
    values = {
        "issued": sign,
        "served": sign * (f["outcome"] == "served"),
        "no_show": sign * (f["outcome"] == "no_show"),
        "waited": sign * waited,
        "wait_seconds": sign * (f["wait_seconds"] or 0),
        "service_n": sign * served,
        "service_seconds": sign * (f["service_seconds"] or 0),
    }
    d.add(_QUEUE, commune, site, day, service, (f["counter_number"], f["clerk_id"]), **values)
    d.add(_TOTALS, commune, site, day, service, (), **values)
    d.add(_HEAT, commune, site, day, service, (when.isoweekday(), when.hour), tickets=sign)
    if waited:
        d.add(_WAIT, commune, site, day, service, (min(f["wait_minutes"], WAIT_CAP),), n=sign)


# --- at ingest ----------------------------------------------------------------------------------------

_ALIKE = ("corrected_time", "service_code", "counter_number", "clerk_id", "level", "counted", "points", "channel")


class Presses:
    """Presses alike (same local hour, field, counter, clerk, level, counted, points, channel), counted as they are stored:
    a batch is mostly presses of a few counters and hours, which then add to the rollups once per kind."""

    def __init__(self) -> None:
        self.alike: Counter = Counter()

    def add(self, r: Mapping[str, Any]) -> None:
        t = r["corrected_time"]
        key = (t.year, t.month, t.day, t.hour, r["service_code"], r["counter_number"], r["clerk_id"])
        self.alike[key + (r["level"], r["counted"], r["points"], r["channel"])] += 1

    def contributions(self, d: Deltas, commune: str, site: str) -> None:
        place = {"commune_code": commune, "site_code": site}
        for key, n in self.alike.items():
            hour = datetime(key[0], key[1], key[2], key[3])
            rating_contribution(d, {**place, **dict(zip(_ALIKE, (hour, *key[4:]), strict=True))}, n)


def apply_batch(
    conn: Connection,
    commune: str,
    device: str,
    inserted: Mapping[str, list[dict[str, Any]]],
    site: str = MAIN_SITE,
    presses: Presses | None = None,
) -> None:
    """Add the contributions of the records a batch has just stored (call in the batch's transaction).

    ``inserted`` maps a record type to the rows just stored (column → value); all come from one kiosk of
    ``commune`` at ``site``. ``presses``: its ratings already counted alike while they were stored.
    """
    d = Deltas()
    ratings, answers = inserted.get("rating", []), inserted.get("indicator_answer", [])
    tickets, actions = inserted.get("ticket", []), inserted.get("clerk_action", [])
    if presses is None:
        presses = Presses()
        for r in ratings:
            presses.add(r)
    presses.contributions(d, commune, site)
    if answers or ratings:
        _indicators(conn, d, commune, device, site, ratings, answers)
    if tickets or actions:
        _tickets(conn, d, commune, device, tickets, actions)
    d.flush(conn)


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _pending(conn: Connection, commune: str, device: str, kind: str, parents: Mapping[str, Any]) -> list[str]:
    """Children of ``kind`` that waited for one of ``parents`` (now stored): their ids, and they stop waiting."""
    p = PendingLink.__table__.c
    scope = (p.commune_code == commune, p.device_id == device, p.kind == kind)
    waiting = [(parent, child) for parent, child in conn.execute(select(p.parent_id, p.child_id).where(*scope))]
    found = [(parent, child) for parent, child in waiting if parent in parents]
    for chunk in _chunks([child for _parent, child in found]):
        conn.execute(delete(PendingLink.__table__).where(*scope, p.child_id.in_(chunk)))
    return [child for _parent, child in found]


def _wait(conn: Connection, commune: str, device: str, kind: str, children: list[tuple[str, str]]) -> None:
    """Children whose parent is not stored yet: (parent id, child id)."""
    rows = [
        {"commune_code": commune, "device_id": device, "parent_id": parent, "child_id": child, "kind": kind}
        for parent, child in children
    ]
    for chunk in _chunks(rows):
        conn.execute(insert(PendingLink.__table__), chunk)


def _indicators(
    conn: Connection, d: Deltas, commune: str, device: str, site: str, ratings: list, answers: list
) -> None:
    """An answer counts when both it and its rating are stored, whichever comes last."""
    r, a = Rating.__table__.c, IndicatorAnswer.__table__.c
    parents: dict[str, Any] = {x["id"]: x for x in ratings} if answers else {}
    earlier = sorted({x["rating_id"] for x in answers} - parents.keys())  # answers to ratings of earlier batches
    for chunk in _chunks(earlier):
        query = select(
            r.commune_code,
            r.site_code,
            r.id,
            r.corrected_time,
            r.counted,
            r.service_code,
            r.counter_number,
            r.clerk_id,
        )
        query = query.where(r.commune_code == commune, r.device_id == device, r.id.in_(chunk))
        parents.update({row.id: row._asdict() for row in conn.execute(query)})
    orphans = []
    for answer in answers:
        rating = parents.get(answer["rating_id"])
        if rating is None:
            orphans.append((answer["rating_id"], answer["id"]))
        else:
            indicator_contribution(d, answer, rating)
    _wait(conn, commune, device, "answer", orphans)
    if ratings and _has_pending(conn, commune, device, "answer"):
        by_id = {x["id"]: x for x in ratings}
        for chunk in _chunks(_pending(conn, commune, device, "answer", by_id)):
            query = select(a.rating_id, a.indicator, a.points).where(
                a.commune_code == commune, a.device_id == device, a.id.in_(chunk)
            )
            for row in conn.execute(query):
                indicator_contribution(d, row._asdict(), by_id[row.rating_id])


def _has_pending(conn: Connection, commune: str, device: str, kind: str) -> bool:
    """Whether any child of ``kind`` of this kiosk waits for its parent (nearly never: one indexed look)."""
    p = PendingLink.__table__.c
    query = select(p.child_id).where(p.commune_code == commune, p.device_id == device, p.kind == kind).limit(1)
    return conn.execute(query).first() is not None


def _tickets(conn: Connection, d: Deltas, commune: str, device: str, tickets: list, actions: list) -> None:
    """Recompute the facts of the tickets this batch touches; the rollups take (new − old)."""
    f, t, c = TicketFact.__table__, Ticket.__table__.c, ClerkAction.__table__.c
    columns = (c.id, c.ticket_id, c.action, c.seq, c.corrected_time, c.counter_number, c.clerk_id, c.detail)
    scope = (c.commune_code == commune, c.device_id == device)
    history: dict[str, list] = defaultdict(list)
    for action in actions:
        if action["ticket_id"] and action["action"] in facts_mod.QUEUE_ACTIONS:
            history[action["ticket_id"]].append(action)
    # Tickets stored by this very batch are new: no fact yet, their row is at hand, and their actions are
    # in this batch — or, when an action came first, waiting in rollup_pending.
    stored: dict[str, Any] = {x["id"]: x for x in tickets}
    if tickets and _has_pending(conn, commune, device, "action"):
        for chunk in _chunks(_pending(conn, commune, device, "action", stored)):
            for row in conn.execute(select(*columns).where(*scope, c.id.in_(chunk))):
                history[row.ticket_id].append(row._asdict())
    # Tickets of earlier batches that this batch's actions touch: read their fact, row and every action.
    earlier = sorted(history.keys() - stored.keys())
    old: dict[str, Any] = {}
    for chunk in _chunks(earlier):
        where = (f.c.commune_code == commune, f.c.device_id == device, f.c.ticket_id.in_(chunk))
        old.update({row.ticket_id: row._asdict() for row in conn.execute(select(f).where(*where))})
        query = select(t.commune_code, t.device_id, t.site_code, t.id, t.service_code, t.corrected_time)
        query = query.where(t.commune_code == commune, t.device_id == device, t.id.in_(chunk))
        stored.update({row.id: row._asdict() for row in conn.execute(query)})
        known = [tid for tid in chunk if tid in stored]
        for tid in known:  # their whole history comes from the database, this batch's actions included
            history.pop(tid, None)
        query = select(*columns).where(*scope, c.ticket_id.in_(known))
        query = query.where(c.action.in_(facts_mod.QUEUE_ACTIONS))
        for row in conn.execute(query):
            history[row.ticket_id].append(row._asdict())
    _wait(
        conn,
        commune,
        device,
        "action",
        [(tid, x["id"]) for tid in earlier if tid not in stored for x in history[tid]],
    )
    new = {tid: facts_mod.ticket_fact(ticket, history.get(tid, ())) for tid, ticket in stored.items()}
    for fact in old.values():
        fact_contribution(d, fact, -1)
    for fact in new.values():
        fact_contribution(d, fact, +1)
    for chunk in _chunks(sorted(old)):
        conn.execute(delete(f).where(f.c.commune_code == commune, f.c.device_id == device, f.c.ticket_id.in_(chunk)))
    facts_mod.store_facts(conn, [new[k] for k in sorted(new)])
