"""A ticket's journey from its records: issued, first called, ended (served or no-show), and by whom.

The same rule is written twice — :func:`ticket_fact` in Python (run at ingest for the tickets a batch
touches) and :func:`rebuild_statement` in SQL (run by a rebuild over all records) — and a test keeps
them equal on SQLite and PostgreSQL. Actions are taken in the device's sequence order, which never goes
back even when its wall clock does:

* ``waited`` = from the ticket's time to its *first* call (a transfer keeps the citizen's first wait);
* ``served`` when the last ending action is ``complete``; its service time runs from the last call
  before it to the completion; ``no_show`` when the last ending action is ``no_show``;
* the field is the ticket's, replaced by each transfer's target; the counter and clerk are those of the
  ending action (or of the last call while the ticket is being served).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, literal, select
from sqlalchemy.sql import Select

from central.models import UUID, ClerkAction, Ticket
from central.report_models import NO_CLERK, NO_COUNTER, TicketFact
from central.reports.localtime import sql_seconds, whole_seconds

QUEUE_ACTIONS = ("call", "complete", "no_show", "transfer")
ENDINGS = ("complete", "no_show")
#: A field's code (common.catalog_rules.CODE_RE): a transfer to anything else does not change the ticket's field.
SERVICE_CODE = re.compile(r"^[A-Z0-9]{1,16}$")


def minutes_up(seconds: int) -> int:
    """Whole minutes, rounded up: "called within N minutes"."""
    return (seconds + 59) // 60


def ticket_fact(ticket: Mapping[str, Any], actions: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``ticket_facts`` row of one ticket (column → value)."""
    service = ticket["service_code"]
    first_call = last_call = ending = call_before_ending = None
    for action in sorted((a for a in actions if a["action"] in QUEUE_ACTIONS), key=lambda a: a["seq"]):
        kind = action["action"]
        if kind == "transfer":
            target = (action["detail"] or {}).get("to") if isinstance(action["detail"], dict) else None
            if isinstance(target, str) and SERVICE_CODE.match(target):
                service = target
        elif kind == "call":
            first_call = first_call or action
            last_call = action
        else:
            ending, call_before_ending = action, last_call
    by = ending or last_call
    fact = {
        "commune_code": ticket["commune_code"],
        "device_id": ticket["device_id"],
        "ticket_id": ticket["id"],
        "site_code": ticket["site_code"],
        "issued_at": ticket["corrected_time"],
        "service_code": service,
        "counter_number": by["counter_number"] if by and by["counter_number"] is not None else NO_COUNTER,
        "clerk_id": by["clerk_id"] if by and by["clerk_id"] else NO_CLERK,
        "outcome": "waiting",
        "called_at": None,
        "finished_at": None,
        "wait_seconds": None,
        "wait_minutes": None,
        "service_seconds": None,
    }
    if first_call is not None:
        wait = max(0, whole_seconds(first_call["corrected_time"], ticket["corrected_time"]))
        fact.update(outcome="called", called_at=first_call["corrected_time"], wait_seconds=wait)
        fact["wait_minutes"] = minutes_up(wait)
    if ending is not None:
        fact.update(outcome="served" if ending["action"] == "complete" else "no_show")
        fact["finished_at"] = ending["corrected_time"]
        if ending["action"] == "complete" and call_before_ending is not None:
            fact["service_seconds"] = max(
                0, whole_seconds(ending["corrected_time"], call_before_ending["corrected_time"])
            )
    return fact


