"""The queue's screens: `/ticket` (take a number), `/clerk` (the clerk console), `/display` (the board)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.blueprints import BlueprintSetupState

from common.errors import ConfigError
from kiosk.app import current_kiosk
from kiosk.fields import MAX_FIELDS

bp = Blueprint("queue_pages", __name__)


@bp.record_once
def _check_settings(state: BlueprintSetupState) -> None:
    home = current_kiosk(state.app).settings["home_screen"]
    if home not in ("rating", "ticket"):
        raise ConfigError(f"Setting home_screen is {home!r}; use `rating` or `ticket`.")


def ticket_screen():
    """The touch screen where a citizen takes a number (also `/` when `home_screen = "ticket"`)."""
    k = current_kiosk()
    services = list(k.queue.tickets.services().values())
    return render_template(
        "ticket.html",
        services=services,
        commune=k.settings["commune_name"],
        ticket_seconds=k.settings["ticket_seconds"],
        # longer when the citizen must remember the number because no paper came out
        ticket_seconds_no_paper=2 * k.settings["ticket_seconds"],
        priority_seconds=k.settings["priority_seconds"],
        max_fields=MAX_FIELDS,  # "Several fields": one ticket for up to this many (kiosk.fields)
    )


@bp.get("/ticket")
def ticket():
    return ticket_screen()


@bp.get("/clerk")
def clerk():
    k = current_kiosk()
    snap = k.queue.snapshot()
    return render_template(
        "clerk.html",
        counters=snap["counters"],
        clerks=k.queue.clerks.roster(),
        services=snap["services"],
        commune=k.settings["commune_name"],
    )


@bp.get("/display")
def display():
    k = current_kiosk()
    return render_template("display.html", commune=k.settings["commune_name"], snapshot=k.queue.snapshot())
