"""The device's JSON API: ratings and health (queue calls live in their own blueprints)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from kiosk.health import health
from web.jsonapi import read_json

bp = Blueprint("api", __name__)

RATING_FIELDS = {"level", "channel", "counter", "ticket_id", "criteria", "comment", "contact"}


def kiosk():
    return current_app.extensions["kiosk"]


@bp.post("/api/ratings")
def post_rating():
    body = read_json()
    unknown = sorted(set(body) - RATING_FIELDS)
    if unknown:
        from web.jsonapi import BadBody

        raise BadBody(f"Unknown field(s): {', '.join(unknown)}.", {"allowed": sorted(RATING_FIELDS)})
    result = kiosk().ratings.record(
        body.get("level"),
        body.get("channel", "touch"),
        counter=body.get("counter"),
        ticket_id=body.get("ticket_id"),
        criteria=body.get("criteria"),
        comment=body.get("comment"),
        contact=body.get("contact"),
    )
    answer = result.as_json()
    answer.update({"level": result.level, "label": result.label, "clerk": result.clerk_name, "counter": result.counter})
    return jsonify(answer), 201


@bp.post("/api/ratings/<rating_id>/details")
def post_rating_details(rating_id: str):
    body = read_json()
    kiosk().ratings.add_details(rating_id, body.get("criteria"), body.get("comment"), body.get("contact"))
    return jsonify({"id": rating_id, "saved": True}), 201


@bp.get("/healthz")
def healthz():
    report, ok = health(kiosk())
    return jsonify(report), 200 if ok else 503
