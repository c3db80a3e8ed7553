"""The composition root: settings → database → services → hardware → web.

``create_app(test_config=None)`` is the only place that imports ``web`` and ``hardware``. It stores
everything the views, button callbacks and CLI share in ``app.extensions["kiosk"]`` (a :class:`Kiosk`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from kiosk import settings as settings_mod
from kiosk.clock import Clock
from kiosk.db import make_engine, make_sessionmaker, transaction, upgrade
from kiosk.events import EventBus
from kiosk.ratings import RatingService

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


@dataclass
class Kiosk:
    """Everything one running kiosk shares between its web views, hardware callbacks and CLI."""

    settings: settings_mod.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    events: EventBus
    ratings: RatingService
    hardware: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        for device in reversed(list(self.hardware.values())):  # devices before the pin factory they use
            close = getattr(device, "close", None)
            if close:
                try:
                    close()
                except Exception:
                    log.exception("closing %r failed", device)
        self.ratings.close()
        self.engine.dispose()


def init_database(settings: settings_mod.Settings, engine: Engine | None = None) -> str:
    """`kiosk init`: create or upgrade the schema and seed services, counters and the scale."""
    from kiosk.catalog import seed

    engine = engine or make_engine(settings["database_url"])
    revision = upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        seed(session, settings)
    return revision


def _secret_key(settings: settings_mod.Settings) -> str:
    if settings["secret_key"]:
        return settings["secret_key"]
    path = settings.data_path / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


def build_kiosk(settings: settings_mod.Settings, clock: Clock | None = None) -> Kiosk:
    """Open the database (creating it if needed) and build the services, without hardware."""
    engine = make_engine(settings["database_url"])
    sessions = make_sessionmaker(engine)
    from kiosk.models import ScaleLevel

    with sessions() as session:
        try:
            seeded = session.scalar(select(ScaleLevel.key).limit(1)) is not None
        except Exception:
            seeded = False
    if not seeded:
        init_database(settings, engine)
    else:
        upgrade(engine)
    clock = clock or Clock(settings["timezone"], settings["clock_sync"])
    events = EventBus()
    ratings = RatingService(
        sessions, clock, settings["response_interval"], link_window=settings["link_window"], events=events
    )
    return Kiosk(settings, engine, sessions, clock, events, ratings)


def build_hardware(kiosk: Kiosk) -> None:
    """Choose and start the hardware backends from settings (mock pins in demo and tests)."""
    from hardware.panel import ButtonPanel
    from hardware.pins import make_pin_factory

    s = kiosk.settings
    factory = make_pin_factory(s["gpio"])
    kiosk.hardware["pin_factory"] = factory
    levels = list(kiosk.ratings.levels())

    def rate_from_button(level: str) -> None:
        kiosk.ratings.record(level, channel="button", counter=s["panel_counter"] or None, panel="buttons")

    kiosk.hardware["rating_panel"] = ButtonPanel(
        levels,
        list(s["button_pins"])[: len(levels)],
        list(s["led_pins"])[: len(levels)],
        s["buzzer_pin"] or None,
        on_press=rate_from_button,
        pin_factory=factory,
        led_seconds=s["led_seconds"],
        name="rating panel",
    )


def create_app(
    test_config: dict[str, Any] | None = None, *, config_path: str | None = None, clock: Clock | None = None
) -> Flask:
    """The Flask app of one kiosk. ``test_config`` overrides settings (and Flask config keys in upper case)."""
    test_config = dict(test_config or {})
    flask_config = {k: v for k, v in test_config.items() if k.isupper()}
    overrides = {k: v for k, v in test_config.items() if not k.isupper()}
    settings = settings_mod.load(config_path, overrides=overrides)

    app = Flask("web", root_path=str(Path(__file__).resolve().parent.parent / "web"))
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_AS_ASCII=False,
    )
    app.config.update(flask_config)
    app.json.ensure_ascii = False

    kiosk = build_kiosk(settings, clock)
    app.extensions["kiosk"] = kiosk
    if test_config.get("hardware", True) is not False:
        build_hardware(kiosk)

    from web import register

    register(app)
    return app
