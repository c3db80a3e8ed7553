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
kiosks of one commune neither lose updates nor deadlock. :func:`rebuild` recomputes everything from the
records (``kiosk-central rebuild-rollups``); a test checks that it equals the increments.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, literal, select, union_all

from sync.central.models import UUID, ClerkAction, IndicatorAnswer, Rating, Ticket
from sync.central.report_models import (
    NO_CLERK,
    NO_COUNTER,
    NO_SERVICE,
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
from sync.reports.localtime import local, sql_hour, sql_local_day, sql_local_month, sql_quarter, sql_weekday, sql_year

#: Levels quoted as "hài lòng trở lên" (satisfied or above).
SATISFIED_PLUS = ("very_satisfied", "satisfied")
#: Waits longer than this many minutes share the last histogram bucket.
WAIT_CAP = 480
CHUNK = 1000

#: Rollups kept per month, quarter and year (the totals also per day).
GRAINED: tuple[Table, ...] = tuple(
    m.__table__ for m in (RollupRatings, RollupLevels, RollupIndicators, RollupHeat, RollupQueue, RollupWait)
)
ROLLUPS: tuple[Table, ...] = (*GRAINED, RollupTotals.__table__)
DERIVED: tuple[Table, ...] = (*ROLLUPS, TicketFact.__table__)


def _keys(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _values(table: Table) -> list[str]:
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
    keys, values = _keys(table), _values(table)
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
    """``n`` presses alike (same commune, local hour, field, counter, clerk, level, counted, points)."""
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
        + (r["clerk_id"], r["level"], r["counted"], r["points"])
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


def _indicators(conn: Connection, d: Deltas, commune: str, device: str, ratings: list, answers: list) -> None:
    r, a = Rating.__table__.c, IndicatorAnswer.__table__.c
    # Answers just stored: their ratings are stored already (same or an earlier batch), or not yet.
    wanted = sorted({x["rating_id"] for x in answers})
    found: dict[str, Any] = {}
    for chunk in _chunks(wanted):
        query = select(r.commune_code, r.id, r.corrected_time, r.counted, r.service_code, r.counter_number, r.clerk_id)
        query = query.where(r.commune_code == commune, r.device_id == device, r.id.in_(chunk))
        found.update({row.id: row._asdict() for row in conn.execute(query)})
    for answer in answers:
        rating = found.get(answer["rating_id"])
        if rating is not None:
            indicator_contribution(d, answer, rating)
    # Ratings just stored: answers that came in an earlier batch waited for them.
    counted = {x["id"]: x for x in ratings if x["counted"]}
    if not counted:
        return
    batch = (answers or ratings)[0]["sync_id"]
    for chunk in _chunks(sorted(counted)):
        query = select(a.rating_id, a.indicator, a.points).where(
            a.commune_code == commune, a.device_id == device, a.rating_id.in_(chunk), a.sync_id != batch
        )
        for row in conn.execute(query):
            indicator_contribution(d, row._asdict(), counted[row.rating_id])


def _tickets(conn: Connection, d: Deltas, commune: str, device: str, tickets: list, actions: list) -> None:
    touched = {t["id"] for t in tickets}
    touched.update(x["ticket_id"] for x in actions if x["ticket_id"] and x["action"] in facts_mod.QUEUE_ACTIONS)
    if not touched:
        return
    f, t, c = TicketFact.__table__, Ticket.__table__.c, ClerkAction.__table__.c
    # Tickets stored by this very batch are new: they have no fact yet, and their row is at hand.
    stored: dict[str, Any] = {x["id"]: x for x in tickets}
    earlier = sorted(touched - stored.keys())
    old: dict[str, Any] = {}
    for chunk in _chunks(earlier):
        scope = (f.c.commune_code == commune, f.c.device_id == device, f.c.ticket_id.in_(chunk))
        old.update({row.ticket_id: row._asdict() for row in conn.execute(select(f).where(*scope))})
        query = select(t.commune_code, t.device_id, t.id, t.service_code, t.corrected_time)
        query = query.where(t.commune_code == commune, t.device_id == device, t.id.in_(chunk))
        stored.update({row.id: row._asdict() for row in conn.execute(query)})
    history: dict[str, list] = defaultdict(list)
    for chunk in _chunks(sorted(touched)):  # every stored action of each ticket, from this batch or before
        query = select(c.ticket_id, c.action, c.seq, c.corrected_time, c.counter_number, c.clerk_id, c.detail).where(
            c.commune_code == commune,
            c.device_id == device,
            c.ticket_id.in_(chunk),
            c.action.in_(facts_mod.QUEUE_ACTIONS),
        )
        for row in conn.execute(query):
            history[row.ticket_id].append(row._asdict())
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


# --- rebuild from the records -------------------------------------------------------------------------


def rebuild(conn: Connection, communes: list[str] | None = None) -> None:
    """Recompute every derived table (of ``communes``) from the records, in the caller's transaction.

    The month rows (and the day rows of the totals) are computed from the records; the quarter and year
    rows are summed from the month rows.
    """
    dialect = conn.dialect.name
    for table in DERIVED:
        query = delete(table)
        if communes is not None:
            query = query.where(table.c.commune_code.in_(communes))
        conn.execute(query)

    def scoped(query, column):
        return query if communes is None else query.where(column.in_(communes))

    r, a, t = Rating.__table__.c, IndicatorAnswer.__table__.c, Ticket.__table__.c
    month = sql_local_month(r.corrected_time, dialect)
    m = literal("M")
    dims = (
        func.coalesce(r.service_code, NO_SERVICE),
        func.coalesce(r.counter_number, NO_COUNTER),
        func.coalesce(r.clerk_id, literal(NO_CLERK, UUID)),
    )
    counted = r.counted.is_(True)
    sat = case((and_(counted, r.level.in_(SATISFIED_PLUS)), 1), else_=0)
    rating_sums = (
        func.sum(case((counted, 1), else_=0)),
        func.sum(sat),
        func.sum(case((counted, r.points), else_=0)),
        func.sum(case((counted, 0), else_=1)),
    )
    _fill(
        conn,
        RollupRatings.__table__,
        scoped(select(r.commune_code, m, month, *dims, *rating_sums), r.commune_code).group_by(
            r.commune_code, month, *dims
        ),
    )
    _fill(
        conn,
        RollupLevels.__table__,
        scoped(
            select(r.commune_code, m, month, dims[0], r.level, func.count()).where(counted), r.commune_code
        ).group_by(r.commune_code, month, dims[0], r.level),
    )
    joined = IndicatorAnswer.__table__.join(
        Rating.__table__,
        and_(r.commune_code == a.commune_code, r.device_id == a.device_id, r.id == a.rating_id),
    )
    _fill(
        conn,
        RollupIndicators.__table__,
        scoped(
            select(
                r.commune_code,
                m,
                month,
                *dims,
                a.indicator,
                func.count(),
                func.sum(a.points),
                func.sum(case((a.points >= 2, 1), else_=0)),
                func.sum(case((a.points == 1, 1), else_=0)),
                func.sum(case((a.points <= 0, 1), else_=0)),
            )
            .select_from(joined)
            .where(counted),
            r.commune_code,
        ).group_by(r.commune_code, month, *dims, a.indicator),
    )
    zero, one = literal(0), literal(1)
    daily = union_all(
        scoped(
            select(
                r.commune_code.label("c"),
                sql_local_day(r.corrected_time, dialect).label("d"),
                case((counted, 1), else_=0).label("ratings"),
                sat.label("sat"),
                case((counted, r.points), else_=0).label("points"),
                case((counted, 0), else_=1).label("flagged"),
                zero.label("tickets"),
            ),
            r.commune_code,
        ),
        scoped(
            select(t.commune_code, sql_local_day(t.corrected_time, dialect), zero, zero, zero, zero, one),
            t.commune_code,
        ),
    ).subquery("daily")
    _fill(
        conn,
        RollupTotals.__table__,
        select(
            daily.c.c,
            literal("D"),
            daily.c.d,
            *(func.sum(daily.c[x]) for x in ("ratings", "sat", "points", "flagged", "tickets")),
        ).group_by(daily.c.c, daily.c.d),
    )
    _fill(conn, RollupTotals.__table__, _coarser(RollupTotals.__table__, "D", "M", dialect, communes))
    heat = union_all(
        scoped(
            select(
                r.commune_code.label("c"),
                month.label("m"),
                sql_weekday(r.corrected_time, dialect).label("wd"),
                sql_hour(r.corrected_time, dialect).label("h"),
                one.label("ratings"),
                sat.label("sat"),
                zero.label("tickets"),
            ).where(counted),
            r.commune_code,
        ),
        scoped(
            select(
                t.commune_code,
                sql_local_month(t.corrected_time, dialect),
                sql_weekday(t.corrected_time, dialect),
                sql_hour(t.corrected_time, dialect),
                zero,
                zero,
                one,
            ),
            t.commune_code,
        ),
    ).subquery("heat")
    _fill(
        conn,
        RollupHeat.__table__,
        select(
            heat.c.c,
            m,
            heat.c.m,
            heat.c.wd,
            heat.c.h,
            *(func.sum(heat.c[x]) for x in ("ratings", "sat", "tickets")),
        ).group_by(heat.c.c, heat.c.m, heat.c.wd, heat.c.h),
    )
    conn.execute(
        insert(TicketFact.__table__).from_select(facts_mod.FACT_COLUMNS, facts_mod.rebuild_statement(dialect, communes))
    )
    _queue_months(conn, communes)
    for table in ROLLUPS:
        for grain in ("Q", "Y"):
            _fill(conn, table, _coarser(table, "M", grain, dialect, communes))


def _queue_months(conn: Connection, communes: list[str] | None) -> None:
    """Month rows of rollup_queue and rollup_wait, from ticket_facts."""
    f = TicketFact.__table__.c
    month = sql_local_month(f.issued_at, conn.dialect.name)
    dims = (f.service_code, f.counter_number, f.clerk_id)
    m = literal("M")

    def scoped(query):
        return query if communes is None else query.where(f.commune_code.in_(communes))

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    _fill(
        conn,
        RollupQueue.__table__,
        scoped(
            select(
                f.commune_code,
                m,
                month,
                *dims,
                func.count(),
                count_if(f.outcome == "served"),
                count_if(f.outcome == "no_show"),
                count_if(f.wait_seconds.is_not(None)),
                func.coalesce(func.sum(f.wait_seconds), 0),
                count_if(f.service_seconds.is_not(None)),
                func.coalesce(func.sum(f.service_seconds), 0),
            )
        ).group_by(f.commune_code, month, *dims),
    )
    bucket = case((f.wait_minutes > WAIT_CAP, WAIT_CAP), else_=f.wait_minutes)
    _fill(
        conn,
        RollupWait.__table__,
        scoped(select(f.commune_code, m, month, bucket, func.count()).where(f.wait_minutes.is_not(None))).group_by(
            f.commune_code, month, bucket
        ),
    )


def _coarser(table: Table, source: str, grain: str, dialect: str, communes: list[str] | None):
    """SELECT of ``table``'s rows of ``grain`` summed from its rows of the finer ``source`` grain."""
    c = table.c
    start = {"M": sql_local_month, "Q": sql_quarter, "Y": sql_year}[grain](c.start, dialect, local=False)
    rest = [c[k] for k in _keys(table) if k not in ("commune_code", "grain", "start")]
    query = select(c.commune_code, literal(grain), start, *rest, *(func.sum(c[v]) for v in _values(table)))
    query = query.where(c.grain == source)
    if communes is not None:
        query = query.where(c.commune_code.in_(communes))
    return query.group_by(c.commune_code, start, *rest)


def _fill(conn: Connection, table: Table, query) -> None:
    conn.execute(insert(table).from_select([c.name for c in table.columns], query))
