"""`kiosk sync [--once]`: sync from a terminal, with progress, and a plain message when it cannot finish."""

from __future__ import annotations

import sys
import time

import click

from common.errors import SyncError
from common.settings import Settings


def _progress(sent: int, total: int) -> None:
    if sys.stderr.isatty():
        click.echo(f"\rSending records: {sent}/{max(total, sent)}", nl=False, err=True)


def sync_once(settings: Settings) -> str:
    """One full sync; returns the summary, raises SyncError (exit status 2) when it could not finish."""
    from kiosk.app import build_kiosk
    from kiosk.uplink.client import SyncClient

    kiosk = build_kiosk(settings)
    try:
        report = SyncClient(kiosk, progress=_progress).run()
    finally:
        kiosk.close()
        if sys.stderr.isatty():
            click.echo("", err=True)
    if not report.ok or report.upload_refused_new:  # a refused catalogue: exit status 2, saying what and why
        raise SyncError(report.message())
    applied = {True: " Catalogue updated.", False: " Catalogue unchanged.", None: ""}[report.catalog_applied]
    sent = " This kiosk's catalogue was delivered." if report.catalog_sent else ""
    return report.message() + sent + applied


def sync_command(settings: Settings, once: bool) -> None:
    """Sync once, or keep syncing every `sync_interval` seconds (failures are reported, then retried)."""
    if once:
        click.echo(sync_once(settings))
        return
    while True:
        try:
            click.echo(sync_once(settings))
        except SyncError as exc:
            click.echo(f"Error: {exc.message}", err=True)
        time.sleep(float(settings["sync_interval"]))
