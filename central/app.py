"""The central server's composition root: settings → database → master key → Flask app.

``create_central_app(test_config=None)`` stores what the views share in ``app.extensions["central"]``
(a :class:`central.context.Central`; views reach it with ``current_central()``). Blueprints are attached in
:func:`register_blueprints`; the reports pages go there.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, func, select

from central import keys
from central.context import EXTENSION, Central
from central.models import Device
from central.office_hours import OfficeHours
from central.reports.localtime import LocalTime
from common import settings as settings_mod
from common.db import make_engine, make_sessionmaker

log = logging.getLogger(__name__)


class ServerClock:
    """The server's clock (naive UTC); tests pass their own object with a ``now()``."""

    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)


def make_central_engine(url: str) -> Engine:
    """SQLite with the device's durability pragmas, or PostgreSQL through psycopg 3 with a pool for the threads."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgresql"):
        return make_engine(url, pool_size=16, max_overflow=16, pool_pre_ping=True)
    return make_engine(url)


def _ensure_rollups(engine: Engine, local_time: LocalTime) -> None:
    """Fill the reports' rollups from the records if an upgrade left them empty (a one-time, logged wait)."""
    import time

    from central.reports.rebuild import ensure_built

    started = time.monotonic()
    with engine.begin() as conn:
        if ensure_built(conn, local_time):
            log.warning("reports' rollups rebuilt from the records in %.0f s", time.monotonic() - started)


def build_central(settings: settings_mod.Settings, clock: Any = None, migrate: bool = True) -> Central:
    """Open (and by default create or upgrade) the central database and load the master key; the reports' local
    time is the setting ``timezone`` (ConfigError for a zone they cannot use)."""
    from central.migrate import upgrade

    local_time = LocalTime.of(settings["timezone"])
    engine = make_central_engine(settings["central_database_url"])
    if migrate:
        upgrade(engine)
        _ensure_rollups(engine, local_time)
    sessions = make_sessionmaker(engine)

    def no_devices_yet() -> bool:
        with sessions() as session:
            return not session.scalar(select(func.count()).select_from(Device))

    master = keys.master_key(settings, may_create=no_devices_yet)
    return Central(settings, engine, sessions, master, clock or ServerClock(), local_time)


def create_central_app(
    test_config: dict[str, Any] | None = None, *, config_path: str | None = None, clock: Any = None
) -> Flask:
    """The Flask app of `kiosk-central`. ``test_config`` overrides settings (and Flask keys in upper case)."""
    test_config = dict(test_config or {})
    flask_config = {k: v for k, v in test_config.items() if k.isupper()}
    overrides = {k: v for k, v in test_config.items() if not k.isupper()}
    settings = settings_mod.load(config_path, overrides=overrides)
    OfficeHours.from_settings(settings)  # a malformed office_hours stops the server at start (ConfigError)
    central = build_central(settings, clock, migrate=test_config.get("migrate", True) is not False)

    app = Flask("central", root_path=str(Path(__file__).resolve().parent))
    app.config.update(
        SECRET_KEY=keys.flask_secret(central.master_key),
        MAX_CONTENT_LENGTH=settings["central_max_body"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(flask_config)
    app.json.ensure_ascii = False
    app.extensions[EXTENSION] = central
    if settings["central_proxy_count"]:  # the client's address as the reverse proxy (HTTPS) reports it
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(settings["central_proxy_count"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    from central import api, api_bookings, api_panel, api_posted, api_procedures
    from common.web import input_guard
    from common.web.jsonapi import install_error_handlers

    input_guard.install(app)  # before any route: bounded <int:…> parts, checked forms and query strings
    install_error_handlers(app, page_template="central/error.html")
    app.register_blueprint(api.bp)
    app.register_blueprint(api_procedures.bp)
    app.register_blueprint(api_posted.bp)
    app.register_blueprint(api_panel.bp)
    app.register_blueprint(api_bookings.bp)
    from central import remote_api

    app.register_blueprint(remote_api.bp)
    from central.pages import init_pages  # /reports, /comments, /fleet, /login (the REPORTS engineer)

    init_pages(app)
