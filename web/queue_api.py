"""The queue's JSON API (DESIGN.md): tickets, the queue, counter actions, and the live event stream."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, current_app, jsonify, request

from kiosk.errors import KioskError
from web.clerk_auth import current_clerk, require_clerk
from web.jsonapi import BadBody, read_json

bp = Blueprint("queue_api", __name__)

TICKET_FIELDS = {"service", "priority", "channel"}
#: Seconds between SSE comments on an idle stream: a board notices a dead line within two of them,
#: and waitress frees the thread of a client that went away at the next one.
HEARTBEAT = 10.0
#: Each open stream holds one of the web server's threads (16 by default): past this many, new screens
#: get 503 and retry, so live screens can never starve the citizens' and clerks' requests.
MAX_STREAMS = 20  # each open stream holds one of the web server's threads (32 by default)


class TooManyStreams(KioskError):
    status = 503
    code = "busy"


class StreamGate:
    """Counts the open event streams of one app."""

    def __init__(self, limit: int = MAX_STREAMS) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self.open >= self.limit:
                raise TooManyStreams(
                    f"{self.open} screens already follow live events; close one (each holds a web server thread).",
                    {"limit": self.limit},
                )
            self.open += 1

    def leave(self) -> None:
        with self._lock:
            self.open -= 1


def kiosk():
    return current_app.extensions["kiosk"]


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
    k = kiosk()
    answer = take_ticket(
        k.queue, k.printing, body.get("service"), body.get("priority", False), body.get("channel", "touch")
    )
    return jsonify(answer), 201


@bp.get("/api/queue")
def get_queue():
    return jsonify(kiosk().queue.snapshot())


@bp.get("/api/counters/<int:counter>/queue")
@require_clerk
def counter_queue(counter: int):
    """The clerk console's view of its counter: the ticket served, the line with print status, counts."""
    return jsonify(kiosk().queue.counter_view(counter))


def _optional_body(allowed: set[str]) -> dict:
    if not request.get_data(cache=True).strip():
        return {}
    return _strict(read_json(), allowed)


@bp.post("/api/counters/<int:counter>/next")
@require_clerk
def call_next(counter: int):
    body = _optional_body({"service", "ticket_id"})
    ticket = kiosk().queue.desk.call_next(counter, current_clerk().id, body.get("service"), body.get("ticket_id"))
    if ticket is None:
        return Response(status=204)
    return jsonify({"ticket": ticket})


@bp.post("/api/counters/<int:counter>/recall")
@require_clerk
def recall(counter: int):
    _optional_body(set())
    return jsonify({"ticket": kiosk().queue.desk.recall(counter, current_clerk().id)})


@bp.post("/api/counters/<int:counter>/no-show")
@require_clerk
def no_show(counter: int):
    _optional_body(set())
    return jsonify({"ticket": kiosk().queue.desk.no_show(counter, current_clerk().id)})


@bp.post("/api/counters/<int:counter>/complete")
@require_clerk
def complete(counter: int):
    _optional_body(set())
    return jsonify({"ticket": kiosk().queue.desk.complete(counter, current_clerk().id)})


@bp.post("/api/counters/<int:counter>/transfer")
@require_clerk
def transfer(counter: int):
    body = _strict(read_json(), {"service"})
    return jsonify({"ticket": kiosk().queue.desk.transfer(counter, current_clerk().id, body.get("service"))})


@bp.post("/api/counters/<int:counter>/pause")
@require_clerk
def pause(counter: int):
    _optional_body(set())
    return jsonify({"counter": kiosk().queue.desk.pause(counter, current_clerk().id)})


@bp.post("/api/counters/<int:counter>/resume")
@require_clerk
def resume(counter: int):
    _optional_body(set())
    return jsonify({"counter": kiosk().queue.desk.resume(counter, current_clerk().id)})


def _with_pings(stream: Iterator[str], now: Callable[[], str]) -> Iterator[str]:
    """Heartbeats as `ping` events rather than SSE comments, so a page can see them and reconnect when they stop.

    Each ping carries the kiosk's local time (``now``), which the board's clock shows.
    """
    try:
        for chunk in stream:
            yield f'event: ping\ndata: {{"now": "{now()}"}}\n\n' if chunk.startswith(":") else chunk
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()  # unsubscribe now, not when the generator is garbage-collected


@bp.get("/api/events")
def events():
    """Server-Sent Events: every queue and rating event, as it is committed.

    The body is a generator, so waitress sends each event as it is yielded; the headers stop any proxy
    from buffering or caching it.
    """
    try:
        heartbeat = float(request.args.get("heartbeat", HEARTBEAT))
    except ValueError:
        heartbeat = HEARTBEAT
    heartbeat = min(max(heartbeat, 0.2), 60.0) if math.isfinite(heartbeat) else HEARTBEAT
    gate = current_app.extensions.setdefault("queue_streams", StreamGate())
    gate.enter()
    clock = kiosk().clock
    response = Response(
        _with_pings(kiosk().events.stream(heartbeat=heartbeat), lambda: clock.local().isoformat(timespec="seconds")),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.call_on_close(gate.leave)  # the WSGI server closes the response when the client goes away
    return response
