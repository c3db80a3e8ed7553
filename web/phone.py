"""The citizen's own page on the office Wi-Fi, opened from the ticket's QR code: `/t/<token>`.

`GET /t/<token>` the page (number, field, place in line, people ahead, estimated wait; the counter in big
letters once called; the rating once served) · `GET /t/<token>/events` its live stream (kiosk.live) ·
`GET /t/<token>/state` the same state as JSON (for a browser without EventSource) · `POST /t/<token>/rating`
the rating (JSON, or the page's plain form when scripts do not run).

A token that does not exist is a plain 404, whatever it looks like. One address on the office network may
ask `PAGE_LIMIT` times a minute, and try `MISS_LIMIT` tokens that do not exist a minute, before it gets 429
(guessing a 128-bit token is hopeless anyway; this keeps a flood from costing the counter its speed). The
kiosk's own screens (loopback) are not limited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for

from common.errors import NotFoundError
from common.throttle import FloodGate
from common.web.jsonapi import BadBody, read_json
from common.web.scale_text import localise
from kiosk.app import current_kiosk
from kiosk.live import PHONE_HEARTBEAT, Stream, sse
from kiosk.rating_input import PHONE_DIGITS
from kiosk.scale import indicators_for
from web.api import is_local, rating_gate
from web.queue_api import event_stream

bp = Blueprint("phone", __name__)

#: Requests to phone pages per address and minute, and tokens that do not exist per address and minute.
PAGE_LIMIT = 120
MISS_LIMIT = 10
RATING_FIELDS = {"level", "criteria", "comment", "contact"}


def make_phone_gates() -> tuple[FloodGate, FloodGate]:
    """The phone pages' throttles per address, (requests, tokens that do not exist), built once per kiosk."""
    return FloodGate(PAGE_LIMIT), FloodGate(MISS_LIMIT)


def _ticket(token: str, page: bool = False) -> str:
    """The ticket id of ``token``, after the address's allowance; a plain 404 for a token that does not exist."""
    address = request.remote_addr or "?"
    local = is_local(address)
    kiosk = current_kiosk()
    pages, misses = kiosk.gates.phone_pages, kiosk.gates.phone_misses
    if not local:
        misses.guard(address)  # refused while this address has been trying tokens
        pages.check(address)
    ticket_id = kiosk.phone.find(token)
    if ticket_id is None:
        if not local:
            misses.check(address)
        if page:
            abort(404)
        raise NotFoundError("There is no such ticket page.", {"reason": "unknown_token"})
    return ticket_id


def _form_context() -> dict[str, Any]:
    kiosk = current_kiosk()
    levels = list(kiosk.ratings.levels().values())
    worded_levels, indicators = localise(levels, indicators_for(levels, kiosk.ratings.questions()),
                                         kiosk.settings["language"])  # fmt: skip
    return {"levels": worded_levels, "indicators": indicators, "phone_digits": PHONE_DIGITS}


@bp.get("/t/<token>")
def page(token: str):
    ticket_id = _ticket(token, page=True)
    kiosk = current_kiosk()
    state = kiosk.phone.state(ticket_id)
    recent = [{"number": c["display_number"], "counter": c["counter"]} for c in kiosk.queue.snapshot()["recent"][:3]]
    response = current_app.make_response(
        render_template(
            "phone.html",
            token=token,
            state=state,
            recent=recent,
            commune=kiosk.settings["commune_name"],
            rated=request.args.get("rated"),
            heartbeat=PHONE_HEARTBEAT,
            **_form_context(),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the state is live; a back button must not show an old one
    response.headers["Referrer-Policy"] = "no-referrer"  # the token never leaves in a Referer header
    return response


@bp.get("/t/<token>/state")
def state(token: str):
    ticket_id = _ticket(token)
    response = jsonify(current_kiosk().phone.state(ticket_id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/t/<token>/events")
def events(token: str):
    ticket_id = _ticket(token)
    phone = current_kiosk().phone

    def first_state(stream: Stream) -> bytes:
        current = phone.state(ticket_id)
        stream.mark_sent(current)
        return sse("state", current).encode()

    return event_stream("phone", b"retry: 2000\n\n", ticket_id=ticket_id, heartbeat=PHONE_HEARTBEAT,
                        opened=first_state)  # fmt: skip


@bp.post("/t/<token>/rating")
def rate(token: str):
    ticket_id = _ticket(token)
    as_json = request.mimetype == "application/json"
    if as_json:
        body = read_json()
        unknown = sorted(set(body) - RATING_FIELDS)
        if unknown:
            raise BadBody(f"Unknown field(s): {', '.join(unknown)}.", {"allowed": sorted(RATING_FIELDS)})
    else:  # the page's own form, when its script does not run
        form = request.form
        body = {
            "level": form.get("level"),
            "criteria": {k[2:]: v for k, v in form.items() if k.startswith("q_") and v} or None,
            "comment": form.get("comment") or None,
            "contact": form.get("contact") or None,
        }
    address = request.remote_addr or "?"
    if not is_local(address):
        rating_gate().check(address)
    result = current_kiosk().phone.rate(
        ticket_id,
        body.get("level"),
        body.get("criteria"),
        body.get("comment"),
        body.get("contact"),
        address=None if is_local(address) else address,
    )
    if not as_json:
        return redirect(url_for("phone.page", token=token, rated="1" if result.counted else "again"), code=303)
    answer = result.as_json()
    answer["state"] = current_kiosk().phone.state(ticket_id)
    return jsonify(answer), 201
