"""The queue's JSON API (DESIGN.md): tickets, the queue, counter actions, and the live event stream."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from flask import Blueprint, Response, jsonify, request

from common.web.jsonapi import BadBody, error_response, read_json
from kiosk.app import current_kiosk
from kiosk.live import Stream
from web.clerk_auth import current_clerk, require_clerk

bp = Blueprint("queue_api", __name__)

TICKET_FIELDS = {"service", "services", "priority", "channel"}
#: Seconds between pings on an idle stream: a board notices a dead line within two of them.
HEARTBEAT = 10.0


def _strict(body: dict, allowed: set[str]) -> dict:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadBody(f"Unknown field(s): {', '.join(unknown)}.", {"allowed": sorted(allowed)})
    return body


@bp.post("/api/tickets")
def post_ticket():
    """Issue a ticket (committed before the answer), print it, and say whether it printed."""
    from kiosk.queue_service import take_ticket

    body = _strict(read_json(), TICKET_FIELDS)
    k = current_kiosk()
    service = body.get("service")
    if "services" in body:  # one ticket for several fields (kiosk.fields)
        from kiosk.fields import check_services

        if "service" in body:
            raise BadBody('Send "service" or "services", not both.', {"field": "services"})
        service = check_services(k.queue.tickets, body["services"])
    answer = take_ticket(k.queue, k.printing, service, body.get("priority", False), body.get("channel", "touch"))
    return jsonify(answer), 201


@bp.get("/api/queue")
def get_queue():
    return jsonify(current_kiosk().queue.snapshot())


@bp.get("/api/counters/<int:counter>/queue")
@require_clerk
def counter_queue(counter: int):
    """The clerk console's view of its counter: the ticket served, the line with print status, counts."""
    return jsonify(current_kiosk().queue.counter_view(counter))


def _optional_body(allowed: set[str]) -> dict:
    if not request.get_data(cache=True).strip():
        return {}
    return _strict(read_json(), allowed)


@bp.post("/api/counters/<int:counter>/next")
@require_clerk
def call_next(counter: int):
    body = _optional_body({"service", "ticket_id"})
    ticket = current_kiosk().queue.desk.call_next(
        counter, current_clerk().id, body.get("service"), body.get("ticket_id")
    )
    if ticket is None:
        return Response(status=204)
    return jsonify({"ticket": ticket})


@bp.post("/api/counters/<int:counter>/recall")
@require_clerk
def recall(counter: int):
    _optional_body(set())
    return jsonify({"ticket": current_kiosk().queue.desk.recall(counter, current_clerk().id)})


@bp.post("/api/counters/<int:counter>/no-show")
@require_clerk
def no_show(counter: int):
    _optional_body(set())
    return jsonify({"ticket": current_kiosk().queue.desk.no_show(counter, current_clerk().id)})


@bp.post("/api/counters/<int:counter>/complete")
@require_clerk
def complete(counter: int):
    _optional_body(set())
    return jsonify({"ticket": current_kiosk().queue.desk.complete(counter, current_clerk().id)})


@bp.post("/api/counters/<int:counter>/fields")
@require_clerk
def add_field(counter: int):
    """The clerk adds a field to the visit being served."""
    from kiosk.field_desk import add_to_serving

    body = _strict(read_json(), {"service"})
    return jsonify(
        {"ticket": add_to_serving(current_kiosk().queue.desk, counter, current_clerk().id, body.get("service"))}
    )


@bp.post("/api/counters/<int:counter>/transfer")
@require_clerk
def transfer(counter: int):
    body = _strict(read_json(), {"service"})
    return jsonify({"ticket": current_kiosk().queue.desk.transfer(counter, current_clerk().id, body.get("service"))})


