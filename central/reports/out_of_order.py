"""Tickets called out of turn: a clerk picked a waiting ticket from the line that "next" would not have called
then (kiosk.holds: a ``call`` clerk action marked ``{"out_of_order": true}``).

Counted from the clerk actions themselves (few: a pick is a clerk's exception), by the time of the call, in the
report's scope: commune, reception point, counter and clerk of the call; a field chosen counts the tickets
whose (final) field it is.
"""

from __future__ import annotations

from sqlalchemy import and_, func, select

from central.models import ClerkAction
from central.report_models import TicketFact
from central.reports.query import Query


def out_of_order(q: Query) -> int:
    """How many calls out of turn the period and scope of ``q`` hold."""
    a = ClerkAction.__table__.c
    query = select(func.count()).where(
        a.action == "call",
        a.detail["out_of_order"].as_boolean().is_(True),
        *q._where(a, service=False),
        *q._during(a.corrected_time),
    )
    if q.scope.service is not None:
        f = TicketFact.__table__.c
        query = query.where(
            select(f.ticket_id)
            .where(
                and_(
                    f.commune_code == a.commune_code,
                    f.device_id == a.device_id,
                    f.ticket_id == a.ticket_id,
                    f.service_code == q.scope.service,
                )
            )
            .exists()
        )
    return int(q.conn.execute(query).scalar() or 0)
