"""Flask blueprints, templates, static assets and translations of the kiosk's screens."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every blueprint and the error handlers to the app built by ``kiosk.app.create_app``."""
    from web import api, citizen, i18n
    from web.jsonapi import install_error_handlers

    i18n.init_app(app)
    install_error_handlers(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(citizen.bp)
