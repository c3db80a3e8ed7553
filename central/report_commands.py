"""`kiosk-central report` and `kiosk-central rebuild-rollups` (attached to the group in ``central/cli.py``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from common import settings as settings_mod


def _central(ctx: click.Context):
    from central.app import build_central

    return build_central(settings_mod.load((ctx.obj or {}).get("config")))


def _date(_ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD.", param=param) from None


@click.command("report")
@click.option("--from", "start", required=True, callback=_date, help="First day (YYYY-MM-DD, local time).")
@click.option("--to", "end", required=True, callback=_date, help="Last day, included (YYYY-MM-DD).")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "docx"]))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option("--commune", "commune", help="Only this commune (default: every commune).")
@click.pass_context
def report_cmd(ctx: click.Context, start: date, end: date, fmt: str, out: str, commune: str | None) -> None:
    """Write the satisfaction and queue report of a period (CSV, XLSX, or a DOCX in Vietnamese)."""
    from sqlalchemy import select

    from central import exports
    from central.models import Commune
    from central.reports import figures, periods
    from central.reports.query import Scope
    from common.errors import NotFoundError, ValidationError

    try:
        period = periods.from_range(start, end)
    except ValidationError as exc:
        if (
            isinstance(exc.detail, dict) and exc.detail.get("reason") == "order"
        ):  # the page says "swap the two dates"; here they are options
            raise ValidationError(
                f"The period ends ({end}) before it starts ({start}): swap --from and --to."
            ) from None
        raise
    central = _central(ctx)
    try:
        with central.engine.connect() as conn:
            if commune is not None:
                commune = commune.strip().upper()
                if conn.scalar(select(Commune.code).where(Commune.code == commune)) is None:
                    raise NotFoundError(
                        f"Commune {commune} does not exist at this server (see `kiosk-central add-commune`)."
                    )
            scope = Scope(communes=(commune,) if commune else None)
            report = figures.build(
                conn, period, scope, min_answers=central.settings["grade_min_answers"], local_time=central.local_time
            )
    finally:
        central.close()
    body = exports.render(report, fmt, exports.scope_label(report["communes"], commune is None))
    target = Path(out)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(body)
    tmp.replace(target)
    s = report["summary"]
    click.echo(
        f"{period.label()}: {s['ratings']} ratings, {s['satisfied_plus_pct'] if s['ratings'] else '—'}% satisfied or "
        f"above, {s['flagged']} flagged (not counted); {report['queue']['issued']} tickets. Written to {target}."
    )


@click.command("export-dossiers")
@click.option("--from", "start", required=True, callback=_date, help="First day (YYYY-MM-DD, local time).")
@click.option("--to", "end", required=True, callback=_date, help="Last day, included (YYYY-MM-DD).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@click.option("--commune", "commune", help="Only this commune (default: every commune).")
@click.option("--site", "site", help="Only this reception point of --commune.")
@click.pass_context
def dossiers_cmd(ctx: click.Context, start: date, end: date, out: str, commune: str | None, site: str | None) -> None:
    """Write the ratings per dossier code (mã hồ sơ) of a period as the province's CSV (docs/dossiers.md)."""
    from sqlalchemy import select

    from central.exports import dossiers
    from central.models import Commune, Site
    from central.reports import periods
    from central.reports.query import Scope
    from common.errors import NotFoundError, ValidationError

    if end < start:
        raise ValidationError(f"The period ends ({end}) before it starts ({start}): swap --from and --to.")
    period = periods.from_range(start, end)
    if site and not commune:
        raise ValidationError("A reception point belongs to a commune: give --commune with --site.")
    central = _central(ctx)
    target = Path(out)
    tmp = target.with_name(target.name + ".part")
    count = 0
    try:
        with central.engine.connect() as conn:
            if commune is not None:
                commune = commune.strip().upper()
                if conn.scalar(select(Commune.code).where(Commune.code == commune)) is None:
                    raise NotFoundError(f"Commune {commune} does not exist at this server.")
            if site is not None:
                site = site.strip().upper()
                if conn.scalar(select(Site.code).where(Site.commune_code == commune, Site.code == site)) is None:
                    raise NotFoundError(f"Commune {commune} has no reception point {site}.")
            scope = Scope(communes=(commune,) if commune else None, site=site)

            def counted(records):
                nonlocal count
                for record in records:
                    count += 1
                    yield record

            with tmp.open("wb") as fh:
                for chunk in dossiers.csv_chunks(counted(dossiers.rows(conn, period, scope, central.local_time))):
                    fh.write(chunk)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
        central.close()
    click.echo(f"{period.label()}: {count} rows (dossier code, rating). Written to {target}.")


@click.command("rebuild-rollups")
@click.option("--commune", "communes", multiple=True, help="Only these communes (default: all).")
@click.pass_context
def rebuild_cmd(ctx: click.Context, communes: tuple[str, ...]) -> None:
    """Recompute the reports' rollups and ticket facts from the stored records (safe to run any time)."""
    from central.reports.rebuild import rebuild

    central = _central(ctx)
    try:
        with central.engine.begin() as conn:
            rebuild(conn, list(communes) or None, central.local_time)
    finally:
        central.close()
    click.echo(f"Rollups rebuilt for {', '.join(communes) if communes else 'every commune'}.")
