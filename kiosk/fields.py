"""Several fields in one visit: a ticket that carries two or three fields (a birth registration and a
certification), served in one call where the counter handles them, each field completed apart.

The rule (docs/screens.md, "Several fields in one visit"):

* the ticket waits in its **first** field's line and is called by a counter that handles that field, by the
  console's usual rule (priority, then issue order);
* when the clerk completes a field (``complete``), that field ends on its own: its service time runs from its
  call (or from the end of the field before at the same counter), its dossier codes stay with it, and a
  ``complete`` clerk action with ``{"service", "field", "fields"}`` records it (a service the central counts);
* if fields remain and the counter handles the next one, the same call goes on with it (a ``transfer`` then a
  ``call`` action, as a clerk would do by hand); if it does not, or the clerk presses "next" instead, the
  ticket moves to the next field's line **keeping its place by issue time** (like a transfer), so no counter
  needs to handle all the fields of a visit;
* a no-show ends the whole visit; the fields not served end as ``no_show``.

A ticket of one field has no ``ticket_fields`` rows and behaves exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ValidationError

#: SQL: the names of the fields of the ticket ``ts.ticket_id`` in order, joined with " + " (null for one field).
FIELD_NAMES = (
    "SELECT group_concat(name, ' + ') FROM (SELECT s.name AS name FROM ticket_fields tf "
    "JOIN services s ON s.code = tf.service_code WHERE tf.ticket_id = ts.ticket_id ORDER BY tf.position)"
)
#: SQL: a field's average service time in seconds over its latest services (parameters: field, field, how many).
#: Every field served counts — a ticket of one field done, and each field done of a visit of several (its own
#: call to its own end) — so a field served first in a visit learns as well as the last one (issue 25).
AVERAGE_SERVICE_SECONDS = (
    "SELECT AVG((julianday(finished_at) - julianday(called_at)) * 86400.0) FROM ("
    "SELECT finished_at, called_at FROM ticket_state ts WHERE service_code = ? AND status = 'done' "
    "AND called_at IS NOT NULL AND finished_at IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM ticket_fields tf WHERE tf.ticket_id = ts.ticket_id) "
    "UNION ALL SELECT finished_at, called_at FROM ticket_fields WHERE service_code = ? AND status = 'done' "
    "AND called_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?)"
)
#: Most fields one ticket carries (a visit with more goes to the reception desk).
MAX_FIELDS = 3
FIELD_COLUMNS = ("ticket_id", "position", "service_code", "status")


def field_rows(ticket_id: str, infos: Iterable[Any]) -> list[tuple]:
    """The ``ticket_fields`` rows of a new ticket, in ``FIELD_COLUMNS`` order."""
    return [(ticket_id, i, info.code, "waiting") for i, info in enumerate(infos)]


def check_services(issuer: Any, services: Any) -> tuple[Any, ...]:
    """The fields of ``{"services": [...]}`` checked against the kiosk's (each as the single form checks it:
    unknown → 404, not in use or no open counter → 409); a list, 1..MAX_FIELDS, no field twice (400)."""
    if not isinstance(services, list) or not services:
        raise ValidationError('Name the fields as a list, e.g. {"services": ["HT", "CT"]}.', {"field": "services"})
    if len(services) > MAX_FIELDS:
        raise ValidationError(
            f"A ticket carries at most {MAX_FIELDS} fields; take another ticket for the rest.",
            {"field": "services", "reason": "too_many", "max": MAX_FIELDS},
        )
    infos = tuple(issuer.service(code) for code in services)
    codes = [info.code for info in infos]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValidationError(
            f"Field {', '.join(twice)} is named twice; name each field once.",
            {"field": "services", "reason": "repeated", "services": twice},
        )
    return infos


# --- at the counter (inside the counter's write transaction) --------------------------------------------


def fields_of(s: Session, ticket_id: str) -> list[Any]:
    """A ticket's ``TicketField`` rows in order (empty for a ticket of one field)."""
    from kiosk.models import TicketField

    return list(s.scalars(select(TicketField).where(TicketField.ticket_id == ticket_id).order_by(TicketField.position)))