def rebuild_statement(dialect: str, communes: list[str] | None = None) -> Select:
    """SELECT producing the ``ticket_facts`` rows of every ticket (of ``communes``), for INSERT … SELECT.

    Plain GROUP BY and equi-joins (no window functions), which PostgreSQL plans well at millions of rows:
    per ticket, the sequence numbers of its first call, last call, last ending and last transfer; then the
    last call before that ending; then those actions themselves, joined back by sequence number.
    """
    ca = ClerkAction.__table__
    a = ca.c
    target = a.detail["to"].as_string()
    valid_transfer = and_(a.action == "transfer", target.regexp_match(SERVICE_CODE.pattern))
    where = [a.ticket_id.is_not(None), a.action.in_(QUEUE_ACTIONS)]
    if communes is not None:
        where.append(a.commune_code.in_(communes))
    key = (a.commune_code, a.device_id, a.ticket_id)
    agg = (
        select(
            *key,
            func.min(case((a.action == "call", a.seq))).label("first_call"),
            func.max(case((a.action == "call", a.seq))).label("last_call"),
            func.max(case((a.action.in_(ENDINGS), a.seq))).label("ending"),
            func.max(case((valid_transfer, a.seq))).label("transfer"),
        )
        .where(*where)
        .group_by(*key)
        .subquery("agg")
    )
    before = (
        select(agg.c.commune_code, agg.c.device_id, agg.c.ticket_id, func.max(a.seq).label("seq"))
        .select_from(
            agg.join(
                ca,
                and_(
                    a.commune_code == agg.c.commune_code,
                    a.device_id == agg.c.device_id,
                    a.ticket_id == agg.c.ticket_id,
                    a.action == "call",
                    a.seq < agg.c.ending,
                ),
            )
        )
        .group_by(agg.c.commune_code, agg.c.device_id, agg.c.ticket_id)
        .subquery("before")
    )
    t = Ticket.__table__.c
    joined = Ticket.__table__.outerjoin(
        agg, and_(agg.c.commune_code == t.commune_code, agg.c.device_id == t.device_id, agg.c.ticket_id == t.id)
    ).outerjoin(
        before,
        and_(before.c.commune_code == t.commune_code, before.c.device_id == t.device_id, before.c.ticket_id == t.id),
    )
    actions = {}
    for name, seq in (
        ("first_call", agg.c.first_call),
        ("last_call", agg.c.last_call),
        ("ending", agg.c.ending),
        ("transfer", agg.c.transfer),
        ("call_before", before.c.seq),
    ):
        alias = ca.alias(name)
        joined = joined.outerjoin(
            alias,
            and_(
                alias.c.commune_code == t.commune_code,
                alias.c.device_id == t.device_id,
                alias.c.ticket_id == t.id,
                alias.c.seq == seq,
            ),
        )
        actions[name] = alias.c
    first_call, last_call, ending = actions["first_call"], actions["last_call"], actions["ending"]
    call_before, transfer = actions["call_before"], actions["transfer"]
    called = agg.c.first_call.is_not(None)
    ended = agg.c.ending.is_not(None)
    wait = case((called, _at_least_zero(sql_seconds(first_call.corrected_time, t.corrected_time, dialect))))
    service_time = case(
        (
            and_(ending.action == "complete", before.c.seq.is_not(None)),
            _at_least_zero(sql_seconds(ending.corrected_time, call_before.corrected_time, dialect)),
        )
    )
    outcome = case(
        (ending.action == "complete", "served"),
        (ending.action == "no_show", "no_show"),
        (called, "called"),
        else_="waiting",
    )
    query = select(
        t.commune_code,
        t.device_id,
        t.id,
        t.site_code,
        t.corrected_time,
        func.substr(func.coalesce(transfer.detail["to"].as_string(), t.service_code), 1, 16),
        func.coalesce(case((ended, ending.counter_number), else_=last_call.counter_number), NO_COUNTER),
        func.coalesce(case((ended, ending.clerk_id), else_=last_call.clerk_id), literal(NO_CLERK, UUID)),
        outcome,
        first_call.corrected_time,
        ending.corrected_time,
        wait,
        case((called, (wait + 59) // 60)),
        service_time,
    ).select_from(joined)
    if communes is not None:
        query = query.where(t.commune_code.in_(communes))
    return query


def _at_least_zero(seconds):
    return case((seconds < 0, 0), else_=seconds)


FACT_COLUMNS = [c.name for c in TicketFact.__table__.columns]


def fact_rows(facts: list[dict[str, Any]]) -> list[tuple]:
    """``ticket_facts`` rows (column → value) as tuples in FACT_COLUMNS order, as store_facts takes them."""
    return [tuple(fact[c] for c in FACT_COLUMNS) for fact in facts]


def store_facts(conn: Connection, rows: list[tuple]) -> None:
    """Insert new ``ticket_facts`` rows, tuples in FACT_COLUMNS order (COPY on PostgreSQL, where a batch brings
    hundreds of tickets)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(TicketFact.__table__), [dict(zip(FACT_COLUMNS, row, strict=True)) for row in rows])
        return
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY ticket_facts ({', '.join(FACT_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
