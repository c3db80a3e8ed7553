"""The `kiosk-central` command: init, serve, add-commune, add-device, disable-device, add-user, set-password,
import-config, import-procedures, hide-procedures, import-bookings, add-booking-token."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

from central.roles import ROLES
from common import settings as settings_mod
from common.cli_group import program
from common.errors import ConfigError


def _central(ctx: click.Context):
    from central.app import build_central

    settings = settings_mod.load(ctx.obj.get("config"))
    return build_central(settings)


@program
def main() -> None:
    """The commune/province server: receives the kiosks' records, keeps each commune's catalogue."""


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the central database (Alembic); safe to run again."""
    from central.migrate import current_revision

    central = _central(ctx)
    url = central.engine.url.render_as_string(hide_password=True)
    click.echo(f"Central database {url} is at revision {current_revision(central.engine)}.")
    central.close()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=int,
    help="Web server worker threads (besides one per kiosk waiting for a newer catalogue: central_watch_slots).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Run the central server (waitress); put it behind HTTPS when kiosks reach it over the internet."""
    import logging

    from waitress import serve as waitress_serve

    from central.app import create_central_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_central_app(config_path=ctx.obj.get("config"))
    click.echo(f"kiosk-central listening on http://{host}:{port} (sync: POST /api/v1/sync)")
    # Kiosks waiting for a newer catalogue each sleep in a thread of their own, beside the ``threads`` that
    # serve everything else (central/catalog_watch.py); waitress's connection limit leaves room for them.
    slots = max(0, app.extensions["central"].settings["central_watch_slots"])
    try:
        waitress_serve(
            app,
            host=host,
            port=port,
            threads=threads + slots,
            connection_limit=max(100, threads + slots + 100),
            asyncore_use_poll=True,  # select() cannot watch more than 1,024 sockets
            ident="kiosk-central",
            # refused (413) as the headers announce it, not first buffered to a temporary file up to waitress's 1 GB
            max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 1,
        )
    finally:
        app.extensions["central"].close()


@main.command("add-province")
@click.argument("code")
@click.argument("name")
@click.pass_context
def add_province_cmd(ctx: click.Context, code: str, name: str) -> None:
    """Create a province (tỉnh), or rename one: its viewers see every commune that names it."""
    from central.registry import add_province

    central = _central(ctx)
    try:
        code = add_province(central, code, name)
    finally:
        central.close()
    click.echo(f"Province {code} ({name}) saved.")


@main.command("add-commune")
@click.argument("code")
@click.argument("name")
@click.option("--province", help="Province code (created if new; name it with add-province).")
@click.option("--former-district", "--district", "district", help="Former district (huyện) code: a label for history.")
@click.pass_context
def add_commune_cmd(ctx: click.Context, code: str, name: str, district: str | None, province: str | None) -> None:
    """Create a commune, seeded with the services, counters and rating scale of the settings, and its first site."""
    from central.registry import add_commune

    central = _central(ctx)
    try:
        add_commune(central, code, name, district, province)
    finally:
        central.close()
    click.echo(f"Commune {code} ({name}) created with the default services, counters and rating scale.")


@main.command("add-site")
@click.argument("commune")
@click.argument("code")
@click.argument("name")
@click.option("--former-commune", help="The former commune this reception point serves (a label).")
@click.pass_context
def add_site_cmd(ctx: click.Context, commune: str, code: str, name: str, former_commune: str | None) -> None:
    """Add a reception point (điểm tiếp nhận) to a commune; its kiosks are registered with --site."""
    from central.registry import add_site

    central = _central(ctx)
    try:
        code = add_site(central, commune.strip().upper(), code, name, former_commune)
    finally:
        central.close()
    click.echo(f"Reception point {code} ({name}) added to commune {commune.upper()}.")


