"""Booked vs walk-in waits in a report: the tickets of booked citizens (checked in by code at the kiosk: the ticket
record's ``booked`` mark) counted apart from the walk-ins, each with its issued count, how many were called and
the mean wait to the first call. Read from the ticket facts joined to the tickets (no rollup holds the mark):
one grouped query over the period's tickets in scope. So that a province's year does not read millions of rows
for it, the figures are given for one commune, or for a period of at most :data:`MAX_DAYS` days; otherwise None.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select

from central.models import Ticket
from central.report_models import TicketFact
from central.reports.query import Query
from common import tt01

#: The longest period booked vs walk-in waits are read for when the report covers several communes.
MAX_DAYS = 92


def booked_waits(q: Query) -> dict[str, dict[str, Any]] | None:
    """``{"booked": {...}, "walk_in": {...}}``, each ``{"issued", "waited", "mean_wait_min"}``; None for several
    communes over more than MAX_DAYS days."""
    communes = q.scope.communes
    if (communes is None or len(communes) != 1) and q.period.days > MAX_DAYS:
        return None
    f, t = TicketFact.__table__.c, Ticket.__table__.c
    booked = case((t.booked.is_(True), 1), else_=0)
    query = (
        select(
            booked,
            func.count(),
            func.sum(case((f.wait_seconds.is_not(None), 1), else_=0)),
            func.coalesce(func.sum(f.wait_seconds), 0),
        )
        .select_from(
            TicketFact.__table__.join(
                Ticket.__table__,
                and_(t.commune_code == f.commune_code, t.device_id == f.device_id, t.id == f.ticket_id),
            )
        )
        .where(*q._where(f), *q._during(f.issued_at))
        .group_by(booked)
    )
    out = {kind: {"issued": 0, "waited": 0, "mean_wait_min": None} for kind in ("booked", "walk_in")}
    for is_booked, issued, waited, wait_s in q.conn.execute(query):
        waited = int(waited or 0)
        out["booked" if is_booked else "walk_in"] = {
            "issued": int(issued),
            "waited": waited,
            "mean_wait_min": tt01.ratio1(int(wait_s or 0), waited * 60),
        }
    return out
