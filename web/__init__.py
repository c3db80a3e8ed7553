"""Flask blueprints, templates, static assets and translations of the kiosk's screens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from kiosk.app import current_kiosk

if TYPE_CHECKING:
    from common.settings import Settings
    from common.throttle import FloodGate


@dataclass(frozen=True)
class Gates:
    """The per-address throttles of the kiosk's pages on the office network: one set per kiosk, built with it."""

    ratings: FloodGate  # every way of rating over the network (`rating_flood_limit`)
    phone_pages: FloodGate  # requests to the tickets' phone pages
    phone_misses: FloodGate  # phone-page tokens that do not exist


def make_gates(settings: Settings) -> Gates:
    """The throttles of one kiosk (``kiosk.app.build_kiosk`` keeps them in the :class:`kiosk.app.Kiosk`)."""
    from web.api import make_rating_gate
    from web.phone import make_phone_gates

    return Gates(make_rating_gate(settings), *make_phone_gates())


def register(app: Flask) -> None:
    """Attach every blueprint and the error handlers to the app built by ``kiosk.app.create_app``."""
    from common.web import i18n, input_guard
    from common.web.jsonapi import install_error_handlers
    from web import api, citizen

    kiosk = current_kiosk(app)
    input_guard.install(app)  # before any route: bounded <int:…> parts, checked forms and query strings
    i18n.init_app(app, kiosk.settings)
    # the kiosk's 404/405/500 pages in the screen's language; storage faults said plainly
    install_error_handlers(app, "error.html", kiosk.storage.classify, translate=True)
    app.before_request(_refuse_writes_on_bad_storage)
    app.register_blueprint(api.bp)
    app.register_blueprint(citizen.bp)
    from web import clerk_auth, queue_api, queue_pages

    app.register_blueprint(clerk_auth.bp)
    app.register_blueprint(queue_api.bp)
    app.register_blueprint(queue_pages.bp)
    from web import printing

    app.register_blueprint(printing.bp)
    from web import admin, admin_bookings, admin_catalog, admin_panel, admin_screens  # noqa: F401  (they add their pages to admin.bp)

    app.register_blueprint(admin.bp)
    from web import phone, voice

    app.register_blueprint(phone.bp)

    app.register_blueprint(voice.bp)
    from web import bookings, posted, procedures, suggestions

    app.register_blueprint(procedures.bp)
    app.register_blueprint(posted.bp)
    app.register_blueprint(bookings.bp)
    app.register_blueprint(suggestions.bp)
    app.context_processor(voice.template_globals)


UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refuse_writes_on_bad_storage() -> None:
    """A damaged database or a full disk refuses every write at once, plainly (503 / 507), before any work."""
    from flask import request

    if request.method in UNSAFE:
        current_kiosk().storage.refuse_writes()