@main.command("add-device")
@click.argument("name")
@click.option("--commune", "commune", required=True, help="Code of the commune the kiosk serves.")
@click.option("--commune-name", help="Name of the commune, if it is new here.")
@click.option("--site", "site", default="TT", show_default=True, help="Reception point of the kiosk.")
@click.pass_context
def add_device_cmd(ctx: click.Context, name: str, commune: str, commune_name: str | None, site: str) -> None:
    """Register a kiosk; prints its id and secret ONCE (the server does not keep the secret)."""
    from central.registry import add_device

    central = _central(ctx)
    try:
        device_id, secret = add_device(central, name, commune, commune_name, site)
    finally:
        central.close()
    click.echo(f"Device {name} registered for commune {commune} (site {site.upper()}). Put these in the kiosk's")
    click.echo("settings now; the secret is not shown again:")
    click.echo(f"KIOSK_DEVICE_ID={device_id}")
    click.echo(f"KIOSK_DEVICE_SECRET={secret}")
    click.echo(f"KIOSK_COMMUNE_CODE={commune}")


@main.command("move-device")
@click.argument("device_id")
@click.option("--site", "site", required=True, help="Code of the reception point of its commune.")
@click.pass_context
def move_device_cmd(ctx: click.Context, device_id: str, site: str) -> None:
    """Put a kiosk at another reception point of its commune (sync it first: its later records go there)."""
    from central.registry import move_device

    central = _central(ctx)
    try:
        code = move_device(central, device_id, site)
    finally:
        central.close()
    click.echo(f"Device {device_id} is now at reception point {code}.")


@main.command("disable-device")
@click.argument("device_id")
@click.option("--enable", is_flag=True, help="Enable it again instead.")
@click.pass_context
def disable_device_cmd(ctx: click.Context, device_id: str, enable: bool) -> None:
    """Refuse (or accept again) the requests of a kiosk, e.g. one that was stolen."""
    from central.registry import set_device_enabled

    central = _central(ctx)
    set_device_enabled(central, device_id, enable)
    central.close()
    click.echo(f"Device {device_id} {'enabled' if enable else 'disabled'}.")


@main.command("add-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option(
    "--commune",
    "communes",
    multiple=True,
    help="Commune code (commune admins, commune viewers and handlers); repeat it for a viewer of several.",
)
@click.option("--province", help="Province code (province viewers).")
@click.password_option(help="At least 8 characters; asked for when not given.")
@click.pass_context
def add_user_cmd(
    ctx: click.Context, username: str, role: str, communes: tuple[str, ...], province: str | None, password: str
) -> None:
    """Add a user of the central server's pages (the password is stored hashed)."""
    from central.registry import add_user

    central = _central(ctx)
    try:
        add_user(central, username, password, role, None, province, communes)
    finally:
        central.close()
    click.echo(f"User {username} added as {role}.")


@main.command("users")
@click.pass_context
def users_cmd(ctx: click.Context) -> None:
    """List the users: role, what each may see, and the notes about them (e.g. a district viewer converted)."""
    from central.users import user_rows

    central = _central(ctx)
    try:
        with central.sessions() as session:
            rows = user_rows(session)
    finally:
        central.close()
    for row in rows:
        state = "" if row["active"] else " (inactive)"
        click.echo(f"{row['username']}: {row['role']}{state}, sees {row['scope_text']}")
        if row["note"]:
            click.echo(f"    note: {row['note']}")


@main.command("set-password")
@click.argument("username")
@click.password_option(help="At least 8 characters; asked for when not given.")
@click.pass_context
def set_password_cmd(ctx: click.Context, username: str, password: str) -> None:
    """Give a user of the central pages a new password; every session of that user ends at once."""
    from central.registry import set_user_password

    central = _central(ctx)
    set_user_password(central, username, password)
    central.close()
    click.echo(f"New password set for {username}; every session of {username} has ended.")


@main.command("import-config")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--commune", "commune", required=True, help="Code of the commune the file describes.")
@click.pass_context
def import_config_cmd(ctx: click.Context, path: str, commune: str) -> None:
    """Replace a commune's services, counters, clerks (with PINs), scale and questions from a JSON or TOML file.

    The commune's catalogue is then managed centrally (the kiosks' /admin shows it read-only).
    """
    from central.audit import Actor
    from central.catalog import import_catalog
    from common.db import transaction

    doc = _read_doc(Path(path))
    central = _central(ctx)
    try:
        with transaction(central.sessions) as session:
            parts = import_catalog(
                session, commune, doc, Actor(f"import-config {Path(path).name}"), central.clock.now()
            )
    finally:
        central.close()
    click.echo(
        f"Catalogue of commune {commune} replaced ({', '.join(parts) or 'nothing'}); it is now managed centrally, "
        "and connected kiosks take it within seconds (the others when they are connected again)."
    )