@bp.post("/api/counters/<int:counter>/dossier")
@require_clerk
def dossier(counter: int):
    """Attach a dossier code to the ticket being served (``{"code": …}``), or take it off (``"remove": true``)."""
    body = _strict(read_json(), {"code", "remove"})
    ticket = current_kiosk().queue.desk.dossier(
        counter, current_clerk().id, body.get("code"), body.get("remove", False)
    )
    return jsonify({"ticket": ticket})


@bp.post("/api/counters/<int:counter>/hold")
@require_clerk
def hold(counter: int):
    """Put the ticket being served on hold (``{"reason": "photocopy"}``, kiosk.holds.REASONS)."""
    body = _strict(read_json(), {"reason"})
    return jsonify({"ticket": current_kiosk().queue.holds.hold(counter, current_clerk().id, body.get("reason"))})


@bp.post("/api/counters/<int:counter>/call")
@require_clerk
def call_ticket(counter: int):
    """Call a particular ticket (``{"ticket_id": …}``): one held at this counter, or one waiting (out of turn)."""
    body = _strict(read_json(), {"ticket_id"})
    return jsonify({"ticket": current_kiosk().queue.holds.call(counter, current_clerk().id, body.get("ticket_id"))})


@bp.post("/api/counters/<int:counter>/pause")
@require_clerk
def pause(counter: int):
    _optional_body(set())
    return jsonify({"counter": current_kiosk().queue.desk.pause(counter, current_clerk().id)})


@bp.post("/api/counters/<int:counter>/resume")
@require_clerk
def resume(counter: int):
    _optional_body(set())
    return jsonify({"counter": current_kiosk().queue.desk.resume(counter, current_clerk().id)})


@bp.get("/api/events")
def events():
    """Server-Sent Events: every queue and rating event, as it is committed, and a ``ping`` with the kiosk's
    time every ``heartbeat`` seconds (the board's clock shows it; a page reconnects when pings stop).

    Served by the live hub (kiosk.live), which holds no web server thread per listener.
    """
    try:
        heartbeat = float(request.args.get("heartbeat", HEARTBEAT))
    except ValueError:
        heartbeat = HEARTBEAT
    heartbeat = min(max(heartbeat, 0.2), 60.0) if math.isfinite(heartbeat) else HEARTBEAT
    return event_stream("all", b"retry: 1000\n\n", heartbeat=heartbeat)


def event_stream(kind: str, first: bytes, *, ticket_id: str | None = None, heartbeat: float = HEARTBEAT,
                 opened: Callable[[Stream], bytes] | None = None) -> Response:  # fmt: skip
    """A 200 event stream of ``kind`` for the live hub: ``first`` (and what ``opened(stream)`` adds once the
    stream is registered, e.g. the phone's state) sent at once, then the hub's events.

    Under `kiosk serve` the web server hands the socket to the hub and this request's thread is free at once
    (kiosk.stream_server); elsewhere the stream is yielded from this thread.
    """
    from kiosk.live import TooManyStreams
    from kiosk.stream_server import HANDOFF_KEY, STREAM_KEY
    from web.api import is_local

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    if request.method == "HEAD":  # the headers only: no stream for an answer that has no body
        return Response(b"", mimetype="text/event-stream", headers=headers)
    hub = current_kiosk().live
    handoff = bool(request.environ.get(HANDOFF_KEY))
    address = request.remote_addr or "?"
    try:
        stream = hub.open(kind, ticket_id=ticket_id, heartbeat=heartbeat, address=address,
                          local=is_local(address), threaded=not handoff)  # fmt: skip
    except TooManyStreams as full:  # a plain 503 that says when to come back
        refused = error_response(full.status, full.message, full.detail)
        refused.headers["Retry-After"] = str(full.retry_after)
        return refused
    try:
        body = first + (opened(stream) if opened else b"")
    except BaseException:
        hub.release(stream)
        raise
    if handoff:
        request.environ[STREAM_KEY] = stream
        chunks: Iterable[bytes] = iter([body])
    else:
        chunks = hub.iterate(stream, body)
    return Response(chunks, mimetype="text/event-stream", headers=headers)
