"""The composition root: settings → database → services → hardware → web.

``create_app(test_config=None)`` is the only place that imports ``web`` and ``hardware``. It stores
everything the views, button callbacks and CLI share in one :class:`Kiosk`, built once at start-up; the
views reach it through :func:`current_kiosk`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, current_app
from flask.sansio.app import App
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from common import settings as settings_mod
from common.errors import ConfigError, DatabaseDamagedError, HardwareError, ValidationError
from kiosk import db_guard, ports
from kiosk.clock import Clock
from kiosk.db import make_engine, make_sessionmaker, upgrade
from kiosk.events import Event, EventBus
from kiosk.ratings import RatingService
from kiosk.storage import transaction
from kiosk.storage_watch import StorageWatch

if TYPE_CHECKING:
    from common.throttle import Lockout
    from kiosk.live import Stream
    from kiosk.phone import PhoneService
    from kiosk.printing import PrintService
    from kiosk.queue_service import QueueService
    from web import Gates

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
FONTS_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "fonts"
#: The key of the :class:`Kiosk` in ``app.extensions``.
EXTENSION = "kiosk"


@dataclass
class Kiosk:
    """Everything one running kiosk shares between its web views, hardware callbacks and CLI.

    Built once by :func:`build_kiosk` (the hardware by :func:`build_hardware`); no view makes any of it later.
    """

    settings: settings_mod.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    events: EventBus
    ratings: RatingService
    queue: QueueService  # tickets, counters, clerks
    phone: PhoneService  # the ticket's phone page
    live: ports.LiveHub[Stream]  # every event stream (boards, phones)
    storage: StorageWatch  # the database file and the disk while the kiosk runs
    admin_lockout: Lockout  # the admin password's lock-out (its monotonic lock start lives in it)
    gates: Gates  # the per-address throttles of the pages on the office network
    #: Every device opened, by name, closed in reverse order: "pin_factory", "announcer", "rating_panel", …
    hardware: dict[str, object] = field(default_factory=dict)
    printing: PrintService | None = None  # the ticket printer's queue; None without hardware
    voice: ports.Voice | None = None  # the screens' spoken prompts (setting spoken_prompts)
    #: The catalogue revision (kiosk.catalog_state) the caches hold; None until first loaded.
    catalog_revision: str | None = None
    watcher: CatalogWatcher | None = None  # started by create_app()
    sync_loop: ports.SyncLoop | None = None  # started by start_sync()
    #: The question kept open at the central server for a newer catalogue (kiosk.uplink.catalog_watch).
    central_watch: ports.SyncLoop | None = None  # started by start_sync() unless catalog_watch_wait is 0
    #: The live panel posted to the central server (kiosk.uplink.panel_push), unless panel_push_every is 0.
    panel_push: ports.SyncLoop | None = None

    def reload_catalog(self) -> None:
        """The one place that refreshes everything caching the catalogue, then tells the screens.

        The rating scale, questions and counters (ratings), the services offered and the clerks' names at
        the counters (queue, ticket screen, ticket buttons, display board); open screens get a
        ``catalog_changed`` event and reload. Called after `/admin` edits, and by :meth:`check_catalog`
        when another process (`kiosk init`, `kiosk add-clerk`, `kiosk sync --once`) changed the catalogue.
        """
        revision = self._stored_revision()
        self.ratings.reload()
        self.queue.reload()
        offered = self.queue.tickets.services()
        buttons = [str(c).strip().upper() for c in self.settings["ticket_button_services"]]
        for code in buttons:
            if code not in offered:
                log.warning(
                    "ticket button for service %s: the service is not in use now; its presses are refused", code
                )
        self.catalog_revision = revision
        self.events.publish("catalog_changed", {"revision": revision})

    def check_catalog(self) -> bool:
        """Reload the catalogue if its revision changed since it was loaded; True when it did."""
        revision = self._stored_revision()
        if revision == self.catalog_revision:
            return False
        log.info("catalogue changed (revision %s → %s): reloading", self.catalog_revision, revision)
        self.reload_catalog()
        return True

    def _stored_revision(self) -> str | None:
        from kiosk.catalog_state import read_revision

        return read_revision(self.engine)

    def close(self) -> None:
        self.live.close()
        if self.watcher is not None:
            self.watcher.stop()
        if self.sync_loop is not None:
            self.sync_loop.stop()
        if self.central_watch is not None:
            self.central_watch.stop()
        if self.panel_push is not None:
            self.panel_push.stop()
        for device in reversed(list(self.hardware.values())):  # devices before the pin factory they use
            close = getattr(device, "close", None)
            if close:
                try:
                    close()
                except Exception:
                    log.exception("closing %r failed", device)
        self.ratings.close()
        self.queue.close()
        self.engine.dispose()


def current_kiosk(app: App | None = None) -> Kiosk:
    """The kiosk of ``app``, by default of the app handling this request (as flaskr's ``get_db()``).

    :func:`create_app` stores it once; every view, the web's set-up and `kiosk serve` read it here.
    """
    return cast(Kiosk, (current_app if app is None else app).extensions[EXTENSION])


class CatalogWatcher(threading.Thread):
    """Notices, within ``interval`` seconds, a catalogue changed by another process and reloads it.

    One indexed read of one row of ``device_state`` per interval (a few microseconds of SQLite), on its
    own pooled connection, outside any write transaction.
    """

    def __init__(self, kiosk: Kiosk, interval: float = 0.5) -> None:
        super().__init__(name="catalog-watcher", daemon=True)
        self.kiosk, self.interval = kiosk, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.kiosk.check_catalog()
            except Exception:  # noqa: BLE001 - a failed check is retried at the next interval
                log.exception("checking the catalogue revision failed")

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=2)


def start_sync(kiosk: Kiosk) -> ports.SyncLoop:
    """`kiosk serve` with `central_url` set: the background sync (records up, catalogue both ways)."""
    from kiosk.uplink.client import SyncLoop
    from kiosk.uplink.diagnostics import keep_recent_lines

    keep_recent_lines()  # a diagnostics bundle's log when there is no journal
    loop = kiosk.sync_loop = SyncLoop(kiosk)
    loop.start()
    if kiosk.settings["catalog_watch_wait"] > 0:  # a catalogue saved centrally reaches the screens in seconds
        from kiosk.uplink.catalog_watch import CentralCatalogWatch

        kiosk.central_watch = CentralCatalogWatch(kiosk)
        kiosk.central_watch.start()
    if kiosk.settings["panel_push_every"] > 0:  # the commune's live panel at the central server (issue 25)
        from kiosk.uplink.panel_push import PanelPush

        kiosk.panel_push = PanelPush(kiosk)
        kiosk.panel_push.start()
    return loop


def init_database(
    settings: settings_mod.Settings, engine: Engine | None = None, reseed: bool = False, force_new: bool = False
) -> str:
    """`kiosk init`: create or upgrade the schema; add the services, counters and scale it lacks.

    A damaged database, or a missing one where this kiosk had one, is refused (DatabaseDamagedError) unless
    ``force_new``: then the damaged files are kept aside under a new name and an empty database is made.
    """
    from kiosk.catalog import seed

    url = settings["database_url"]
    path = db_guard.sqlite_path(url)
    if engine is None:
        try:
            db_guard.check(url, settings.data_path)
        except DatabaseDamagedError:
            if not force_new:
                raise
            for moved in db_guard.set_aside(path):
                log.warning("kept the damaged database file as %s", moved)
        engine = make_engine(url)
    revision = upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        seed(session, settings, reseed=reseed)
    if path is not None:
        db_guard.record_created(settings.data_path, path)
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


@contextmanager
def device_errors() -> Iterator[None]:
    """The one place where hardware/'s errors become the kiosk's: a setting that cannot work is a ConfigError
    (`kiosk serve` exits with status 2, which kiosk.service does not restart), a failed device a HardwareError."""
    from hardware.errors import DeviceConfigError, DeviceError

    try:
        yield
    except DeviceConfigError as exc:
        raise ConfigError(str(exc)) from exc
    except DeviceError as exc:
        raise HardwareError(str(exc)) from exc


def open_announcer(settings: settings_mod.Settings) -> ports.Announcer:
    """The announcer of the `announcer` and `sound_dir` settings; a bad value is a ConfigError."""
    from hardware.announcer import make_announcer

    data = settings.data_path
    with device_errors():
        return make_announcer(settings["announcer"], settings["sound_dir"], data / "sounds", data / "announcements")


def _announce_calls(kiosk: Kiosk, announcer: ports.Announcer) -> None:
    """Speak every `ticket_called` event (recalls too); the announcer only queues, so publishing never waits."""

    def on_event(event: Event) -> None:
        if event.kind == "ticket_called":
            announcer.announce(event.data["display_number"], int(event.data["counter"]))

    kiosk.events.on(on_event)


def make_sounds(
    settings: settings_mod.Settings, force: bool = False, say: str | None = None, counter: int = 1
) -> tuple[Path, list[Path], Path | None]:
    """`kiosk sounds`: generate the missing default clips and clips.txt; with ``say``, write that call to a .wav."""
    from hardware.announcer import render
    from hardware.clips import ClipLibrary
    from hardware.errors import DeviceError

    library = ClipLibrary(settings["sound_dir"], settings.data_path / "sounds")
    with device_errors():
        try:
            made = library.generate_all(force)
            wav = render(library, say, counter) if say else None
        except DeviceError:
            raise
        except ValueError as exc:
            raise ValidationError(f"Cannot say {say!r} at counter {counter}: {exc}.") from exc
    if wav is None:
        return library.generated_dir, made, None
    out = settings.data_path / "announcements" / f"try-{''.join(c for c in say if c.isalnum())}-quay{counter}.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(wav)
    return library.generated_dir, made, out


def build_kiosk(settings: settings_mod.Settings, clock: Clock | None = None) -> Kiosk:
    """Open the database (creating it in a brand-new data directory) and build the services, without hardware.

    A damaged or vanished database is refused with a DatabaseDamagedError (kiosk.db_guard).
    """
    db_guard.check(settings["database_url"], settings.data_path)
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
        path = db_guard.sqlite_path(settings["database_url"])
        if path is not None:  # a kiosk installed before the marker existed is protected from now on
            db_guard.record_created(settings.data_path, path)
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
    from kiosk.admin import make_lockout
    from kiosk.live import LiveHub
    from kiosk.phone import PhoneService
    from kiosk.queue_service import QueueService
    from web import make_gates

    queue = QueueService(engine, sessions, clock, events)
    queue.holds.minutes = settings["hold_minutes"]
    ratings.clerk_at = queue.clerks.holder  # a rating names a clerk only while one is on duty there
    ratings.queue_day = queue.day.peek  # a ticket of a closed queue day is not counted any more
    phone = PhoneService(queue, ratings)
    live = LiveHub(clock, read_states=phone.states)
    events.on(live.publish)
    kiosk = Kiosk(
        settings,
        engine,
        sessions,
        clock,
        events,
        ratings,
        queue=queue,
        phone=phone,
        live=live,
        storage=StorageWatch(
            engine, settings.data_path, db_guard.sqlite_path(settings["database_url"]), settings["disk_low_mb"]
        ),
        admin_lockout=make_lockout(clock),
        gates=make_gates(settings),
    )
    kiosk.catalog_revision = kiosk._stored_revision()
    return kiosk


def open_ticket_printer(settings: settings_mod.Settings) -> ports.TicketPrinter:
    """The ticket printer of the `printer` and `printer_width` settings; a bad value is a ConfigError."""
    from hardware.printer import open_printer

    with device_errors():
        return open_printer(settings["printer"], settings["printer_width"], FONTS_DIR)


def build_hardware(kiosk: Kiosk) -> None:
    """Choose and start the hardware backends from settings (mock pins in demo and tests).

    Whatever a device module raises on purpose leaves as a ConfigError or HardwareError (:func:`device_errors`);
    the devices already opened are closed again.
    """
    try:
        with device_errors():
            _build_hardware(kiosk)
    except BaseException:
        kiosk.close()
        raise


def _build_hardware(kiosk: Kiosk) -> None:
    from hardware.panel import ButtonPanel
    from hardware.pins import make_pin_factory

    s = kiosk.settings
    factory = make_pin_factory(s["gpio"])
    kiosk.hardware["pin_factory"] = factory
    announcer = kiosk.hardware["announcer"] = open_announcer(s)
    _announce_calls(kiosk, announcer)
    if s["spoken_prompts"]:
        from hardware.prompts import PromptVoice

        kiosk.voice = PromptVoice(s["sound_dir"], s.data_path / "sounds")
    levels = list(kiosk.ratings.levels())

    def rate_from_button(level: str) -> None:
        kiosk.ratings.record(level, channel="button", counter=s["panel_counter"] or None, panel="buttons")

    panel = kiosk.hardware["rating_panel"] = ButtonPanel(
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
        lights=panel,
    )
    kiosk.printing.ahead = kiosk.queue.ahead  # the printed "Số người phía trước"
    kiosk.hardware["printer"] = kiosk.printing  # /healthz reads its status()
    _ticket_buttons(kiosk, factory)


def _ticket_buttons(kiosk: Kiosk, factory: object) -> None:
    """One physical button per service (settings `ticket_button_services` / `ticket_button_pins`).

    A press issues and commits a ticket, then sends it to the printer without waiting for the paper.
    """
    from hardware.panel import ButtonPanel

    s = kiosk.settings
    codes = [str(code).strip().upper() for code in s["ticket_button_services"]]
    if not codes:
        return
    known = kiosk.queue.tickets.codes()
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ConfigError(f"Setting ticket_button_services names unknown service(s) {', '.join(unknown)}.")
    for code in codes:  # out of use in the catalogue (e.g. by the central server): refused while it is
        if code not in kiosk.queue.tickets.services():
            log.warning("ticket button for service %s: the service is not in use now; its presses are refused", code)
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
    app.extensions[EXTENSION] = kiosk
    if test_config.get("hardware", True) is not False:
        build_hardware(kiosk)
    kiosk.watcher = CatalogWatcher(kiosk)
    kiosk.watcher.start()

    from web import register

    register(app)
    return app
