"""What a visit of several fields adds to the rollups (``rollup_services``, issue 25): the services of its fields
before the last one, and its one rating counted once more for each other field and each other clerk.

The rules are those of :mod:`central.reports.visits` (which reads the records without rollups); here they are
worked out per ticket so that the ingest (:class:`ServicesShare`, like a ticket's fact: the tickets a batch
touches get their share recomputed from every stored record, the rollups take new − old) and the rebuild
(:func:`rebuild_rows`, called by :func:`central.reports.rebuild.rebuild` over every such ticket) add exactly the
same rows:

* :func:`earlier_services`: each ``complete`` of a field before the visit's last (``detail.field <
  detail.fields``), its time from the last call before it; counted once the ticket is stored (its issue day and
  reception point place it, as they place the ticket);
* :func:`field_contribution`: a counted rating naming several fields, under each field but the one it was rated in;
* :func:`clerk_contribution`: that rating under each clerk who completed a field of its ticket, but the clerk rated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, and_, select

from central.models import ClerkAction, Rating, Ticket
from central.report_models import NO_CLERK, NO_COUNTER, NO_SERVICE, RollupServices
from central.reports.localtime import whole_seconds
from common.tt01 import SATISFIED_OR_ABOVE

TABLE = RollupServices.__table__.name
CHUNK = 1000


def several_fields(counted: Any, services: str | None) -> bool:
    """A counted rating of a visit of several fields (its ``services`` names more than one)."""
    return bool(counted) and " " in (services or "")


def several_field_completions(actions: Iterable[tuple[str | None, str, Any]]) -> set[str]:
    """The tickets of the ``complete`` actions, given as (ticket id, action, detail), of visits of several fields
    (``detail.fields`` > 1): the only ones a rating of several fields may be counted under other clerks for."""
    return {
        ticket
        for ticket, action, detail in actions
        if ticket and action == "complete" and isinstance(detail, dict) and _int(detail.get("fields")) > 1
    }


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _earlier(detail: Any) -> bool:
    if not isinstance(detail, dict):
        return False
    field, fields = detail.get("field"), detail.get("fields")
    return isinstance(field, int) and isinstance(fields, int) and field < fields


def earlier_services(actions: Iterable[Mapping[str, Any]]) -> list[tuple[str, int, str, int | None]]:
    """(field, counter, clerk, seconds or None) of each field completed before the visit's last one."""
    out, last_call = [], None
    for action in sorted(actions, key=lambda a: a["seq"]):
        if action["action"] == "call":
            last_call = action
        elif action["action"] == "complete" and _earlier(action["detail"]):
            service = action["detail"].get("service")
            seconds = None
            if last_call is not None:
                seconds = max(0, whole_seconds(action["corrected_time"], last_call["corrected_time"]))
            out.append(
                (
                    service[:16] if isinstance(service, str) else NO_SERVICE,
                    action["counter_number"] if action["counter_number"] is not None else NO_COUNTER,
                    action["clerk_id"] or NO_CLERK,
                    seconds,
                )
            )
    return out


def ticket_contribution(d: Any, ticket: Mapping[str, Any], actions: Iterable[Mapping[str, Any]], sign: int) -> None:
    """The services of a ticket's earlier fields, on the Deltas ``d`` (``sign`` −1 takes an older version back)."""
    day = d.local_time.day(ticket["corrected_time"])
    for service, counter, clerk, seconds in earlier_services(actions):
        d.add(
            TABLE,
            ticket["commune_code"],
            ticket["site_code"],
            day,
            service,
            (counter, clerk),
            services=sign,
            timed=sign * (seconds is not None),
            service_seconds=sign * (seconds or 0),
        )


def _values(rating: Mapping[str, Any], prefix: str, sign: int) -> dict[str, int]:
    return {
        f"{prefix}_ratings": sign,
        f"{prefix}_satisfied": sign * int(rating["level"] in SATISFIED_OR_ABOVE),
        f"{prefix}_points": sign * (rating["points"] or 0),
    }


