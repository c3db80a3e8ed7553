"""The queue's screens: `/ticket` (take a number), `/clerk` (the clerk console), `/display` (the board)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from common.errors import ConfigError

bp = Blueprint("queue_pages", __name__)


@bp.record_once
def _check_settings(state) -> None:
    home = state.app.extensions["kiosk"].settings["home_screen"]
    if home not in ("rating", "ticket"):
        raise ConfigError(f"Setting home_screen is {home!r}; use `rating` or `ticket`.")


def _kiosk():
    return current_app.extensions["kiosk"]


def ticket_screen():
    """The touch screen where a citizen takes a number (also `/` when `home_screen = "ticket"`)."""
    k = _kiosk()
    services = list(k.queue.tickets.services().values())
    return render_template(
        "ticket.html",
        services=services,
        commune=k.settings["commune_name"],
        ticket_seconds=k.settings["ticket_seconds"],
        # longer when the citizen must remember the number because no paper came out
        ticket_seconds_no_paper=2 * k.settings["ticket_seconds"],
        priority_seconds=k.settings["priority_seconds"],
    )


@bp.get("/ticket")
def ticket():
    return ticket_screen()


@bp.get("/clerk")
def clerk():
    k = _kiosk()
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
    k = _kiosk()
    return render_template("display.html", commune=k.settings["commune_name"], snapshot=k.queue.snapshot())
