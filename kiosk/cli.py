"""The `kiosk` command: init, serve, add-clerk, printer-test, sync."""

from __future__ import annotations

import sys
from typing import Any

import click

from kiosk import settings as settings_mod
from kiosk.errors import KioskError

DEMO_CLERKS = [("Nguyễn Thị Lan", "1111", 1), ("Trần Văn Minh", "2222", 2), ("Lê Thị Hoa", "3333", 3)]


class KioskGroup(click.Group):
    """Turns every KioskError into a plain message and exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KioskError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(2)


def load_settings(ctx: click.Context, **overrides: Any) -> settings_mod.Settings:
    return settings_mod.load(ctx.obj.get("config"), overrides={k: v for k, v in overrides.items() if v is not None})


@click.group(cls=KioskGroup)
@click.option(
    "--config", "config", type=click.Path(dir_okay=False), help="TOML settings file (default /etc/kiosk/kiosk.toml)."
)
@click.version_option(package_name="kiosk")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Queue tickets and satisfaction ratings for a commune's one-stop counter."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the local database and seed services, counters and the rating scale."""
    from kiosk.app import init_database

    s = load_settings(ctx)
    revision = init_database(s)
    click.echo(f"Database {s['database_url']} is at revision {revision}; services, counters and scale seeded.")


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
    from kiosk.db import transaction

    kiosk = build_kiosk(load_settings(ctx))
    with transaction(kiosk.sessions) as session:
        clerk = add_clerk(session, name, pin, counter, code)
        click.echo(f"Clerk {clerk.name} added with code {clerk.code}" + (f" at counter {counter}." if counter else "."))
    kiosk.close()


@main.command()
@click.option("--demo", is_flag=True, help="Mock GPIO, spool printer, sounds as .wav files, sample clerks.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=16, show_default=True, type=int, help="Web server worker threads.")
@click.pass_context
def serve(ctx: click.Context, demo: bool, host: str, port: int, threads: int) -> None:
    """Run the whole device: web app, button panel, printer and announcer."""
    from kiosk.serve import run

    overrides: dict[str, Any] = {}
    if demo:
        overrides.update(gpio="mock")
    s = load_settings(ctx, **overrides)
    run(s, host=host, port=port, threads=threads, demo=demo, config_path=ctx.obj.get("config"))


def run_cli() -> None:  # console-script entry point
    sys.exit(main(obj={}))


if __name__ == "__main__":
    run_cli()
