"""Rebuilding the reports' derived tables from the records (``kiosk-central rebuild-rollups``).

Month rows (and the day rows of the totals) are computed from the records with one INSERT … SELECT per
table; quarter and year rows are summed from the month rows; ``ticket_facts`` comes from
:func:`sync.reports.facts.rebuild_statement`. Never needed in normal operation — ``rollups.apply_batch``
keeps everything exact at ingest — but it is the reference the tests compare the increments with, a
repair tool, and how the benchmark fills its rollups.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, literal, select, union_all

from sync.central.models import UUID, ClerkAction, IndicatorAnswer, Rating, Ticket
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
from sync.reports.localtime import sql_hour, sql_local_day, sql_local_month, sql_quarter, sql_weekday, sql_year
from sync.reports.rollups import DERIVED, ROLLUPS, SATISFIED_PLUS, WAIT_CAP, key_columns, value_columns


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
        RollupChannels.__table__,
        scoped(select(r.commune_code, m, month, dims[0], r.channel, *rating_sums), r.commune_code).group_by(
            r.commune_code, month, dims[0], r.channel
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
    _pending_links(conn, communes)
    for table in ROLLUPS:
        for grain in ("Q", "Y"):
            _fill(conn, table, _coarser(table, "M", grain, dialect, communes))


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
    rest = [c[k] for k in key_columns(table) if k not in ("commune_code", "grain", "start")]
    query = select(c.commune_code, literal(grain), start, *rest, *(func.sum(c[v]) for v in value_columns(table)))
    query = query.where(c.grain == source)
    if communes is not None:
        query = query.where(c.commune_code.in_(communes))
    return query.group_by(c.commune_code, start, *rest)


def _fill(conn: Connection, table: Table, query) -> None:
    conn.execute(insert(table).from_select([c.name for c in table.columns], query))


def rebuild_channels(conn: Connection) -> None:
    """Fill ``rollup_channels`` alone from the stored ratings (central migration 0006, for the ratings stored
    before the table existed): month rows from the records, quarter and year rows from the month rows."""
    dialect = conn.dialect.name
    table = RollupChannels.__table__
    conn.execute(delete(table))
    r = Rating.__table__.c
    month = sql_local_month(r.corrected_time, dialect)
    counted = r.counted.is_(True)
    sums = (
        func.sum(case((counted, 1), else_=0)),
        func.sum(case((and_(counted, r.level.in_(SATISFIED_PLUS)), 1), else_=0)),
        func.sum(case((counted, r.points), else_=0)),
        func.sum(case((counted, 0), else_=1)),
    )
    service = func.coalesce(r.service_code, NO_SERVICE)
    query = select(r.commune_code, literal("M"), month, service, r.channel, *sums)
    _fill(conn, table, query.group_by(r.commune_code, month, service, r.channel))
    for grain in ("Q", "Y"):
        _fill(conn, table, _coarser(table, "M", grain, dialect, None))
