"""The device's JSON API: ratings and health (queue calls live in their own blueprints).

Whose press is whose is decided here from what a sender cannot choose: the screen's kiosk session (a
random id in the signed session cookie the citizen page gives its screen) and the sender's address — never
the channel or counter the body names. Flooding from one address on the office network is throttled
(:class:`common.throttle.FloodGate`); the kiosk's own screen (loopback) is not.

Whose rating counts is decided here too: only someone who holds the visit — the kiosk's own screen (loopback)
or a screen an admin enrolled (:mod:`web.enrolment`). A rating from any other address is stored and answered
201 like any other, but ``counted`` false with the flag ``not_holder`` (the ticket holder's phone rates through
its own page, ``/t/<token>/rating``).
"""

from __future__ import annotations

import secrets

from flask import Blueprint, jsonify, request, session

from common.errors import ForbiddenError, TooManyRequests
from common.settings import Settings
from common.throttle import FloodGate
from common.web.jsonapi import BadBody, read_json
from kiosk.app import current_kiosk
from kiosk.health import health
from web.enrolment import enrolled_screen, is_local

bp = Blueprint("api", __name__)

RATING_FIELDS = {"level", "channel", "counter", "ticket_id", "criteria", "comment", "contact"}
DETAIL_FIELDS = {"secret", "criteria", "comment", "contact"}
SCREEN_KEY = "screen"
#: The window of the per-address throttle, in seconds.
FLOOD_WINDOW = 60.0


def too_many_ratings(count: int, address: str, wait: int) -> TooManyRequests:
    """The refusal of the ratings' flood gate (429)."""
    return TooManyRequests(
        f"{count} ratings from {address} within a minute: wait {wait} s before rating again.",
        {"reason": "flood", "retry_after": wait, "limit": count},
        retry_after=wait,
    )


def screen_id() -> str:
    """This screen's kiosk session: a random id kept in the signed session cookie (made on first use)."""
    value = session.get(SCREEN_KEY)
    if not isinstance(value, str) or len(value) != 16:
        value = session[SCREEN_KEY] = secrets.token_hex(8)
    return value


def _press_keys() -> tuple[str, tuple[str, ...]]:
    """(panel, other keys) of the repeat-press interval for this request."""
    address = request.remote_addr or "?"
    value = session.get(SCREEN_KEY)
    own = f"screen:{value}" if isinstance(value, str) and len(value) == 16 else f"addr:{address}"
    also = () if is_local(address) or own == f"addr:{address}" else (f"addr:{address}",)
    return own, also


def make_rating_gate(settings: Settings) -> FloodGate:
    """The per-address throttle of ratings (`rating_flood_limit`), built once per kiosk (:func:`web.make_gates`)."""
    return FloodGate(int(settings["rating_flood_limit"]), FLOOD_WINDOW, too_many_ratings)


def rating_gate() -> FloodGate:
    """The kiosk's throttle of ratings, shared by every way of rating over the network."""
    return current_kiosk().gates.ratings


@bp.post("/api/ratings")
def post_rating():
    body = read_json()
    unknown = sorted(set(body) - RATING_FIELDS)
    if unknown:
        raise BadBody(f"Unknown field(s): {', '.join(unknown)}.", {"allowed": sorted(RATING_FIELDS)})
    if not is_local(request.remote_addr):
        rating_gate().check(request.remote_addr or "?")
    panel, also = _press_keys()
    ratings = current_kiosk().ratings
    counter, holder = body.get("counter"), is_local(request.remote_addr)
    screen = None if holder else enrolled_screen()
    if screen is not None:  # an enrolled screen holds the visits at its own counter (any, when enrolled for none)
        counter = screen.counter if counter is None else counter
        holder = screen.counter is None or counter == screen.counter
    result = ratings.record(
        body.get("level"),
        body.get("channel", "touch"),
        counter=counter,
        ticket_id=body.get("ticket_id"),
        criteria=body.get("criteria"),
        comment=body.get("comment"),
        contact=body.get("contact"),
        panel=panel,
        also=also,
        holder=holder,
    )
    answer = result.as_json()
    answer.update({"level": result.level, "label": result.label, "clerk": result.clerk_name, "counter": result.counter})
    answer["secret"] = ratings.details_secret(result.id)  # to this caller only: it lets the rater add details
    return jsonify(answer), 201


@bp.post("/api/ratings/<rating_id>/details")
def post_rating_details(rating_id: str):
    body = read_json()
    unknown = sorted(set(body) - DETAIL_FIELDS)
    if unknown:
        raise BadBody(f"Unknown field(s): {', '.join(unknown)}.", {"allowed": sorted(DETAIL_FIELDS)})
    current_kiosk().ratings.add_details(
        rating_id, body.get("secret"), body.get("criteria"), body.get("comment"), body.get("contact")
    )
    return jsonify({"id": rating_id, "saved": True}), 201


@bp.post("/api/ratings/<rating_id>/claim")
def claim_button_rating(rating_id: str):
    """The details secret of a press on the physical button panel, for the kiosk's own screen only.

    The panel and the touch screen are one device: a citizen who pressed a button may go on to answer the
    detailed questions on the screen beside it. Other screens and the network never get it.
    """
    if not is_local(request.remote_addr):
        raise ForbiddenError(
            "Only the kiosk's own screen may continue a rating made on its button panel.", {"reason": "not_local"}
        )
    ratings = current_kiosk().ratings
    ratings.check_claimable(rating_id)
    return jsonify({"id": rating_id, "secret": ratings.details_secret(rating_id)}), 200


@bp.get("/healthz")
def healthz():
    report, ok = health(current_kiosk())
    return jsonify(report), 200 if ok else 503
