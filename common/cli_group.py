"""The click group both commands (`kiosk`, `kiosk-central`) use: a KioskError is one plain line and an exit status."""

from __future__ import annotations

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
