"""`kiosk serve`: the whole device in one process (waitress + hardware), stopping cleanly on SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

import click

from common.settings import Settings

log = logging.getLogger("kiosk")

#: The clerks `kiosk serve --demo` adds (name, PIN, counter).
DEMO_CLERKS = [("Nguyễn Thị Lan", "1111", 1), ("Trần Văn Minh", "2222", 2), ("Lê Thị Hoa", "3333", 3)]


def seed_demo_procedures(kiosk: Any) -> None:
    """A few real commune-level procedures (Đăng ký khai sinh among them) when the kiosk has none yet."""
    from common.procedure_examples import EXAMPLE_PROCEDURES
    from kiosk.clock import to_naive_utc
    from kiosk.procedures import current_version, store_document
    from sync.procedures_document import version

    with kiosk.sessions() as session:
        if current_version(session) is not None:
            return
    doc = {"version": version(EXAMPLE_PROCEDURES), "procedures": EXAMPLE_PROCEDURES}
    store_document(kiosk.sessions, doc, to_naive_utc(kiosk.clock.now()))


def seed_demo(kiosk: Any) -> list[tuple[str, str, int]]:
    """Sample clerks for `--demo`, added only when the kiosk has none; the admin password `demo` if none is set.

    Returns the clerks it added (name, PIN, counter): only those may be announced."""
    from sqlalchemy import select

    from kiosk.admin import seed_demo_password
    from kiosk.catalog import add_clerk
    from kiosk.models import Clerk, Counter
    from kiosk.storage import transaction

    seed_demo_password(kiosk.sessions)
    seed_demo_procedures(kiosk)
    from kiosk.posted_demo import seed_demo_posted

    seed_demo_posted(kiosk)
    with transaction(kiosk.sessions) as session:
        if session.scalar(select(Clerk.id).limit(1)):
            return []
        added = []
        for name, pin, counter in DEMO_CLERKS:
            if session.get(Counter, counter) is not None:
                add_clerk(session, name, pin, counter)
                added.append((name, pin, counter))
        return added


def few_malloc_arenas(arenas: int = 2) -> None:
    """Ask glibc for at most ``arenas`` malloc arenas (its default is 8 per core, one per busy thread), so a
    burst of requests on every worker thread (300 phones opening their pages at once) does not leave each
    thread's arena holding memory: about 10 MB of the kiosk's RSS (bench/phone.py). No-op elsewhere."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc (no mallopt): only memory use differs, nothing to do
        pass


def migrate_in_child(settings: Settings, config_path: str | None) -> None:
    """Create or upgrade the database in a short child process (`kiosk init`) when it is behind.

    The long-running server then never imports Alembic, which would stay in its memory (about 11 MB
    of the 80 MB a kiosk may use) for nothing once the schema is current.
    """
    import os
    import subprocess

    from kiosk.db import head_revision, make_engine, stored_revision

    engine = make_engine(settings["database_url"])
    try:
        if stored_revision(engine) == head_revision():
            return
    finally:
        engine.dispose()
    env = dict(os.environ, KIOSK_DATA_DIR=str(settings["data_dir"]), KIOSK_DATABASE_URL=settings["database_url"])
    args = [sys.executable, "-m", "kiosk.cli"] + (["--config", config_path] if config_path else []) + ["init"]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        from common.errors import ConfigError

        raise ConfigError(f"Preparing the database failed: {(done.stderr or done.stdout).strip()}")
    log.info(done.stdout.strip())


