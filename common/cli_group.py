"""The click group both commands (`kiosk`, `kiosk-central`) use: a KioskError is one plain line and an exit status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from common.errors import KioskError


class KioskGroup(click.Group):
    """Turns every KioskError into one plain line and its exit status (2, or 4 for the database), never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KioskError as exc:
            click.echo(f"Error: {' '.join(exc.message.split())}", err=True)
            ctx.exit(exc.exit_status)


def program(func: Callable[[], None]) -> click.Group:
    """The top-level group of a program (``kiosk``, ``kiosk-central``): ``--config PATH`` kept in ``ctx.obj``,
    ``--version``, and KioskErrors as one plain line; its help is ``func``'s docstring."""

    @click.group(cls=KioskGroup, name=func.__name__, help=func.__doc__)
    @click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False),
        help="TOML settings file (default /etc/kiosk/kiosk.toml).",
    )
    @click.version_option(package_name="kiosk")
    @click.pass_context
    def group(ctx: click.Context, config: str | None) -> None:
        ctx.ensure_object(dict)
        ctx.obj["config"] = config

    return group
