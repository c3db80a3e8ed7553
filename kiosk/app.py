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
from kiosk.errors import ConfigError, HardwareError, ValidationError
from kiosk.events import EventBus
from kiosk.ratings import RatingService
from kiosk.storage_watch import StorageWatch, sqlite_file

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
FONTS_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "fonts"


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
    printing: Any = None  # kiosk.printing.PrintService, built in build_hardware()
    queue: Any = None  # kiosk.queue_service.QueueService: tickets, counters, clerks
    storage: StorageWatch | None = None  # the database file and the disk while the kiosk runs

    def close(self) -> None:
        for device in reversed(list(self.hardware.values())):  # devices before the pin factory they use
            close = getattr(device, "close", None)
            if close:
                try:
                    close()
                except Exception:
                    log.exception("closing %r failed", device)
        self.ratings.close()
        if self.queue is not None:
            self.queue.close()
        self.engine.dispose()


def init_database(settings: settings_mod.Settings, engine: Engine | None = None, reseed: bool = False) -> str:
    """`kiosk init`: create or upgrade the schema; add the services, counters and scale it lacks."""
    from kiosk.catalog import seed

    engine = engine or make_engine(settings["database_url"])
    revision = upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        seed(session, settings, reseed=reseed)
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


def open_announcer(settings: settings_mod.Settings) -> Any:
    """The announcer of the `announcer` and `sound_dir` settings; a bad value is a ConfigError."""
    from hardware.announcer import AnnouncerConfigError, make_announcer

    data = settings.data_path
    try:
        return make_announcer(settings["announcer"], settings["sound_dir"], data / "sounds", data / "announcements")
    except AnnouncerConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _announce_calls(kiosk: Kiosk, announcer: Any) -> None:
    """Speak every `ticket_called` event (recalls too); the announcer only queues, so publishing never waits."""

    def on_event(event: Any) -> None:
        if event.kind == "ticket_called":
            announcer.announce(event.data["display_number"], int(event.data["counter"]))

    kiosk.events.on(on_event)


def make_sounds(
    settings: settings_mod.Settings, force: bool = False, say: str | None = None, counter: int = 1
) -> tuple[Path, list[Path], Path | None]:
    """`kiosk sounds`: generate the missing default clips and clips.txt; with ``say``, write that call to a .wav."""
    from hardware.announcer import render
    from hardware.clips import ClipLibrary, SpeechUnavailable

    library = ClipLibrary(settings["sound_dir"], settings.data_path / "sounds")
    try:
        made = library.generate_all(force)
        wav = render(library, say, counter) if say else None
    except SpeechUnavailable as exc:
        raise HardwareError(f"{exc}.") from exc
    except ValueError as exc:
        raise ValidationError(f"Cannot say {say!r} at counter {counter}: {exc}.") from exc
    if wav is None:
        return library.generated_dir, made, None
    out = settings.data_path / "announcements" / f"try-{''.join(c for c in say if c.isalnum())}-quay{counter}.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(wav)
    return library.generated_dir, made, out


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
        sessions,
        clock,
        settings["response_interval"],
        link_window=settings["link_window"],
        events=events,
        secret_key=_secret_key(settings),
    )
    from kiosk.queue_service import QueueService

    kiosk = Kiosk(settings, engine, sessions, clock, events, ratings)
    kiosk.queue = QueueService(engine, sessions, clock, events)
    kiosk.storage = StorageWatch(
        engine, settings.data_path, sqlite_file(settings["database_url"]), settings["disk_low_mb"]
    )
    return kiosk


def open_ticket_printer(settings: settings_mod.Settings) -> Any:
    """The ticket printer of the `printer` and `printer_width` settings; a bad value is a ConfigError."""
    from hardware.printer import PrinterConfigError, open_printer

    try:
        return open_printer(settings["printer"], settings["printer_width"], FONTS_DIR)
    except PrinterConfigError as exc:
        raise ConfigError(str(exc)) from exc


def build_hardware(kiosk: Kiosk) -> None:
    """Choose and start the hardware backends from settings (mock pins in demo and tests)."""
    from hardware.panel import ButtonPanel
    from hardware.pins import make_pin_factory

    s = kiosk.settings
    factory = make_pin_factory(s["gpio"])
    kiosk.hardware["pin_factory"] = factory
    kiosk.hardware["announcer"] = open_announcer(s)
    _announce_calls(kiosk, kiosk.hardware["announcer"])
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

    from kiosk.printing import PrintService

    kiosk.printing = PrintService(
        kiosk.sessions,
        kiosk.clock,
        open_ticket_printer(s),
        commune_name=s["commune_name"],
        rating_url=s["rating_url"],
        lights=kiosk.hardware["rating_panel"],
    )
    kiosk.hardware["printer"] = kiosk.printing  # /healthz reads its status()
    _ticket_buttons(kiosk, factory)


def _ticket_buttons(kiosk: Kiosk, factory: Any) -> None:
    """One physical button per service (settings `ticket_button_services` / `ticket_button_pins`).

    A press issues and commits a ticket, then sends it to the printer without waiting for the paper.
    """
    from hardware.panel import ButtonPanel

    s = kiosk.settings
    codes = [str(code).strip().upper() for code in s["ticket_button_services"]]
    if not codes:
        return
    unknown = [code for code in codes if code not in kiosk.queue.tickets.services()]
    if unknown:
        raise ConfigError(f"Setting ticket_button_services names unknown service(s) {', '.join(unknown)}.")
    if len(s["ticket_button_pins"]) != len(codes):
        raise ConfigError(
            f"Setting ticket_button_pins needs {len(codes)} pins (one per ticket button), got {len(s['ticket_button_pins'])}."
        )

    def ticket_from_button(code: str) -> None:
        from kiosk.queue_service import take_ticket

        take_ticket(kiosk.queue, kiosk.printing, code, channel="button", wait=0)

    kiosk.hardware["ticket_panel"] = ButtonPanel(
        codes, list(s["ticket_button_pins"]), on_press=ticket_from_button, pin_factory=factory, name="ticket buttons"
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
