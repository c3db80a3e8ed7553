"""Rebuilding the reports' derived tables from the records (``kiosk-central rebuild-rollups``).

``ticket_facts`` comes from :func:`central.reports.facts.rebuild_statement`; the day rows of every rollup are
computed from the records (and the facts) with one INSERT … SELECT per table, together with the rows of "every
field", then the dekad and month rows from the day rows and the year rows from the month rows.
Never needed in normal operation — ``rollups.apply_batch`` keeps everything exact at ingest — but it is the
reference the tests compare the increments with, a repair tool, and how the benchmark fills its rollups.

The day rows are written in day order, as the nightly syncs write them, so that the rows of a range of days
lie together on disk (the reports read ranges of days).
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, literal, select, union_all

from central.models import UUID, ClerkAction, IndicatorAnswer, Rating, Ticket
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
    RollupTotals,
    RollupWait,
    TicketFact,
)
from central.reports import facts as facts_mod
from central.reports import services_rollup
from central.reports.localtime import DEFAULT_LOCAL_TIME, LocalTime
from central.reports.rollups import (
    DERIVED,
    ROLLUPS,
    SATISFIED_PLUS,
    WAIT_CAP,
    Deltas,
    key_columns,
    value_columns,
)

QUEUE_SUMS = ("issued", "served", "no_show", "waited", "wait_seconds", "service_n", "service_seconds")
RATING_SUMS = ("ratings", "satisfied_plus", "points", "flagged")


def rebuild(conn: Connection, communes: list[str] | None = None, local_time: LocalTime = DEFAULT_LOCAL_TIME) -> None:
    """Recompute every derived table (of ``communes``) from the records, in the caller's transaction; the records'
    local days are those of ``local_time`` (the server's, ``Central.local_time``, as at ingest)."""
    lt = local_time
    dialect = conn.dialect.name
    for table in DERIVED:
        query = delete(table)
        if communes is not None:
            query = query.where(table.c.commune_code.in_(communes))
        conn.execute(query)

    def scoped(query, column):
        return query if communes is None else query.where(column.in_(communes))

    conn.execute(
        insert(TicketFact.__table__).from_select(facts_mod.FACT_COLUMNS, facts_mod.rebuild_statement(dialect, communes))
    )
    _pending_links(conn, communes)

    r, a, f = Rating.__table__.c, IndicatorAnswer.__table__.c, TicketFact.__table__.c
    d = literal("D")
    r_day, f_day = lt.sql_day(r.corrected_time, dialect), lt.sql_day(f.issued_at, dialect)
    service = func.coalesce(r.service_code, NO_SERVICE)
    person = (func.coalesce(r.counter_number, NO_COUNTER), func.coalesce(r.clerk_id, literal(NO_CLERK, UUID)))
    counted = r.counted.is_(True)
    sat = case((and_(counted, r.level.in_(SATISFIED_PLUS)), 1), else_=0)
    rating_values = (
        case((counted, 1), else_=0),
        sat,
        case((counted, r.points), else_=0),
        case((counted, 0), else_=1),
    )

    def zeros(n: int) -> list:
        """Distinct literal columns (one object used twice would be one column of the SELECT)."""
        return [literal(0) for _ in range(n)]

    one = literal(1)

    def count_if(condition):
        return case((condition, 1), else_=0)

    fact_values = (
        one,
        count_if(f.outcome == "served"),
        count_if(f.outcome == "no_show"),
        count_if(f.wait_seconds.is_not(None)),
        func.coalesce(f.wait_seconds, 0),
        count_if(f.service_seconds.is_not(None)),
        func.coalesce(f.service_seconds, 0),
    )

    # --- the people cube -----------------------------------------------------------------------------
    ratings = scoped(select(r.commune_code, r.site_code, d, r_day, service, *person, *rating_values), r.commune_code)
    _fill_days(conn, RollupRatings.__table__, ratings.subquery("x"), len(RATING_SUMS))
    joined = IndicatorAnswer.__table__.join(
        Rating.__table__,
        and_(r.commune_code == a.commune_code, r.device_id == a.device_id, r.id == a.rating_id),
    )
    answers = select(
        r.commune_code,
        r.site_code,
        d,
        r_day,
        service,
        *person,
        a.indicator,
        one,
        a.points,
        count_if(a.points >= 2),
        count_if(a.points == 1),
        count_if(a.points <= 0),
    ).select_from(joined)
    _fill_days(conn, RollupIndicators.__table__, scoped(answers.where(counted), r.commune_code).subquery("x"), 5)
    queue = select(f.commune_code, f.site_code, d, f_day, f.service_code, f.counter_number, f.clerk_id, *fact_values)
    _fill_days(conn, RollupQueue.__table__, scoped(queue, f.commune_code).subquery("x"), len(QUEUE_SUMS))

    # --- the commune cube ----------------------------------------------------------------------------
    totals = union_all(
        scoped(
            select(r.commune_code, r.site_code, d, r_day, service, *rating_values, *zeros(len(QUEUE_SUMS))),
            r.commune_code,
        ),
        scoped(
            select(f.commune_code, f.site_code, d, f_day, f.service_code, *zeros(len(RATING_SUMS)), *fact_values),
            f.commune_code,
        ),
    )
    _fill_days(conn, RollupTotals.__table__, totals.subquery("x"), len(RATING_SUMS) + len(QUEUE_SUMS))
    channels = select(r.commune_code, r.site_code, d, r_day, service, r.channel, *rating_values)
    _fill_days(conn, RollupChannels.__table__, scoped(channels, r.commune_code).subquery("x"), len(RATING_SUMS))
    levels = select(r.commune_code, r.site_code, d, r_day, service, r.level, one).where(counted)
    _fill_days(conn, RollupLevels.__table__, scoped(levels, r.commune_code).subquery("x"), 1)
    heat = union_all(
        scoped(
            select(
                r.commune_code,
                r.site_code,
                d,
                r_day,
                service,
                lt.sql_weekday(r.corrected_time, dialect),
                lt.sql_hour(r.corrected_time, dialect),
                literal(1),
                sat,
                literal(0),
            ).where(counted),
            r.commune_code,
        ),
        scoped(
            select(
                f.commune_code,
                f.site_code,
                d,
                f_day,
                f.service_code,
                lt.sql_weekday(f.issued_at, dialect),
                lt.sql_hour(f.issued_at, dialect),
                literal(0),
                literal(0),
                literal(1),
            ),
            f.commune_code,
        ),
    )
    _fill_days(conn, RollupHeat.__table__, heat.subquery("x"), 3)
    bucket = case((f.wait_minutes > WAIT_CAP, WAIT_CAP), else_=f.wait_minutes)
    waits = select(f.commune_code, f.site_code, d, f_day, f.service_code, bucket, one).where(
        f.wait_minutes.is_not(None)
    )
    _fill_days(conn, RollupWait.__table__, scoped(waits, f.commune_code).subquery("x"), 1)

    for table in ROLLUPS:
        _fill(conn, table, _coarser(table, "D", "T", lt, dialect, communes))
        _fill(conn, table, _coarser(table, "D", "M", lt, dialect, communes))
        _fill(conn, table, _coarser(table, "M", "Y", lt, dialect, communes))
    services = Deltas(lt)  # rollup_services: only visits of several fields add to it, read in Python
    services_rollup.rebuild_rows(conn, communes, services)
    services.flush(conn)


def ensure_built(conn: Connection, local_time: LocalTime = DEFAULT_LOCAL_TIME) -> bool:
    """Rebuild everything when records are stored but the derived tables are empty; True if it did.

    That happens once, after a migration that reshaped the rollups (revision 0007): the migration stays quick
    and the server makes the rollups again from the records the next time it starts.
    """

    def has(table) -> bool:
        return conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None

    ratings, tickets = Rating.__table__, Ticket.__table__
    if (has(ratings) and not has(RollupTotals.__table__)) or (has(tickets) and not has(TicketFact.__table__)):
        rebuild(conn, None, local_time)
        return True
    return False


def _fill_days(conn: Connection, table: Table, rows, sums: int) -> None:
    """Day rows of ``table`` from a subquery of (key columns…, values…): the values summed per key, and the rows of
    every field (:data:`ALL_SERVICES`) with them, in day order."""
    columns = list(rows.c)
    keys, values = columns[: len(columns) - sums], columns[len(columns) - sums :]
    per = select(*keys, *(func.sum(v).label(f"v{i}") for i, v in enumerate(values))).group_by(*keys).cte("per")
    c = list(per.c)
    k, v = c[: len(keys)], c[len(keys) :]
    rest = k[5:]  # after commune, site, grain, start, field
    every = select(k[0], k[1], k[2], k[3], literal(ALL_SERVICES), *rest, *(func.sum(x) for x in v)).group_by(
        k[0], k[1], k[2], k[3], *rest
    )
    both = union_all(select(*c), every).subquery("both")
    _fill(conn, table, select(*both.c).order_by(list(both.c)[3]))


def _pending_links(conn: Connection, communes: list[str] | None) -> None:
    """rollup_pending: answers whose rating, and queue actions whose ticket, are not stored."""
    r, a, t, c = Rating.__table__.c, IndicatorAnswer.__table__.c, Ticket.__table__.c, ClerkAction.__table__.c
    p = PendingLink.__table__
    columns = ["commune_code", "device_id", "parent_id", "child_id", "kind"]
    has_rating = select(r.id).where(r.commune_code == a.commune_code, r.device_id == a.device_id, r.id == a.rating_id)
    query = select(a.commune_code, a.device_id, a.rating_id, a.id, literal("answer")).where(~has_rating.exists())
    conn.execute(
        insert(p).from_select(columns, query if communes is None else query.where(a.commune_code.in_(communes)))
    )
    has_ticket = select(t.id).where(t.commune_code == c.commune_code, t.device_id == c.device_id, t.id == c.ticket_id)
    query = select(c.commune_code, c.device_id, c.ticket_id, c.id, literal("action")).where(
        c.ticket_id.is_not(None), c.action.in_(facts_mod.QUEUE_ACTIONS), ~has_ticket.exists()
    )
    conn.execute(
        insert(p).from_select(columns, query if communes is None else query.where(c.commune_code.in_(communes)))
    )


def _coarser(table: Table, source: str, grain: str, lt: LocalTime, dialect: str, communes: list[str] | None):
    """SELECT of ``table``'s rows of ``grain`` summed from its rows of the finer ``source`` grain."""
    c = table.c
    start = {"T": lt.sql_dekad, "M": lt.sql_month, "Y": lt.sql_year}[grain](c.start, dialect, local=False)
    rest = [c[k] for k in key_columns(table) if k not in ("commune_code", "site_code", "grain", "start")]
    query = select(
        c.commune_code, c.site_code, literal(grain), start, *rest, *(func.sum(c[v]) for v in value_columns(table))
    )
    query = query.where(c.grain == source)
    if communes is not None:
        query = query.where(c.commune_code.in_(communes))
    return query.group_by(c.commune_code, c.site_code, start, *rest).order_by(start)


def _fill(conn: Connection, table: Table, query) -> None:
    conn.execute(insert(table).from_select([c.name for c in table.columns], query))
