"""The citizen screen `/`: one tap on a face records the rating; an optional detailed form follows."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from common.errors import ValidationError
from common.web.input_guard import MAX_ROUTE_INT
from common.web.scale_text import localise
from kiosk.app import current_kiosk
from kiosk.rating_input import PHONE_DIGITS
from kiosk.scale import indicators_for
from web.api import screen_id
from web.enrolment import enrolled_screen
from web.voice import CHIPS

bp = Blueprint("citizen", __name__)


def _counter() -> int | None:
    settings = current_kiosk().settings
    value = request.args.get("counter", type=int)
    if value is not None and not 0 <= value <= MAX_ROUTE_INT:
        raise ValidationError(f"counter {value} is not a counter number.", {"field": "counter"})
    if value is None:
        screen = enrolled_screen()  # a tablet enrolled at a counter rates for that counter
        value = screen.counter if screen is not None and screen.counter else settings["panel_counter"]
    return value or None


@bp.get("/")
def home():
    kiosk = current_kiosk()
    if kiosk.settings["home_screen"] == "ticket":
        from web.queue_pages import ticket_screen

        return ticket_screen()
    return rate()


@bp.get("/rate")
def rate():
    """The rating screen, whatever `home_screen` puts at `/`."""
    kiosk = current_kiosk()
    screen_id()  # this screen's kiosk session: its presses are told apart from other screens' by it
    levels = list(kiosk.ratings.levels().values())
    questions = indicators_for(levels, kiosk.ratings.questions())
    worded_levels, indicators = localise(levels, questions, kiosk.settings["language"])
    counter = _counter()
    return render_template(
        "citizen.html",
        levels=worded_levels,
        indicators=indicators,
        counter=counter,
        context=kiosk.ratings.context(counter),
        chips=[str(chip) for chip in CHIPS],
        phone_digits=PHONE_DIGITS,
        commune=kiosk.settings["commune_name"],
        thanks_seconds=kiosk.settings["thanks_seconds"],
        detail_seconds=kiosk.settings["detail_seconds"],
    )


@bp.get("/api/rating-context")
def rating_context():
    """Whom the next rating at this counter is for (clerk, ticket), so the screen can say so."""
    return jsonify(current_kiosk().ratings.context(_counter()))
