"""Visits and services apart (issue 25): a *visit* is a ticket; a *service* is one field completed in a visit (a
``complete`` clerk action). A visit of two fields is one visit and two services, each with its own service time,
and its one rating counts once for each field served and for each clerk who served one of them.

The queue and rating rollups count a visit once, under the field it ended in (:mod:`central.reports.facts`): its last
field, with that field's service time, and its rating under the field it was rated in. What they leave out is kept
apart in ``rollup_services`` (:mod:`central.reports.services_rollup`, at ingest and in the rebuild) and read here —
for any scope and period, like every rollup; without rollups (``Query.use_rollups`` False, the reference the tests
compare them with) it is read from the records. It is small — only visits of several fields have it:

* :func:`earlier_fields`: the ``complete`` actions of a visit's fields *before* its last one (``detail.field <
  detail.fields``, :mod:`kiosk.field_desk`), each with its service time (from the last call of the ticket before
  it), placed like the rollups place the visit: by the ticket's issue time;
* :func:`extra_ratings`: the counted ratings of visits of several fields (``ratings.services`` names more than one
  field), each once more for every other field served, and for every other clerk who completed one of its fields.

A day of single-field visits has neither, so its figures are exactly the queue and rating rollups'.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, select

from central.models import ClerkAction, Rating
from central.report_models import NO_CLERK, RollupServices, TicketFact
from central.reports.localtime import whole_seconds
from central.reports.query import Query
from central.reports.rollups import SATISFIED_PLUS

CHUNK = 500


SERVICES = RollupServices.__table__
#: Read at once (one query per breakdown): the earlier fields' services, then the extra ratings per field, per clerk.
SERVICE_SUMS = tuple(c.name for c in SERVICES.columns if not c.primary_key)


@dataclass
class Services:
    """Services of earlier fields: per field, per clerk and in all, [count, timed, seconds]."""

    total: list[int] = field(default_factory=lambda: [0, 0, 0])
    by_service: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    by_clerk: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))

    def add(self, service: str, clerk: str | None, seconds: int | None) -> None:
        rows = [self.total, self.by_service[service]] + ([self.by_clerk[clerk]] if clerk else [])
        for row in rows:
            row[0] += 1
            if seconds is not None:
                row[1] += 1
                row[2] += seconds


def earlier_fields(q: Query) -> Services:
    """The services of the fields before a visit's last one, in the period (by the ticket's issue time) and scope:
    commune and point of the ticket, counter and clerk of the completion, field completed."""
    if q.use_rollups:
        return _rolled_up_fields(q)
    a, f = ClerkAction.__table__.c, TicketFact.__table__.c
    served = a.detail["service"].as_string()
    query = (
        select(a.commune_code, a.device_id, a.ticket_id, a.seq, a.corrected_time, served, a.clerk_id)
        .select_from(
            ClerkAction.__table__.join(
                TicketFact.__table__,
                and_(f.commune_code == a.commune_code, f.device_id == a.device_id, f.ticket_id == a.ticket_id),
            )
        )
        .where(
            a.action == "complete",
            a.detail["field"].as_integer() < a.detail["fields"].as_integer(),
            *q._where(f, person=False, service=False),
            *q._where(a, service=False),
            *q._during(f.issued_at),
        )
    )
    if q.scope.service is not None:
        query = query.where(served == q.scope.service)
    found = list(q.conn.execute(query))
    calls = _calls(q, {(r.commune_code, r.device_id, r.ticket_id) for r in found})
    out = Services()
    for r in found:
        before = [t for seq, t in calls.get((r.commune_code, r.device_id, r.ticket_id), ()) if seq < r.seq]
        seconds = max(0, whole_seconds(r.corrected_time, before[-1])) if before else None
        out.add(r[5], r.clerk_id, seconds)
    return out


def _rolled_up_fields(q: Query) -> Services:
    out = Services()
    for clerk, *values in q._read(SERVICES, ("clerk_id",), SERVICE_SUMS):
        out.total = [a + int(b) for a, b in zip(out.total, values[:3], strict=True)]
        if values[0] and clerk != NO_CLERK:
            out.by_clerk[clerk] = [int(v) for v in values[:3]]
    for code, *values in q._read(SERVICES, ("service_code",), SERVICE_SUMS, each_field=True):
        if values[0]:
            out.by_service[code] = [int(v) for v in values[:3]]
    return out


def _calls(q: Query, tickets: Iterable[tuple[str, str, str]]) -> dict[tuple, list[tuple[int, Any]]]:
    """(seq, time) of the ``call`` actions of ``tickets``, in sequence order."""
    a = ClerkAction.__table__.c
    by_ticket: dict[tuple, list[tuple[int, Any]]] = defaultdict(list)
    keys = sorted(tickets)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        query = select(a.commune_code, a.device_id, a.ticket_id, a.seq, a.corrected_time).where(
            a.action == "call",
            a.commune_code.in_({k[0] for k in chunk}),
            a.ticket_id.in_({k[2] for k in chunk}),
        )
        for row in q.conn.execute(query.order_by(a.seq)):
            by_ticket[(row.commune_code, row.device_id, row.ticket_id)].append((row.seq, row.corrected_time))
    return by_ticket


@dataclass
class ExtraRatings:
    """A visit's rating once more for each other field and each other clerk: [ratings, satisfied+, points, 0]."""

    by_service: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))
    by_clerk: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))