@main.command("import-procedures")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--province", "province", required=True, help="Code of the province whose list the file is.")
@click.pass_context
def import_procedures_cmd(ctx: click.Context, path: str, province: str) -> None:
    """Replace a province's commune-level procedures from a CSV or JSON file (docs/procedures.md), all or nothing.

    The kiosks of its communes take the new list at their next sync.
    """
    from central.procedures import import_procedures, read_file
    from common.db import transaction

    items = read_file(Path(path))
    central = _central(ctx)
    try:
        with transaction(central.sessions) as session:
            count = import_procedures(session, province, items, central.clock.now())
    finally:
        central.close()
    click.echo(
        f"{count} procedure(s) imported for province {province.strip().upper()}; kiosks take them at their next sync."
    )


@main.command("hide-procedures")
@click.argument("codes", nargs=-1, required=True)
@click.option("--commune", "commune", required=True, help="Code of the commune.")
@click.option("--show", is_flag=True, help="Show them again instead.")
@click.pass_context
def hide_procedures_cmd(ctx: click.Context, codes: tuple[str, ...], commune: str, show: bool) -> None:
    """Hide procedures of the province's list that a commune does not handle (or show them again)."""
    from central.procedures import set_hidden
    from common.db import transaction

    central = _central(ctx)
    try:
        with transaction(central.sessions) as session:
            changed = set_hidden(session, commune, list(codes), not show, central.clock.now())
    finally:
        central.close()
    click.echo(f"{len(changed)} procedure(s) {'shown again' if show else 'hidden'} at commune {commune.upper()}.")


@main.command("import-bookings")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--commune", "commune", required=True, help="Code of the commune the bookings are for.")
@click.pass_context
def import_bookings_cmd(ctx: click.Context, path: str, commune: str) -> None:
    """Take a commune's bookings from a CSV or JSON file (docs/bookings.md), all or nothing.

    A code already taken changes that booking; the kiosks of each reception point take theirs at their next sync.
    """
    from central.bookings import check_rows, read_file, store
    from common.db import transaction

    rows = read_file(Path(path))
    central = _central(ctx)
    try:
        with transaction(central.sessions) as session:
            items = check_rows(session, commune, rows, 2 if path.lower().endswith(".csv") else 1)
            counts = store(session, commune, items, "import", central.clock.now().replace(tzinfo=None))
    finally:
        central.close()
    click.echo(
        f"Bookings of commune {commune.strip().upper()}: {counts['added']} added, {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged; kiosks take them at their next sync."
    )


@main.command("add-booking-token")
@click.option("--province", "province", required=True, help="Code of the province whose booking system pushes.")
@click.option("--name", default="booking system", show_default=True, help="Who uses the token (a label).")
@click.option("--disable", "disable", type=int, default=None, help="Withdraw the token of this id instead.")
@click.pass_context
def add_booking_token_cmd(ctx: click.Context, province: str, name: str, disable: int | None) -> None:
    """Make an API token for POST /api/v1/bookings (printed once, stored hashed), or withdraw one."""
    from central.booking_tokens import disable_token, make_token
    from common.db import transaction

    central = _central(ctx)
    try:
        with transaction(central.sessions) as session:
            if disable is not None:
                disable_token(session, disable)
            else:
                token_id, token = make_token(session, province, name, central.clock.now().replace(tzinfo=None))
    finally:
        central.close()
    if disable is not None:
        click.echo(f"Booking token {disable} withdrawn.")
        return
    click.echo(f"Booking token {token_id} for province {province.strip().upper()} (shown only now; keep it secret):")
    click.echo(token)


def _read_doc(path: Path) -> dict[str, Any]:
    try:
        if path.suffix == ".toml":
            return tomllib.loads(path.read_text(encoding="utf-8"))
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}.") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} must hold an object with services, counters, clerks and/or scale.")
    return doc


from central.report_commands import dossiers_cmd, rebuild_cmd, report_cmd  # noqa: E402  (the reports' commands)

main.add_command(report_cmd)
main.add_command(dossiers_cmd)
main.add_command(rebuild_cmd)


def run_cli() -> None:  # console-script entry point
    sys.exit(main(obj={}))


if __name__ == "__main__":
    run_cli()
