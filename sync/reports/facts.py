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

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.sql import Select

from sync.central.models import UUID, ClerkAction, Ticket
from sync.central.report_models import NO_CLERK, NO_COUNTER, TicketFact
from sync.reports.localtime import sql_seconds, whole_seconds

QUEUE_ACTIONS = ("call", "complete", "no_show", "transfer")
ENDINGS = ("complete", "no_show")


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
            if isinstance(target, str) and target:
                service = target[:16]
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
    """SELECT producing the ``ticket_facts`` rows of every ticket (of ``communes``), for INSERT … SELECT."""
    a = ClerkAction.__table__.c
    key = (a.commune_code, a.device_id, a.ticket_id)
    where = [a.ticket_id.is_not(None), a.action.in_(QUEUE_ACTIONS)]
    if communes is not None:
        where.append(a.commune_code.in_(communes))
    target = ClerkAction.__table__.c.detail["to"].as_string()
    acts = (
        select(
            *key,
            a.action,
            a.seq,
            a.corrected_time,
            a.counter_number,
            a.clerk_id,
            case((a.action == "transfer", target)).label("target"),
        )
        .where(*where)
        .subquery("acts")
    )
    k = (acts.c.commune_code, acts.c.device_id, acts.c.ticket_id)

    def ranked(condition, name: str, descending: bool = True):
        order = acts.c.seq.desc() if descending else acts.c.seq
        inner = select(acts, func.row_number().over(partition_by=k, order_by=order).label("rn")).where(condition)
        inner = inner.subquery(name + "_all")
        return select(inner).where(inner.c.rn == 1).subquery(name)

    first_call = ranked(acts.c.action == "call", "first_call", descending=False)
    last_call = ranked(acts.c.action == "call", "last_call")
    ending = ranked(acts.c.action.in_(ENDINGS), "ending")
    transfer = ranked(and_(acts.c.action == "transfer", acts.c.target.is_not(None), acts.c.target != ""), "transfer")
    calls = select(acts).where(acts.c.action == "call").subquery("calls")
    before = (
        select(
            calls.c.commune_code,
            calls.c.device_id,
            calls.c.ticket_id,
            calls.c.corrected_time,
            func.row_number()
            .over(
                partition_by=(calls.c.commune_code, calls.c.device_id, calls.c.ticket_id), order_by=calls.c.seq.desc()
            )
            .label("rn"),
        )
        .join(
            ending,
            and_(
                ending.c.commune_code == calls.c.commune_code,
                ending.c.device_id == calls.c.device_id,
                ending.c.ticket_id == calls.c.ticket_id,
                calls.c.seq < ending.c.seq,
            ),
        )
        .subquery("before_all")
    )
    call_before = select(before).where(before.c.rn == 1).subquery("call_before")

    t = Ticket.__table__.c
    joined = Ticket.__table__
    for sub in (first_call, last_call, ending, transfer, call_before):
        joined = joined.outerjoin(
            sub,
            and_(sub.c.commune_code == t.commune_code, sub.c.device_id == t.device_id, sub.c.ticket_id == t.id),
        )
    wait = case(
        (
            first_call.c.seq.is_not(None),
            _at_least_zero(sql_seconds(first_call.c.corrected_time, t.corrected_time, dialect)),
        ),
    )
    service_time = case(
        (
            and_(ending.c.action == "complete", call_before.c.corrected_time.is_not(None)),
            _at_least_zero(sql_seconds(ending.c.corrected_time, call_before.c.corrected_time, dialect)),
        )
    )
    by_counter = case((ending.c.seq.is_not(None), ending.c.counter_number), else_=last_call.c.counter_number)
    by_clerk = case((ending.c.seq.is_not(None), ending.c.clerk_id), else_=last_call.c.clerk_id)
    outcome = case(
        (ending.c.action == "complete", "served"),
        (ending.c.action == "no_show", "no_show"),
        (first_call.c.seq.is_not(None), "called"),
        else_="waiting",
    )
    query = select(
        t.commune_code,
        t.device_id,
        t.id,
        t.corrected_time,
        func.substr(func.coalesce(transfer.c.target, t.service_code), 1, 16),
        func.coalesce(by_counter, NO_COUNTER),
        func.coalesce(by_clerk, literal(NO_CLERK, UUID)),
        outcome,
        first_call.c.corrected_time,
        ending.c.corrected_time,
        wait,
        case((first_call.c.seq.is_not(None), (wait + 59) / 60)),
        service_time,
    ).select_from(joined)
    if communes is not None:
        query = query.where(t.commune_code.in_(communes))
    return query


def _at_least_zero(seconds):
    return case((seconds < 0, 0), else_=seconds)


FACT_COLUMNS = [c.name for c in TicketFact.__table__.columns]