def field_contribution(d: Any, commune: str, site: str, rating: Mapping[str, Any]) -> None:
    """A counted rating of several fields once more under each field it names but the one it was rated in."""
    day = d.local_time.day(rating["corrected_time"])
    person = (
        rating["counter_number"] if rating["counter_number"] is not None else NO_COUNTER,
        rating["clerk_id"] or NO_CLERK,
    )
    for code in dict.fromkeys(rating["services"].split()):
        if code != rating["service_code"]:
            d.add(TABLE, commune, site, day, code[:16], person, **_values(rating, "field", 1))


def clerk_contribution(
    d: Any, commune: str, site: str, ratings: Iterable[Mapping[str, Any]], clerks: Iterable[str], sign: int
) -> None:
    """Counted ratings of several fields of one ticket once more under each clerk who completed one of its fields,
    but the clerk each names."""
    clerks = set(clerks)
    for rating in ratings:
        day = d.local_time.day(rating["corrected_time"])
        for clerk in sorted(clerks - {rating["clerk_id"]}):
            d.add(TABLE, commune, site, day, NO_SERVICE, (NO_COUNTER, clerk), **_values(rating, "clerk", sign))


RATING_COLUMNS = ("id", "ticket_id", "site_code", "corrected_time", "counted", "services", "service_code")
RATING_COLUMNS += ("counter_number", "clerk_id", "level", "points")


class ServicesShare:
    """A batch's share of the per-clerk extra ratings: the tickets with a rating of several fields whose rating
    or ``complete`` actions the batch brings. :meth:`gather` reads what earlier batches stored (before or after
    this batch's rows are stored: this batch's own are told apart by id), :meth:`compute` adds new − old."""

    def __init__(self, commune: str, device: str) -> None:
        self.commune, self.device = commune, device
        self.ratings: dict[str, list[dict[str, Any]]] = defaultdict(list)  # stored, per ticket
        self.completes: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def gather(self, conn: Connection, tickets: set[str], rated: set[str]) -> None:
        """``tickets``: those the batch completes a field of a visit of several fields of
        (:func:`several_field_completions`); ``rated``: those of its ratings of several fields."""
        r, c = Rating.__table__.c, ClerkAction.__table__.c
        keys = sorted(t for t in tickets | rated if t)
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            query = select(*(r[name] for name in RATING_COLUMNS)).where(
                r.commune_code == self.commune,
                r.device_id == self.device,
                r.ticket_id.in_(chunk),
                r.counted.is_(True),
                r.services.like("% %"),
            )
            for row in conn.execute(query):
                self.ratings[row.ticket_id].append(row._asdict())
        wanted = sorted(set(self.ratings) | {t for t in rated if t})
        for start in range(0, len(wanted), CHUNK):
            query = select(c.id, c.ticket_id, c.clerk_id).where(
                c.commune_code == self.commune,
                c.device_id == self.device,
                c.ticket_id.in_(wanted[start : start + CHUNK]),
                c.action == "complete",
                c.clerk_id.is_not(None),
            )
            for row in conn.execute(query):
                self.completes[row.ticket_id].append(row._asdict())

    def compute(self, d: Any, ratings: Iterable[Mapping[str, Any]], actions: Iterable[Mapping[str, Any]]) -> None:
        """Add the batch's multi-field ratings' per-field counts, and new − old of the per-clerk counts."""
        new_ratings: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for rating in ratings:
            if several_fields(rating["counted"], rating["services"]):
                field_contribution(d, self.commune, rating["site_code"], rating)
                if rating["ticket_id"]:
                    new_ratings[rating["ticket_id"]].append(rating)
        new_completes: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for action in actions:
            if action["action"] == "complete" and action["clerk_id"] and action["ticket_id"]:
                new_completes[action["ticket_id"]].append(action)
        for ticket in sorted(set(self.ratings) | set(new_ratings)):
            fresh = {x["id"] for x in new_ratings.get(ticket, ())} | {x["id"] for x in new_completes.get(ticket, ())}
            old_r = [x for x in self.ratings.get(ticket, ()) if x["id"] not in fresh]
            old_c = [x["clerk_id"] for x in self.completes.get(ticket, ()) if x["id"] not in fresh]
            all_r = old_r + list(new_ratings.get(ticket, ()))
            all_c = old_c + [x["clerk_id"] for x in new_completes.get(ticket, ())]
            clerks_contribution(d, self.commune, old_r, old_c, -1)
            clerks_contribution(d, self.commune, all_r, all_c, +1)


