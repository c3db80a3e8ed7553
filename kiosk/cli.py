"""The `kiosk` command: init, serve, add-clerk, printer-test, sounds, sync."""

from __future__ import annotations

import sys
from typing import Any

import click

from common import settings as settings_mod
from common.cli_group import program


def load_settings(ctx: click.Context, **overrides: Any) -> settings_mod.Settings:
    return settings_mod.load(ctx.obj.get("config"), overrides={k: v for k, v in overrides.items() if v is not None})


@program
def main() -> None:
    """Queue tickets and satisfaction ratings for a commune's one-stop counter."""


@main.command()
@click.option(
    "--reseed",
    is_flag=True,
    help="Re-apply the services, counters and rating scale of the settings over edits made since.",
)
@click.option(
    "--force-new",
    is_flag=True,
    help="Start an empty database when the one there is damaged or missing (the damaged files are kept aside).",
)
@click.pass_context
def init(ctx: click.Context, reseed: bool, force_new: bool) -> None:
    """Create or upgrade the local database; add the services, counters and rating scale it lacks."""
    from kiosk.app import init_database
    from kiosk.upgrade_recovery import recover

    s = load_settings(ctx)
    recover(s)  # the postinst of a version put back after a power cut: its database first
    revision = init_database(s, reseed=reseed, force_new=force_new)
    click.echo(f"Database {s['database_url']} is at revision {revision}; services, counters and scale are in place.")


@main.command("add-clerk")
@click.argument("name")
@click.option("--pin", required=True, help="4 to 8 digits the clerk types to log in.")
@click.option("--counter", type=int, help="The clerk's usual counter.")
@click.option("--code", help="Clerk code (default CC01, CC02, …).")
@click.pass_context
def add_clerk_cmd(ctx: click.Context, name: str, pin: str, counter: int | None, code: str | None) -> None:
    """Add a clerk who can log in at the clerk console."""
    from kiosk.app import build_kiosk
    from kiosk.catalog import add_clerk
    from kiosk.storage import transaction

    kiosk = build_kiosk(load_settings(ctx))
    with transaction(kiosk.sessions) as session:
        clerk = add_clerk(session, name, pin, counter, code)
        click.echo(f"Clerk {clerk.name} added with code {clerk.code}" + (f" at counter {counter}." if counter else "."))
    kiosk.close()


@main.command()
@click.option("--demo", is_flag=True, help="Mock GPIO, spool printer, sounds as .wav files, sample clerks.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--threads",
    default=16,
    show_default=True,
    type=int,
    help="Web server worker threads (live event streams hold none: the live hub serves them).",
)
@click.pass_context
def serve(ctx: click.Context, demo: bool, host: str, port: int, threads: int) -> None:
    """Run the whole device: web app, button panel, printer and announcer."""
    from kiosk.serve import run

    overrides: dict[str, Any] = {}
    if demo:
        overrides.update(gpio="mock")
        overrides.update(announcer="wav")  # calls written to DATA_DIR/announcements
    s = load_settings(ctx, **overrides)
    if demo:  # tickets saved as .bin + .png previews, never sent to a configured real printer
        s["printer"] = f"spool:{s.data_path / 'spool'}"
    run(s, host=host, port=port, threads=threads, demo=demo, config_path=ctx.obj.get("config"))


@main.command("printer-test")
@click.pass_context
def printer_test(ctx: click.Context) -> None:
    """Print a test ticket with every Vietnamese letter on the configured printer."""
    from kiosk.app import open_ticket_printer
    from kiosk.clock import Clock

    s = load_settings(ctx)
    printer = open_ticket_printer(s)
    try:
        where = printer.print_test_page(s["commune_name"], Clock(s["timezone"]).local().replace(tzinfo=None))
    except OSError as exc:  # the printer's fault: say what and what to do, exit 1
        click.echo(f"The test ticket was NOT printed on {s['printer']} ({printer.width} dots): {exc}", err=True)
        ctx.exit(1)
    finally:
        printer.close()
    click.echo(f"Test ticket sent to {where} ({printer.width} dots wide); printer status: {printer.status()}.")
    click.echo("Check that every letter with its tone mark is printed sharp and whole, and the paper is cut.")


@main.command()
@click.option("--force", is_flag=True, help="Generate every default clip again, even those already made.")
@click.option("--say", metavar="NUMBER", help="Also write this call (e.g. A012) to a .wav file to listen to.")
@click.option("--counter", default=1, show_default=True, type=int, help="Counter number for --say.")
@click.pass_context
def sounds(ctx: click.Context, force: bool, say: str | None, counter: int) -> None:
    """Generate the announcement clips (espeak-ng) and list the files a commune can record instead."""
    from kiosk.app import make_sounds

    s = load_settings(ctx)
    folder, made, wav = make_sounds(s, force=force, say=say, counter=counter)
    click.echo(f"{len(made)} clips generated in {folder}; {folder / 'clips.txt'} lists every clip and its words.")
    click.echo(f"Calls use the clips in {s['sound_dir']} first (setting sound_dir).")
    if wav:
        click.echo(f"Call written to {wav}")


@main.command("admin-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_context
def admin_password(ctx: click.Context, password_stdin: bool) -> None:
    """Set the password of the /admin pages (stored only as a hash; ends every admin session)."""
    from kiosk.admin import set_password
    from kiosk.app import build_kiosk
    from kiosk.storage import transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New admin password", hide_input=True, confirmation_prompt="Type it again")
    kiosk = build_kiosk(load_settings(ctx))
    try:
        with transaction(kiosk.sessions) as session:
            set_password(session, password)
    finally:
        kiosk.close()
    click.echo("Admin password set. Sign in at /admin on this kiosk.")


@main.command()
@click.option("--once", is_flag=True, help="Sync once and exit (default: sync every sync_interval seconds).")
@click.pass_context
def sync(ctx: click.Context, once: bool) -> None:
    """Send the records to the central server and exchange the catalogue; exit status 2 if it cannot finish."""
    from kiosk.sync_command import sync_command

    sync_command(load_settings(ctx), once)


def run_cli() -> None:  # console-script entry point
    sys.exit(main(obj={}))


if __name__ == "__main__":
    run_cli()
