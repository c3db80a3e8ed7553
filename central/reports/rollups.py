"""Keeping the reports' derived tables exact: increments at ingest, and a full rebuild from the records.

Why increments are exact, even for records that arrive months late: every record is stored exactly once
(the sync's unique key) and never changes, and :func:`apply_batch` runs in the same transaction that
stores the batch, adding each newly stored record's contribution to the rollup rows *of the period the
record belongs to* (its corrected local time, not the time it arrived; local in the server's ``timezone``,
:class:`~central.reports.localtime.LocalTime`, the same as the rebuild's) — its day, dekad, month and year,
under its own field and under "every field" (:data:`ALL_SERVICES`). So a rollup row always equals the sum
over the records stored so far; a late record simply adds to its old period. Contributions that depend on
two records are added when the second of them is stored:

* an indicator answer counts once both it and its rating are stored (whichever batch comes last);
* a ticket's queue figures depend on its clerk actions: the tickets a batch touches get their
  ``ticket_facts`` row recomputed from all their stored records, and the rollups take (new − old);
* what a visit of several fields adds (``rollup_services``, :mod:`central.reports.services_rollup`) likewise: its
  earlier fields with its fact, its rating under other clerks once the rating and those clerks' completions are in.

Increments are upserts (``n = n + excluded.n``) made in key order, so concurrent batches of different
kiosks of one commune neither lose updates nor deadlock; a row an increment leaves with every sum zero is
deleted (:mod:`central.reports.empty_rows`). ``central.reports.rebuild`` recomputes everything from the records
(``kiosk-central rebuild-rollups``); a test checks that it equals the increments, every table row for row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping, Sequence
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, delete, exists, insert, select

from central.models import MAIN_SITE, ClerkAction, IndicatorAnswer, Rating, Ticket
from central.report_models import (
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
    RollupServices,
    RollupTotals,
    RollupWait,
    TicketFact,
)
from central.reports import empty_rows, services_rollup
from central.reports import facts as facts_mod
from central.reports.localtime import DEFAULT_LOCAL_TIME, LocalTime, dekad_of
from common.tt01 import SATISFIED_OR_ABOVE
from sync.record_schema import PRESS_FIELDS, press_key, press_values

#: Levels quoted as "hài lòng trở lên" (satisfied or above): the TT 01 rule of common.tt01.
SATISFIED_PLUS = SATISFIED_OR_ABOVE
#: Waits longer than this many minutes share the last histogram bucket.
WAIT_CAP = 480
CHUNK = 1000

#: The commune cube (per commune, site, field) and the people cube (also per counter and clerk).
COMMUNE_CUBE: tuple[Table, ...] = tuple(
    m.__table__ for m in (RollupTotals, RollupLevels, RollupHeat, RollupWait, RollupChannels)
)
PEOPLE_CUBE: tuple[Table, ...] = tuple(
    m.__table__ for m in (RollupRatings, RollupIndicators, RollupQueue, RollupServices)
)
ROLLUPS: tuple[Table, ...] = (*COMMUNE_CUBE, *PEOPLE_CUBE)
DERIVED: tuple[Table, ...] = (*ROLLUPS, TicketFact.__table__, PendingLink.__table__)

_TOTALS, _LEVELS, _HEAT, _WAIT, _CHANNELS = (t.name for t in COMMUNE_CUBE)
_RATINGS, _INDICATORS, _QUEUE, _SERVICES = (t.name for t in PEOPLE_CUBE)
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

    Increments are first summed per local *day* (of ``local_time``) and field; :meth:`rows` spreads each day's
    sums over its day, dekad, month and year rows, each under its field and under every field.
    """

    def __init__(self, local_time: LocalTime = DEFAULT_LOCAL_TIME) -> None:
        self.local_time = local_time
        self.days: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        #: PostgreSQL's upserts, laid out ahead of flush by lay_out(): (table, its columns as arrays, the keys of
        #: the rows it takes something from as arrays: central.reports.empty_rows).
        self.laid_out: list[tuple[Table, list[list], list[list]]] | None = None

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

    def lay_out(self) -> None:
        """Sort PostgreSQL's upserts and lay out their arrays now (no database), so that flush only sends them."""
        rows = self.rows()
        self.laid_out = []
        for table in ROLLUPS:
            if rows.get(table.name):
                changes = _changes(table, rows[table.name])
                shrunk = empty_rows.shrunk(table, changes)
                self.laid_out.append((table, _columns_of(changes), _columns_of(shrunk)))

    def flush(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            if self.laid_out is None:
                self.lay_out()
            driver = conn.connection.driver_connection
            with driver.pipeline():  # sent one after the other, without waiting for each answer
                for table, arrays, shrunk in self.laid_out or ():
                    if arrays:  # one statement for the table: its rows as arrays, one array per column
                        driver.execute(_upsert_sql(table), arrays)
                    if shrunk:  # then the rows it took from that now count nothing
                        driver.execute(empty_rows.drop_sql(table), shrunk)
            return
        rows = self.rows()
        for table in ROLLUPS:
            if rows.get(table.name):
                changes = _changes(table, rows[table.name])
                _upsert(conn, table, changes)
                empty_rows.drop(conn, table, empty_rows.shrunk(table, changes))


def _changes(table: Table, pending: Mapping[tuple, Mapping[str, int]]) -> list[tuple]:
    """The rows of ``pending`` that change something, as (*key, *values), in key order: one lock order for every
    transaction, so no deadlocks between kiosks."""
    values = value_columns(table)
    return [(*key, *(pending[key].get(v, 0) for v in values)) for key in sorted(pending) if any(pending[key].values())]


def _columns_of(rows: Sequence[tuple]) -> list[list]:
    """Rows as PostgreSQL's arrays: one per column (empty: no rows)."""
    return [list(c) for c in zip(*rows, strict=True)]


def _upsert(conn: Connection, table: Table, changes: Sequence[tuple]) -> None:
    """SQLite's upsert of ``changes`` (from :func:`_changes`; PostgreSQL's: Deltas.flush)."""
    keys, values = key_columns(table), value_columns(table)
    from sqlalchemy.dialects.sqlite import insert as dialect_insert

    columns = keys + values
    rows = [dict(zip(columns, change, strict=True)) for change in changes]
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
    when = d.local_time.local(r["corrected_time"])
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
        d.local_time.day(rating["corrected_time"]),
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
    commune, site, when = f["commune_code"], f["site_code"], d.local_time.local(f["issued_at"])
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

_alike = itemgetter(*PRESS_FIELDS)


class Presses:
    """Presses alike (sync.record_schema.press_key: same hour, field, counter, clerk, level, counted, points,
    channel), counted as they are stored: a batch is mostly presses of a few counters and hours, which then add
    to the rollups once per kind."""

    def __init__(self) -> None:
        self.alike: Counter = Counter()

    def add(self, r: Mapping[str, Any]) -> None:
        self.alike[press_key(r["corrected_time"], *_alike(r))] += 1

    def contributions(self, d: Deltas, commune: str, site: str) -> None:
        place = {"commune_code": commune, "site_code": site}
        for key, n in self.alike.items():
            rating_contribution(d, {**place, **press_values(key)}, n)


def apply_batch(
    conn: Connection,
    commune: str,
    device: str,
    inserted: Mapping[str, Sequence[Mapping[str, Any]]],
    site: str = MAIN_SITE,
    presses: Presses | None = None,
    local_time: LocalTime = DEFAULT_LOCAL_TIME,
) -> None:
    """Add the contributions of the records a batch has just stored (call in the batch's transaction).

    ``inserted`` maps a record type to the rows just stored (column → value); all come from one kiosk of
    ``commune`` at ``site``. ``presses``: its ratings already counted alike while they were stored.
    ``local_time``: the server's (``Central.local_time``), which places each record in its local day.
    """
    ratings, answers = inserted.get("rating", []), inserted.get("indicator_answer", [])
    tickets, actions = inserted.get("ticket", []), inserted.get("clerk_action", [])
    if presses is None:
        presses = Presses()
        for r in ratings:
            presses.add(r)
    share = BatchShare(commune, device, site, local_time)
    share.gather(
        conn,
        {x["id"] for x in ratings},
        {x["rating_id"] for x in answers},
        {x["id"] for x in tickets},
        queue_parents((x["ticket_id"], x["action"]) for x in actions),
        {x["ticket_id"] for x in ratings if services_rollup.several_fields(x["counted"], x["services"])},
        services_rollup.several_field_completions((x["ticket_id"], x["action"], x["detail"]) for x in actions),
    )
    share.compute(ratings, answers, tickets, actions, presses)
    share.write(conn)


def queue_parents(actions: Iterable[tuple[str | None, str]]) -> set[str]:
    """The tickets that clerk actions, given as (ticket id, action), change the queue figures of."""
    return {ticket for ticket, action in actions if ticket and action in facts_mod.QUEUE_ACTIONS}


class BatchShare:
    """A batch's share of the rollups and ticket facts, in three steps so that the middle one needs no database.

    :meth:`gather` reads what earlier batches of the kiosk stored that this batch's share depends on (ratings
    its indicator answers answer, earlier tickets its clerk actions touch, with their facts and actions, and the
    records that waited in ``rollup_pending`` for one of this batch's). It reads only rows of earlier batches,
    so it may run before this batch's rows are stored — the ingest does, so that :meth:`compute`, which works
    out every increment in memory, runs while the database is still taking the rows. :meth:`write` then
    stores the increments, the ticket facts and what is left waiting. :func:`apply_batch` runs the three in turn.
    """

    def __init__(self, commune: str, device: str, site: str, local_time: LocalTime = DEFAULT_LOCAL_TIME) -> None:
        self.commune, self.device, self.site = commune, device, site
        self.earlier_ratings: dict[str, dict[str, Any]] = {}
        self.found_answers: list[str] = []  # answers that waited for one of this batch's ratings
        self.waited_answers: list[dict[str, Any]] = []
        self.found_actions: list[str] = []  # clerk actions that waited for one of this batch's tickets
        self.waited_actions: list[dict[str, Any]] = []
        self.earlier_parents: list[str] = []  # tickets of earlier batches (or not stored yet) that actions touch
        self.old_facts: dict[str, dict[str, Any]] = {}
        self.earlier_tickets: dict[str, dict[str, Any]] = {}
        self.earlier_actions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.deltas = Deltas(local_time)
        self.answer_waits: list[tuple[str, str]] = []
        self.action_waits: list[tuple[str, str]] = []
        self.fact_rows: list[tuple] = []  # the new ticket facts, as store_facts takes them
        self.services = services_rollup.ServicesShare(commune, device)  # what visits of several fields add

    def gather(
        self,
        conn: Connection,
        ratings: set[str],
        answer_parents: set[str],
        tickets: set[str],
        action_parents: set[str],
        rated_tickets: Iterable[str | None] = (),
        completed_tickets: Iterable[str] = (),
    ) -> None:
        """Read, by id: the batch's ratings, the ratings its answers name, its tickets, the tickets its clerk
        actions change the queue figures of (:func:`queue_parents`); ``rated_tickets``: those its ratings of
        several fields name (:func:`central.reports.services_rollup.several_fields`), ``completed_tickets`` those it
        completes a field of a visit of several fields of (``several_field_completions``)."""
        self.services.gather(conn, set(completed_tickets), {t for t in rated_tickets if t})
        commune, device = self.commune, self.device
        r, a, c = Rating.__table__.c, IndicatorAnswer.__table__.c, ClerkAction.__table__.c
        for chunk in _chunks(sorted(answer_parents - ratings)):  # answers to ratings of earlier batches
            query = select(*(r[name] for name in _RATING_PARENT)).where(
                r.commune_code == commune, r.device_id == device, r.id.in_(chunk)
            )
            self.earlier_ratings.update({row.id: row._asdict() for row in conn.execute(query)})
        pending = _pending_kinds(conn, commune, device, ("answer",) * bool(ratings) + ("action",) * bool(tickets))
        if "answer" in pending:
            self.found_answers = _waiting(conn, commune, device, "answer", ratings)
            for chunk in _chunks(self.found_answers):
                query = select(a.rating_id, a.indicator, a.points).where(
                    a.commune_code == commune, a.device_id == device, a.id.in_(chunk)
                )
                self.waited_answers += [row._asdict() for row in conn.execute(query)]
        scope = (c.commune_code == commune, c.device_id == device)
        columns = (c.id, c.ticket_id, c.action, c.seq, c.corrected_time, c.counter_number, c.clerk_id, c.detail)
        if "action" in pending:
            self.found_actions = _waiting(conn, commune, device, "action", tickets)
            for chunk in _chunks(self.found_actions):
                self.waited_actions += [
                    row._asdict() for row in conn.execute(select(*columns).where(*scope, c.id.in_(chunk)))
                ]
        # Tickets of earlier batches that this batch's actions touch: their fact, row and every action stored.
        f, t = TicketFact.__table__, Ticket.__table__.c
        self.earlier_parents = sorted(action_parents - tickets)
        for chunk in _chunks(self.earlier_parents):
            where = (f.c.commune_code == commune, f.c.device_id == device, f.c.ticket_id.in_(chunk))
            self.old_facts.update({row.ticket_id: row._asdict() for row in conn.execute(select(f).where(*where))})
            query = select(t.commune_code, t.device_id, t.site_code, t.id, t.service_code, t.corrected_time)
            query = query.where(t.commune_code == commune, t.device_id == device, t.id.in_(chunk))
            self.earlier_tickets.update({row.id: row._asdict() for row in conn.execute(query)})
            known = [tid for tid in chunk if tid in self.earlier_tickets]
            query = select(*columns).where(*scope, c.ticket_id.in_(known), c.action.in_(facts_mod.QUEUE_ACTIONS))
            for row in conn.execute(query):
                self.earlier_actions[row.ticket_id].append(row._asdict())

    def compute(
        self,
        ratings: Sequence[Mapping[str, Any]],
        answers: Iterable[Mapping[str, Any]],
        tickets: Iterable[Mapping[str, Any]],
        actions: Iterable[Mapping[str, Any]],
        presses: Presses,
    ) -> None:
        """Every increment, and the new ticket facts, from the batch's rows, all laid out for :meth:`write`. It
        needs no database, so the ingest runs it while PostgreSQL takes the batch's last rows."""
        self.compute_ratings(ratings, answers, presses)
        self.compute_queue(tickets, actions)
        self.services.compute(self.deltas, ratings, actions)
        self.deltas.lay_out()

    def compute_ratings(
        self, ratings: Sequence[Mapping[str, Any]], answers: Iterable[Mapping[str, Any]], presses: Presses
    ) -> None:
        """The presses, and the indicator answers: an answer counts when both it and its rating are stored,
        whichever comes last."""
        d = self.deltas
        presses.contributions(d, self.commune, self.site)
        answers = list(answers)
        if answers:
            parents = {**self.earlier_ratings, **_by_id(ratings, {x["rating_id"] for x in answers})}
            for answer in answers:
                rating = parents.get(answer["rating_id"])
                if rating is None:
                    self.answer_waits.append((answer["rating_id"], answer["id"]))
                else:
                    indicator_contribution(d, answer, rating)
        if self.waited_answers:
            by_id = _by_id(ratings, {x["rating_id"] for x in self.waited_answers})
            for answer in self.waited_answers:
                indicator_contribution(d, answer, by_id[answer["rating_id"]])

    def compute_queue(self, tickets: Iterable[Mapping[str, Any]], actions: Iterable[Mapping[str, Any]]) -> None:
        """A ticket's queue figures: the facts of the tickets this batch touches, recomputed; the rollups take
        new − old."""
        d = self.deltas
        history: dict[str, list] = defaultdict(list)
        fresh: set[str] = set()  # this batch's actions (the database may hold them already)
        for action in actions:
            if action["ticket_id"] and action["action"] in facts_mod.QUEUE_ACTIONS:
                history[action["ticket_id"]].append(action)
                fresh.add(action["id"])
        for action in self.waited_actions:  # actions that came before their ticket, now here
            history[action["ticket_id"]].append(action)
        stored: dict[str, Any] = {x["id"]: x for x in tickets}
        stored.update(self.earlier_tickets)
        for tid in self.earlier_tickets:  # every action stored of an earlier ticket, and this batch's
            from_db = self.earlier_actions.get(tid, [])
            had = {x["id"] for x in from_db}  # (after the batch is stored, the database has its actions too)
            history[tid] = from_db + [x for x in history.get(tid, ()) if x["id"] not in had]
        self.action_waits = [(tid, x["id"]) for tid in self.earlier_parents if tid not in stored for x in history[tid]]
        new = {tid: facts_mod.ticket_fact(ticket, history.get(tid, ())) for tid, ticket in stored.items()}
        for fact in self.old_facts.values():
            fact_contribution(d, fact, -1)
        for fact in new.values():
            fact_contribution(d, fact, +1)
        for tid, ticket in self.earlier_tickets.items():  # the services of earlier fields too: new − old
            old = [x for x in self.earlier_actions.get(tid, ()) if x["id"] not in fresh]
            services_rollup.ticket_contribution(d, ticket, old, -1)
        for tid, ticket in stored.items():
            services_rollup.ticket_contribution(d, ticket, history.get(tid, ()), +1)
        self.fact_rows = facts_mod.fact_rows([new[k] for k in sorted(new)])

    def write(self, conn: Connection) -> None:
        """Store what :meth:`compute` worked out (in the batch's transaction, after its rows)."""
        commune, device, f = self.commune, self.device, TicketFact.__table__
        _stop_waiting(conn, commune, device, "answer", self.found_answers)
        _wait(conn, commune, device, "answer", self.answer_waits)
        _stop_waiting(conn, commune, device, "action", self.found_actions)
        _wait(conn, commune, device, "action", self.action_waits)
        for chunk in _chunks(sorted(self.old_facts)):
            conn.execute(
                delete(f).where(f.c.commune_code == commune, f.c.device_id == device, f.c.ticket_id.in_(chunk))
            )
        facts_mod.store_facts(conn, self.fact_rows)
        self.deltas.flush(conn)


#: The columns of a rating an indicator answer's contribution needs.
_RATING_PARENT = (
    "commune_code",
    "site_code",
    "id",
    "corrected_time",
    "counted",
    "service_code",
    "counter_number",
    "clerk_id",
)


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _waiting(conn: Connection, commune: str, device: str, kind: str, parents: Container[str]) -> list[str]:
    """Children of ``kind`` waiting for one of ``parents``: their ids."""
    p = PendingLink.__table__.c
    scope = (p.commune_code == commune, p.device_id == device, p.kind == kind)
    return [child for parent, child in conn.execute(select(p.parent_id, p.child_id).where(*scope)) if parent in parents]


def _stop_waiting(conn: Connection, commune: str, device: str, kind: str, children: list[str]) -> None:
    p = PendingLink.__table__.c
    scope = (p.commune_code == commune, p.device_id == device, p.kind == kind)
    for chunk in _chunks(children):
        conn.execute(delete(PendingLink.__table__).where(*scope, p.child_id.in_(chunk)))


def _wait(conn: Connection, commune: str, device: str, kind: str, children: list[tuple[str, str]]) -> None:
    """Children whose parent is not stored yet: (parent id, child id)."""
    rows = [
        {"commune_code": commune, "device_id": device, "parent_id": parent, "child_id": child, "kind": kind}
        for parent, child in children
    ]
    for chunk in _chunks(rows):
        conn.execute(insert(PendingLink.__table__), chunk)


def _by_id(rows: Iterable[Mapping[str, Any]], wanted: set[str] | None = None) -> dict[str, Any]:
    """Rows by id (only the ``wanted`` ones, when given); rows stored the typed way index themselves."""
    if hasattr(rows, "by_id"):
        return rows.by_id(wanted)
    return {x["id"]: x for x in rows if wanted is None or x["id"] in wanted}


def _pending_kinds(conn: Connection, commune: str, device: str, kinds: tuple[str, ...]) -> set[str]:
    """Which of ``kinds`` have a child of this kiosk waiting for its parent (nearly never: one indexed look
    per kind, in one statement)."""
    if not kinds:
        return set()
    p = PendingLink.__table__.c
    found = conn.execute(
        select(
            *(
                exists().where(p.commune_code == commune, p.device_id == device, p.kind == kind).label(kind)
                for kind in kinds
            )
        )
    ).one()
    return {kind for kind, waiting in zip(kinds, found, strict=True) if waiting}