def extra_ratings(q: Query) -> ExtraRatings:
    """The counted ratings of visits of several fields, in the period (the rating's time) and scope (commune and
    point), counted once more under each field served other than the one they were rated in, and under each clerk
    who completed a field of the visit other than the clerk rated."""
    if q.use_rollups:
        return _rolled_up_ratings(q)
    r = Rating.__table__.c
    query = select(
        r.commune_code,
        r.device_id,
        r.ticket_id,
        r.service_code,
        r.services,
        r.clerk_id,
        r.counter_number,
        r.level,
        r.points,
    ).where(
        r.counted.is_(True),
        r.services.like("% %"),
        *q._where(r, person=False, service=False),
        *q._during(r.corrected_time),
    )
    found = list(q.conn.execute(query))
    out = ExtraRatings()
    if not found:
        return out
    clerks = _completers(q, {(x.commune_code, x.device_id, x.ticket_id) for x in found if x.ticket_id})
    for x in found:
        values = [1, int(x.level in SATISFIED_PLUS), x.points, 0]
        rated_in_scope = (q.scope.counter is None or x.counter_number == q.scope.counter) and (
            q.scope.clerk is None or _clerk_in_scope(q, x.clerk_id)
        )  # per field, a rating counts where the rollups count it: by the counter and clerk it names
        for code in dict.fromkeys(x.services.split()):
            if rated_in_scope and code != x.service_code and (q.scope.service is None or code == q.scope.service):
                _add(out.by_service[code], values)
        for clerk in clerks.get((x.commune_code, x.device_id, x.ticket_id), ()):
            if clerk != x.clerk_id and q.scope.counter is None and _clerk_in_scope(q, clerk):
                _add(out.by_clerk[clerk], values)
    return out


def _rolled_up_ratings(q: Query) -> ExtraRatings:
    out = ExtraRatings()
    for code, *values in q._read(SERVICES, ("service_code",), SERVICE_SUMS, each_field=True):
        if values[3]:
            out.by_service[code] = [*(int(v) for v in values[3:6]), 0]
    if q.scope.counter is None:  # under the clerk who completed a field: whatever the field, at any counter
        every_field = q
        if q.scope.service is not None:
            every_field = Query(q.conn, q.period, replace(q.scope, service=None), True, q.local_time)
        for clerk, *values in every_field._read(SERVICES, ("clerk_id",), SERVICE_SUMS):
            if values[6]:
                out.by_clerk[clerk] = [*(int(v) for v in values[6:]), 0]
    return out


def _clerk_in_scope(q: Query, clerk: str | None) -> bool:
    return q.scope.clerk is None or clerk in (q.scope.clerk_ids or (q.scope.clerk,))


def _completers(q: Query, tickets: set[tuple[str, str, str]]) -> dict[tuple, list[str]]:
    """The clerks who completed a field of each of ``tickets``, in order, each once."""
    a = ClerkAction.__table__.c
    out: dict[tuple, list[str]] = defaultdict(list)
    keys = sorted(tickets)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        query = select(a.commune_code, a.device_id, a.ticket_id, a.clerk_id).where(
            a.action == "complete",
            a.clerk_id.is_not(None),
            a.commune_code.in_({k[0] for k in chunk}),
            a.ticket_id.in_({k[2] for k in chunk}),
        )
        for row in q.conn.execute(query.order_by(a.seq)):
            key = (row.commune_code, row.device_id, row.ticket_id)
            if key in tickets and row.clerk_id not in out[key]:
                out[key].append(row.clerk_id)
    return out


def _add(row: list[int], values: list[int]) -> None:
    for i, value in enumerate(values):
        row[i] += value