def clerks_contribution(d: Any, commune: str, ratings: list[Mapping[str, Any]], clerks: list[str], sign: int) -> None:
    """:func:`clerk_contribution` of one ticket's ratings, each at its own reception point."""
    for rating in ratings:
        clerk_contribution(d, commune, rating["site_code"], [rating], clerks, sign)


def rebuild_rows(conn: Connection, communes: list[str] | None, d: Any) -> None:
    """Every row of ``rollup_services`` (of ``communes``; None: all), from the stored records, on the Deltas ``d``
    (the rebuild flushes it): the same three contributions the ingest adds batch by batch."""
    c, t, r = ClerkAction.__table__.c, Ticket.__table__.c, Rating.__table__.c
    where = [] if communes is None else [c.commune_code.in_(communes)]
    several = (
        select(c.commune_code, c.device_id, c.ticket_id)
        .where(
            c.action == "complete",
            c.ticket_id.is_not(None),
            c.detail["field"].as_integer() < c.detail["fields"].as_integer(),
            *where,
        )
        .distinct()
        .subquery("several")
    )
    query = select(t.commune_code, t.device_id, t.site_code, t.id, t.corrected_time).select_from(
        Ticket.__table__.join(several, _same_ticket(several.c, t, t.id))
    )
    tickets = {(row.commune_code, row.device_id, row.id): row._asdict() for row in conn.execute(query)}
    actions: dict[tuple, list] = defaultdict(list)
    columns = (c.commune_code, c.device_id, c.ticket_id, c.action, c.seq, c.corrected_time, c.counter_number)
    query = (
        select(*columns, c.clerk_id, c.detail)
        .select_from(ClerkAction.__table__.join(several, _same_ticket(several.c, c, c.ticket_id)))
        .where(c.action.in_(("call", "complete")))
    )
    for row in conn.execute(query):
        actions[(row.commune_code, row.device_id, row.ticket_id)].append(row._asdict())
    for key, ticket in tickets.items():
        ticket_contribution(d, ticket, actions.get(key, ()), +1)
    rated_where = [r.counted.is_(True), r.services.like("% %")]
    if communes is not None:
        rated_where.append(r.commune_code.in_(communes))
    ratings: dict[tuple, list] = defaultdict(list)
    for row in conn.execute(select(r.commune_code, r.device_id, *(r[n] for n in RATING_COLUMNS)).where(*rated_where)):
        rating = row._asdict()
        field_contribution(d, rating["commune_code"], rating["site_code"], rating)
        if rating["ticket_id"]:
            ratings[(rating["commune_code"], rating["device_id"], rating["ticket_id"])].append(rating)
    rated = select(r.commune_code, r.device_id, r.ticket_id).where(*rated_where).distinct().subquery("rated")
    query = (
        select(c.commune_code, c.device_id, c.ticket_id, c.clerk_id)
        .select_from(ClerkAction.__table__.join(rated, _same_ticket(rated.c, c, c.ticket_id)))
        .where(c.action == "complete", c.clerk_id.is_not(None))
    )
    clerks: dict[tuple, list] = defaultdict(list)
    for row in conn.execute(query):
        clerks[(row.commune_code, row.device_id, row.ticket_id)].append(row.clerk_id)
    for key, found in ratings.items():
        clerks_contribution(d, key[0], found, clerks.get(key, []), +1)


def _same_ticket(sub: Any, c: Any, ticket: Any) -> Any:
    """The rows of ``c`` (whose ticket id is ``ticket``) of the ticket of a row of ``sub``."""
    return and_(c.commune_code == sub.commune_code, c.device_id == sub.device_id, ticket == sub.ticket_id)