def run(
    settings: Settings, host: str, port: int, threads: int = 16, demo: bool = False, config_path: str | None = None
) -> None:
    from waitress.server import create_server

    from kiosk import db_guard, upgrade_recovery
    from kiosk.app import MAX_BODY, create_app, current_kiosk
    from kiosk.notify import Notifier
    from kiosk.web_server import StoppableServer

    few_malloc_arenas()
    notifier = Notifier.from_environ()  # systemd's READY/WATCHDOG/STOPPING; a no-op outside systemd
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    upgrade_recovery.recover(settings)  # an upgrade a power cut interrupted: the database put right first
    db_guard.check(settings["database_url"], settings.data_path)  # damaged or vanished: exit status 4
    logging.getLogger("alembic").setLevel(logging.WARNING)
    migrate_in_child(settings, config_path)
    app = create_app(dict(settings), config_path=config_path)
    kiosk = current_kiosk(app)
    demo_clerks = seed_demo(kiosk) if demo else []
    # poll(), not select(): the descriptors of two thousand event streams go past select()'s 1,024
    # a body past MAX_BODY is refused (413) as its headers announce it, not first buffered to a temporary file of
    # the SD card up to waitress's own 1 GB: one sender on the Wi-Fi must not fill the disk the ratings are saved on
    server = create_server(app, host=host, port=port, threads=threads, channel_timeout=120, ident="kiosk",
                           asyncore_use_poll=True, max_request_body_size=MAX_BODY + 1)  # fmt: skip
    from kiosk import descriptors, stream_server

    stream_server.install(server, kiosk.live)  # event streams leave the worker threads for the live hub
    wanted = kiosk.live.limit
    fds = descriptors.budget(wanted, server.adj.connection_limit, threads)
    kiosk.live.limit = fds.streams  # past it a 503: never more streams than the open-file limit can hold
    if fds.streams < wanted:
        log.warning("live updates: %s; raise LimitNOFILE for %d", fds.describe(), wanted)
    else:
        log.info("live updates: %s", fds.describe())
    base = f"http://{host}:{server.effective_port}"
    click.echo(f"Kiosk for {settings['commune_name']} is running{' in demo mode' if demo else ''}:")
    click.echo(f"  citizen screen : {base}/")
    click.echo(f"  ticket screen  : {base}/ticket")
    click.echo(f"  clerk console  : {base}/clerk")
    click.echo(f"  display board  : {base}/display")
    click.echo(f"  procedures     : {base}/thu-tuc (Tra cứu thủ tục)")
    click.echo(f"  posted rules   : {base}/niem-yet (Niêm yết: nội quy, phí, lệ phí, biểu mẫu)")
    click.echo(f"  suggestion box : {base}/gop-y (QR for the wall: {base}/gop-y/qr.png)")
    click.echo(f"  health         : {base}/healthz")
    click.echo(f"  admin          : {base}/admin")
    from kiosk import phone_link

    phones = phone_link.phone_base(settings["rating_url"], host, server.effective_port)
    if kiosk.printing is not None:
        kiosk.printing.phone_base = phones
    click.echo(f"  phone pages    : {phones}/t/… (in each ticket's QR code)" if phones else
               "  phone pages    : off (no Wi-Fi address; the QR code holds the ticket id: docs/deploy.md)")  # fmt: skip
    if demo:
        click.echo(f"  data directory : {settings.data_path}")
        # only the clerks this start added: a kiosk with its own clerks has no demo PIN to give away
        click.echo(
            "  demo clerks    : " + ", ".join(f"counter {c} PIN {p}" for _, p, c in demo_clerks)
            if demo_clerks
            else "  demo clerks    : none added (this kiosk has its own clerks)"
        )
        from kiosk.admin import DEMO_PASSWORD, demo_password_active

        if demo_password_active(kiosk.sessions):
            click.echo(f"  admin password : {DEMO_PASSWORD}")
    sys.stdout.flush()

    loop = StoppableServer(server, on_stop=[kiosk.live.close])

    def _stop(signum, _frame) -> None:
        notifier.stopping()
        loop.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    notifier.start(kiosk.engine, server, f"Serving {base} for {settings['commune_name']}")
    if settings["central_url"]:  # records go to the central server every sync_interval seconds
        from kiosk.app import start_sync

        start_sync(kiosk)
        click.echo(f"  syncing with   : {settings['central_url']} every {settings['sync_interval']:g} s")
        if settings["catalog_watch_wait"] > 0:
            click.echo("  catalogue      : changes saved at the central server are taken within seconds")
    try:
        loop.run()
    finally:
        notifier.close()
        kiosk.close()
        log.info("stopped")