def current_and_next(rows: list[Any]) -> tuple[Any | None, Any | None]:
    """The field being served (first not ended) and the one after it."""
    open_ = [row for row in rows if row.status == "waiting"]
    return (open_[0] if open_ else None), (open_[1] if len(open_) > 1 else None)


def end_field(row: Any, state: Any, now: datetime, counter: int | None) -> None:
    """The field being served ends as done: its call time, end and dossier codes stay with it."""
    row.status = "done"
    row.counter_number = counter
    row.called_at = state.called_at
    row.finished_at = now
    row.dossier_codes = state.dossier_codes


def add_field(s: Session, state: Any, code: str) -> list[Any]:
    """Add a field to the ticket being served (the clerk's "thêm lĩnh vực"); returns the rows after it."""
    from kiosk.models import TicketField

    rows = fields_of(s, state.ticket_id)
    if not rows:  # a ticket of one field so far: its field becomes the first row
        rows = [TicketField(ticket_id=state.ticket_id, position=0, service_code=state.service_code, status="waiting")]
        s.add(rows[0])
    if code in [row.service_code for row in rows if row.status == "waiting"]:
        raise ValidationError(
            f"The ticket already carries field {code}.", {"field": "service", "reason": "repeated", "service": code}
        )
    if len([row for row in rows if row.status == "waiting"]) >= MAX_FIELDS:
        raise ValidationError(
            f"A ticket carries at most {MAX_FIELDS} fields still to serve.",
            {"field": "service", "reason": "too_many", "max": MAX_FIELDS},
        )
    row = TicketField(ticket_id=state.ticket_id, position=rows[-1].position + 1, service_code=code, status="waiting")
    s.add(row)
    s.flush()
    return [*rows, row]


def fields_json(rows: list[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """The fields of a ticket as the API shows them."""
    from kiosk.dossiers import codes_of

    return [
        {
            "code": row.service_code,
            "name": names.get(row.service_code, row.service_code),
            "status": row.status,
            "counter": row.counter_number,
            "dossier_codes": codes_of(row.dossier_codes),
        }
        for row in rows
    ]


def rated_visit(conn: Any, state: dict[str, Any] | None) -> dict[str, Any]:
    """What a rating of a visit of several fields carries (docs/reports.md): ``services``, the fields served
    (ended done, and the one being served), and the dossier codes of all of them; nothing changes for a
    visit of one field. ``conn``: a kiosk.storage writer or reader inside the rating's transaction."""
    if not state or not state.get("ticket_id"):
        return {}
    found = [dict(zip(("service_code", "status", "dossier_codes"), text.split("\t"), strict=True))
             for text in conn.scalars(_FIELDS_OF, (state["ticket_id"],))]  # fmt: skip
    if not found:
        return {}
    served = [row["service_code"] for row in found if row["status"] == "done"]
    codes = [code for row in found if row["status"] == "done" for code in (row["dossier_codes"] or "").split()]
    if state.get("service_code") and state["service_code"] not in served:  # rated while being served
        served.append(state["service_code"])
    codes += [code for code in (state.get("dossier_codes") or "").split() if code not in codes]
    joined = " ".join(dict.fromkeys(codes))
    return {"services": " ".join(served)[:60] or None, "dossier_codes": joined[:550] or None}


_FIELDS_OF = (  # one text column, as a writer's scalars reads it
    "SELECT service_code || char(9) || status || char(9) || COALESCE(dossier_codes, '') FROM ticket_fields "
    "WHERE ticket_id = ? ORDER BY position"
)


def visit_fields(engine: Any, ticket_id: str) -> list[dict[str, Any]]:
    """The clerk console's view of a visit's fields: ``[{"code", "name", "status"}]`` (empty for one field)."""
    from kiosk.storage import read_rows

    found = read_rows(engine, _VISIT_FIELDS, (ticket_id,))
    return [{"code": code, "name": name or code, "status": status} for code, name, status in found]


_VISIT_FIELDS = (
    "SELECT tf.service_code, s.name, tf.status FROM ticket_fields tf LEFT JOIN services s ON s.code = tf.service_code "
    "WHERE tf.ticket_id = ? ORDER BY tf.position"
)
