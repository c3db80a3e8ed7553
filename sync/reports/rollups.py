"""Keeping the reports' derived tables exact: increments at ingest, and a full rebuild from the records.

Why increments are exact, even for records that arrive months late: every record is stored exactly once
(the sync's unique key) and never changes, and :func:`apply_batch` runs in the same transaction that
stores the batch, adding each newly stored record's contribution to the rollup rows *of the period the
record belongs to* (its corrected local time, not the time it arrived) — its month, its quarter and its
year. So a rollup row always equals the sum over the records stored so far; a late record simply adds
to its old period. Contributions that depend on two records are added when the second of them is stored:

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
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from kiosk.tt01 import SATISFIED_OR_ABOVE
from sync.central.models import ClerkAction, IndicatorAnswer, Rating, Ticket
from sync.central.report_models import (
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
from sync.reports.localtime import local

#: Levels quoted as "hài lòng trở lên" (satisfied or above): the TT 01 rule of kiosk.tt01.
SATISFIED_PLUS = SATISFIED_OR_ABOVE
#: Waits longer than this many minutes share the last histogram bucket.
WAIT_CAP = 480
CHUNK = 1000

#: Rollups kept per month, quarter and year (the totals also per day).
GRAINED: tuple[Table, ...] = tuple(
    m.__table__
    for m in (RollupRatings, RollupLevels, RollupIndicators, RollupHeat, RollupQueue, RollupWait, RollupChannels)
)
ROLLUPS: tuple[Table, ...] = (*GRAINED, RollupTotals.__table__)
DERIVED: tuple[Table, ...] = (*ROLLUPS, TicketFact.__table__, PendingLink.__table__)


def key_columns(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def value_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if not c.primary_key]


def spans_of(day: date) -> tuple[tuple[str, date], ...]:
    """The month, quarter and year a local day belongs to, as (grain, first day)."""
    return (
        ("M", day.replace(day=1)),
        ("Q", date(day.year, (day.month - 1) // 3 * 3 + 1, 1)),
        ("Y", date(day.year, 1, 1)),
    )


class Deltas:
    """Increments per rollup row, gathered in memory and written as one sorted upsert per table.

    Increments are first summed per local *day*; :meth:`flush` spreads each day's sums over its month,
    quarter and year rows (and the day row of the totals), so a batch costs a few dict updates per record.
    """

    def __init__(self) -> None:
        self.days: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, table: Table, commune: str, day: date, rest: tuple, **values: int) -> None:
        row = self.days[(table.name, commune, day, rest)]
        for name, value in values.items():
            row[name] += value

    def rows(self) -> dict[str, dict[tuple, dict[str, int]]]:
        """Table → rollup key → increments, every day's sums spread over its spans."""
        out: dict[str, dict[tuple, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        totals = RollupTotals.__table__.name
        for (table, commune, day, rest), values in self.days.items():
            spans = spans_of(day)
            if table == totals:
                spans = (("D", day), *spans)
            for grain, start in spans:
                row = out[table][(commune, grain, start, *rest)]
                for name, value in values.items():
                    row[name] += value
        return out

    def flush(self, conn: Connection) -> None:
        rows = self.rows()
        for table in ROLLUPS:
            if rows.get(table.name):
                _upsert(conn, table, rows[table.name])


def _upsert(conn: Connection, table: Table, pending: Mapping[tuple, Mapping[str, int]]) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    keys, values = key_columns(table), value_columns(table)
    rows = []
    for key in sorted(pending):  # one lock order for every transaction: no deadlocks between kiosks
        change = pending[key]
        if any(change.values()):
            rows.append({**dict(zip(keys, key, strict=True)), **{v: change.get(v, 0) for v in values}})
    if not rows:
        return
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={v: table.c[v] + stmt.excluded[v] for v in values})
    for chunk in _chunks(rows):
        conn.execute(stmt, chunk)


# --- contributions of one record ----------------------------------------------------------------------


def _dims(row: Mapping[str, Any]) -> tuple[str, int, str]:
    counter = row["counter_number"]
    return (
        row["service_code"] or NO_SERVICE,
        NO_COUNTER if counter is None else counter,
        row["clerk_id"] or NO_CLERK,
    )


def rating_contribution(d: Deltas, r: Mapping[str, Any], n: int = 1) -> None:
    """``n`` presses alike (same commune, local hour, field, counter, clerk, level, counted, points, channel)."""
    when = local(r["corrected_time"])
    commune, day, counted = r["commune_code"], when.date(), bool(r["counted"])
    sat = n if counted and r["level"] in SATISFIED_PLUS else 0
    values = {
        "ratings": n if counted else 0,
        "satisfied_plus": sat,
        "points": n * r["points"] if counted else 0,
        "flagged": 0 if counted else n,
    }
    d.add(RollupRatings.__table__, commune, day, _dims(r), **values)
    d.add(RollupTotals.__table__, commune, day, (), **values)
    d.add(RollupChannels.__table__, commune, day, (_dims(r)[0], r["channel"]), **values)
    if counted:
        d.add(RollupLevels.__table__, commune, day, (_dims(r)[0], r["level"]), n=n)
        d.add(RollupHeat.__table__, commune, day, (when.isoweekday(), when.hour), ratings=n, satisfied_plus=sat)


def indicator_contribution(d: Deltas, answer: Mapping[str, Any], rating: Mapping[str, Any]) -> None:
    if not rating["counted"]:
        return
    points = answer["points"]
    d.add(
        RollupIndicators.__table__,
        rating["commune_code"],
        local(rating["corrected_time"]).date(),
        (*_dims(rating), answer["indicator"]),
        n=1,
        points=points,
        n2=int(points >= 2),
        n1=int(points == 1),
        n0=int(points <= 0),
    )


def ticket_contribution(d: Deltas, t: Mapping[str, Any], n: int = 1) -> None:
    when = local(t["corrected_time"])
    d.add(RollupTotals.__table__, t["commune_code"], when.date(), (), tickets=n)
    d.add(RollupHeat.__table__, t["commune_code"], when.date(), (when.isoweekday(), when.hour), tickets=n)


def fact_contribution(d: Deltas, f: Mapping[str, Any], sign: int) -> None:
    commune, day = f["commune_code"], local(f["issued_at"]).date()
    waited, served = f["wait_seconds"] is not None, f["service_seconds"] is not None
    d.add(
        RollupQueue.__table__,
        commune,
        day,
        (f["service_code"], f["counter_number"], f["clerk_id"]),
        issued=sign,
        served=sign * (f["outcome"] == "served"),
        no_show=sign * (f["outcome"] == "no_show"),
        waited=sign * waited,
        wait_seconds=sign * (f["wait_seconds"] or 0),
        service_n=sign * served,
        service_seconds=sign * (f["service_seconds"] or 0),
    )
    if waited:
        d.add(RollupWait.__table__, commune, day, (min(f["wait_minutes"], WAIT_CAP),), n=sign)


# --- at ingest ----------------------------------------------------------------------------------------


def apply_batch(conn: Connection, commune: str, device: str, inserted: Mapping[str, list[dict[str, Any]]]) -> None:
    """Add the contributions of the records a batch has just stored (call in the batch's transaction)."""
    d = Deltas()
    ratings, answers = inserted.get("rating", []), inserted.get("indicator_answer", [])
    tickets, actions = inserted.get("ticket", []), inserted.get("clerk_action", [])
    # Presses alike add alike: count them first (a batch is mostly presses of a few counters and days).
    hour = {"minute": 0, "second": 0, "microsecond": 0}
    alike = Counter(
        (r["commune_code"], r["corrected_time"].replace(**hour), r["service_code"], r["counter_number"])
        + (r["clerk_id"], r["level"], r["counted"], r["points"], r["channel"])
        for r in ratings
    )
    fields = (
        "commune_code",
        "corrected_time",
        "service_code",
        "counter_number",
        "clerk_id",
        "level",
        "counted",
        "points",
        "channel",
    )
    for key, n in alike.items():
        rating_contribution(d, dict(zip(fields, key, strict=True)), n)
    for (commune_code, corrected_time), n in Counter(
        (t["commune_code"], t["corrected_time"].replace(**hour)) for t in tickets
    ).items():
        ticket_contribution(d, {"commune_code": commune_code, "corrected_time": corrected_time}, n)
    if answers or ratings:
        _indicators(conn, d, commune, device, ratings, answers)
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


def _indicators(conn: Connection, d: Deltas, commune: str, device: str, ratings: list, answers: list) -> None:
    """An answer counts when both it and its rating are stored, whichever comes last."""
    r, a = Rating.__table__.c, IndicatorAnswer.__table__.c
    parents: dict[str, Any] = {x["id"]: x for x in ratings}
    earlier = sorted({x["rating_id"] for x in answers} - parents.keys())  # answers to ratings of earlier batches
    for chunk in _chunks(earlier):
        query = select(r.commune_code, r.id, r.corrected_time, r.counted, r.service_code, r.counter_number, r.clerk_id)
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
    if ratings:
        by_id = {x["id"]: x for x in ratings}
        for chunk in _chunks(_pending(conn, commune, device, "answer", by_id)):
            query = select(a.rating_id, a.indicator, a.points).where(
                a.commune_code == commune, a.device_id == device, a.id.in_(chunk)
            )
            for row in conn.execute(query):
                indicator_contribution(d, row._asdict(), by_id[row.rating_id])


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
    if tickets:
        for chunk in _chunks(_pending(conn, commune, device, "action", stored)):
            for row in conn.execute(select(*columns).where(*scope, c.id.in_(chunk))):
                history[row.ticket_id].append(row._asdict())
    # Tickets of earlier batches that this batch's actions touch: read their fact, row and every action.
    earlier = sorted(history.keys() - stored.keys())
    old: dict[str, Any] = {}
    for chunk in _chunks(earlier):
        where = (f.c.commune_code == commune, f.c.device_id == device, f.c.ticket_id.in_(chunk))
        old.update({row.ticket_id: row._asdict() for row in conn.execute(select(f).where(*where))})
        query = select(t.commune_code, t.device_id, t.id, t.service_code, t.corrected_time)
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
    rows = [new[k] for k in sorted(new)]
    for chunk in _chunks(rows):
        conn.execute(insert(f), chunk)
