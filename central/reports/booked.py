"""Booked vs walk-in waits, and booked no-shows, in a report: the tickets of booked citizens (checked in by code at the kiosk: the ticket
record's ``booked`` mark) counted apart from the walk-ins, each with its issued count, how many were called and
the mean wait to the first call. Read from the ticket facts joined to the tickets (no rollup holds the mark):
one grouped query over the period's tickets in scope. So that a province's year does not read millions of rows
for it, the figures are given for one commune, or for a period of at most :data:`MAX_DAYS` days; otherwise None.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select

from central.booking_models import Booking
from central.models import Device, DeviceStatus, Ticket
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


def booking_no_shows(q: Query, now: datetime | None = None) -> dict[str, int] | None:
    """The period's bookings (by their booked day) in scope, and how they ended: ``checked_in`` (a ticket of the
    commune carries the code: booked or late), ``no_show`` (never checked in by the end of its queue day, and a kiosk
    of its reception point synced after that day ended: the data is complete), ``open`` (today's, or a kiosk of its
    point has not reported since its day ended: not known yet). None where the booked vs walk-in figures are not
    read (:func:`booked_waits`) and for a report of one counter or clerk (a booking has neither)."""
    communes = q.scope.communes
    if (communes is None or len(communes) != 1) and q.period.days > MAX_DAYS:
        return None
    if q.scope.counter is not None or q.scope.clerk is not None:
        return None
    b, t = Booking.__table__.c, Ticket.__table__.c
    first = datetime.combine(q.period.start, time())
    query = select(b.commune_code, b.site_code, b.code, b.at).where(
        b.at >= first, b.at < datetime.combine(q.period.end + timedelta(days=1), time())
    )
    if communes is not None:
        query = query.where(b.commune_code.in_(communes))
    if q.scope.site is not None:
        query = query.where(b.site_code == q.scope.site)
    if q.scope.service is not None:
        query = query.where(b.service_code == q.scope.service)
    bookings = list(q.conn.execute(query))
    out = {"bookings": len(bookings), "checked_in": 0, "no_show": 0, "open": 0}
    if not bookings:
        return out
    codes = select(t.commune_code, t.booking_code).where(
        t.booking_code.is_not(None),
        t.commune_code.in_({x.commune_code for x in bookings}),
        *q._during(t.corrected_time, [(q.period.start - timedelta(days=1), q.period.end + timedelta(days=1))]),
    )
    checked = set(q.conn.execute(codes).all())
    d, s = Device.__table__.c, DeviceStatus.__table__.c
    heard = select(d.commune_code, d.site_code, func.max(s.last_sync_at)).join_from(
        Device.__table__, DeviceStatus.__table__, and_(s.device_id == d.id, s.commune_code == d.commune_code)
    )
    heard = heard.where(d.commune_code.in_({x.commune_code for x in bookings})).group_by(d.commune_code, d.site_code)
    last_sync = {(c, site): at for c, site, at in q.conn.execute(heard)}
    today = q.local_time.day(now or datetime.now(UTC).replace(tzinfo=None))
    for x in bookings:
        synced = last_sync.get((x.commune_code, x.site_code))
        day = x.at.date()
        if (x.commune_code, x.code) in checked:
            out["checked_in"] += 1
        elif day < today and synced is not None and synced >= q.local_time.utc_start(day + timedelta(days=1)):
            out["no_show"] += 1
        else:
            out["open"] += 1
    return out
