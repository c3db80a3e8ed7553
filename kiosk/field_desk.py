"""The counter's side of a visit with several fields (the rule: kiosk.fields): completing one field, going on
with the next in the same call or sending the ticket to the next field's line, adding a field."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kiosk.clock import to_naive_utc
from kiosk.fields import add_field, current_and_next, end_field, fields_of

Events = list[tuple[str, dict[str, Any]]]


def finish_field(
    desk: Any, s: Session, state: Any, clerk_id: str | None, go_on: bool, auto: bool = False
) -> Events | None:
    """Complete the field being served of a ticket with several fields; None for a ticket of one field.

    ``go_on``: the same call goes on with the next field when this counter handles it (the "complete" button);
    else (the "next" button) the ticket waits in the next field's line, keeping its place by issue time.
    """
    rows = fields_of(s, state.ticket_id)
    current, following = current_and_next(rows)
    if current is None:
        return None
    counter, now = state.counter_number, to_naive_utc(desk.clock.now())
    end_field(current, state, now, counter)
    detail: dict[str, Any] = {"service": current.service_code, "field": current.position + 1, "fields": len(rows)}
    if auto:
        detail["auto"] = True
    if following is None:  # the visit's last field: the ticket is done
        return [desk._finish(s, state, "done", "complete", clerk_id, detail)]
    desk._action(s, "complete", counter, clerk_id, state.ticket_id, detail)
    source, state.service_code, state.dossier_codes = state.service_code, following.service_code, None
    move = {"from": source, "to": following.service_code, "next_field": True}
    desk._action(s, "transfer", counter, clerk_id, state.ticket_id, move)
    handles = {svc.code for svc in desk._counter(s, counter).services if svc.active}
    if go_on and following.service_code in handles:
        state.called_at = now
        desk._action(s, "call", counter, clerk_id, state.ticket_id, {"next_field": True})
        ticket = desk._ticket_json(s, state)
        return [("field_completed", {**desk._short_event(ticket, counter), "completed": current.service_code})]
    state.status, state.counter_number, state.clerk_id, state.called_at = "waiting", None, None, None
    ticket = desk._ticket_json(s, state)
    return [
        ("field_completed", {**desk._short_event(ticket, counter), "completed": current.service_code}),
        ("ticket_transferred", desk._short_event(ticket, counter)),
        ("queue_changed", {"waiting": desk._waiting(s)}),
    ]


def end_visit(s: Session, ticket_id: str) -> None:
    """A no-show ends the visit: the fields not served end as no-show."""
    for row in fields_of(s, ticket_id):
        if row.status == "waiting":
            row.status = "no_show"


def follow_transfer(s: Session, ticket_id: str, target: str) -> None:
    """A transfer changes the field being served of a ticket with several fields."""
    current, _ = current_and_next(fields_of(s, ticket_id))
    if current is not None:
        current.service_code = target


def add_to_serving(desk: Any, counter: int, clerk_id: str | None, service: Any) -> dict[str, Any]:
    """The clerk adds a field to the ticket being served (`POST /api/counters/<n>/fields {"service"}`)."""
    from kiosk.storage import transaction

    with desk.write_lock, transaction(desk.sessions) as s:
        desk._counter(s, counter)
        state = desk._require_serving(s, counter, "add a field")
        code = desk._service(s, service).code
        add_field(s, state, code)
        desk._action(s, "add_field", counter, clerk_id, state.ticket_id, {"service": code})
        ticket = desk._ticket_json(s, state)
    desk._publish([("fields_changed", {"id": ticket["id"], "counter": counter})])
    return ticket
