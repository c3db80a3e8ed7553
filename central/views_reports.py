"""`/reports`: the dashboard, its JSON (`/reports/data.json`) and exports (`/reports/export.csv|xlsx|docx`).

All three read the same query arguments — ``period`` (month, quarter, half, year, custom) with ``year``,
``month``, ``quarter``, ``half`` or ``from``/``to``; and the filters ``commune``, ``district`` (a former
district: its communes), ``site`` (a reception point of the chosen commune), ``service``, ``counter`` (of the
chosen commune) and ``clerk`` — and all three refuse a commune, site or clerk outside the signed-in user's scope
(403) before reading anything. Over several communes the report also ranks them and says which communes' kiosks
reported on the last working day (:mod:`central.reports.coverage`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Response, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Connection, select

from central import exports
from central.accounts import Viewer, require
from central.context import current_central
from central.identity import ids_of, load_aliases
from central.models import Clerk, ClerkAlias, Commune, Service, Site
from central.office_hours import OfficeHours
from central.page_base import page_blueprint
from central.report_models import NO_COUNTER, RollupQueue, RollupRatings
from central.reports import charts, coverage, figures, periods
from central.reports.query import Scope
from common import numbers
from common.counter_label import counter_label, parse_counter_choice
from common.errors import ForbiddenError, NotFoundError, ValidationError
from common.web.scale_text import CHANNELS

bp = page_blueprint("central_reports", __name__)

CODE_RE = re.compile(r"^[A-Z0-9]{1,16}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def parse_scope(conn: Connection, viewer: Viewer, args: Mapping[str, str]) -> Scope:
    """The filters asked for, checked against the user's scope (403 outside it, 400 when malformed)."""
    communes = viewer.communes
    commune = (args.get("commune") or "").strip().upper() or None
    if commune is not None:
        if not CODE_RE.match(commune):
            raise ValidationError(_("Commune code %(code)s is not valid.", code=commune), {"field": "commune"})
        viewer.check_commune(commune)
        communes = (commune,)
    district = (args.get("district") or "").strip().upper() or None
    if district is not None:
        if not CODE_RE.match(district):
            raise ValidationError(_("District code %(code)s is not valid.", code=district), {"field": "district"})
        query = select(Commune.code).where(Commune.district_code == district).order_by(Commune.code)
        if communes is not None:
            query = query.where(Commune.code.in_(communes))
        communes = tuple(conn.execute(query).scalars())
    service = (args.get("service") or "").strip().upper() or None
    if service is not None and not CODE_RE.match(service):
        raise ValidationError(_("Field code %(code)s is not valid.", code=service), {"field": "service"})
    site = (args.get("site") or "").strip().upper() or None
    counter = None
    if args.get("counter"):
        try:
            counter_site, counter = parse_counter_choice(args["counter"])
        except ValueError:
            raise ValidationError(_("The counter must be a number."), {"field": "counter"}) from None
        if not 1 <= counter <= 9999 or (counter_site is not None and not CODE_RE.match(counter_site)):
            raise ValidationError(_("The counter must be a number."), {"field": "counter"})
        if communes is None or len(communes) != 1:
            raise ValidationError(
                _("Counter numbers belong to a commune: choose the commune first."), {"field": "counter"}
            )
        if counter_site is not None and site is not None and counter_site != site:
            raise ValidationError(
                _("Counter %(counter)s is not at the chosen reception point.", counter=args["counter"]),
                {"field": "counter"},
            )
        site = counter_site or site  # "TT:1": counter 1 of the centre only
    if site is not None:
        if not CODE_RE.match(site):
            raise ValidationError(_("Reception point code %(code)s is not valid.", code=site), {"field": "site"})
        if communes is None or len(communes) != 1:
            raise ValidationError(
                _("Reception points belong to a commune: choose the commune first."), {"field": "site"}
            )
        if conn.scalar(select(Site.code).where(Site.commune_code == communes[0], Site.code == site)) is None:
            raise NotFoundError(_("There is no such reception point."), {"field": "site"})
    clerk = (args.get("clerk") or "").strip().lower() or None
    clerk_ids = None
    if clerk is not None:
        if not UUID_RE.match(clerk):
            raise ValidationError(_("Unknown clerk."), {"field": "clerk"})
        alias = conn.execute(select(ClerkAlias.clerk_id).where(ClerkAlias.alias_id == clerk)).scalar()
        clerk = alias or clerk  # a kiosk's own id of a person: the person
        home = conn.scalar(select(Clerk.commune_code).where(Clerk.id == clerk))
        if home is None:
            raise NotFoundError(_("Unknown clerk."), {"field": "clerk"})
        if communes is not None and home not in communes:
            raise ForbiddenError(_("This clerk is outside what your account may see."), {"field": "clerk"})
        clerk_ids = ids_of(clerk, load_aliases(conn, (home,)))
        communes = (home,)  # a clerk works for one commune: the report reads that commune only
    return Scope(communes, service, counter, clerk, clerk_ids, site)


def _today():
    central = current_central()
    return central.local_time.day(central.clock.now())


def build_report(viewer: Viewer, args: Mapping[str, str]) -> tuple[dict[str, Any], Scope, Any]:
    central = current_central()
    period = periods.parse(args, _today())
    with central.engine.connect() as conn:
        scope = parse_scope(conn, viewer, args)
        report = figures.build(
            conn, period, scope, min_answers=central.settings["grade_min_answers"], local_time=central.local_time
        )
        if len(report["communes"]) > 1 and not (scope.narrowed or scope.site):
            coverage.add_to(report, conn, central.clock.now(), OfficeHours.from_settings(central.settings))
    return report, scope, period


def filter_options(viewer: Viewer, commune: str | None = None) -> dict[str, Any]:
    """The choices of the filters; counters only for ``commune``, the one commune chosen (they are its own)."""

    def scoped(query, column):
        return query if viewer.communes is None else query.where(column.in_(viewer.communes))

    with current_central().engine.connect() as conn:
        communes = conn.execute(scoped(select(Commune.code, Commune.name), Commune.code).order_by(Commune.code)).all()
        services = conn.execute(
            scoped(select(Service.code, Service.name), Service.commune_code).order_by(Service.position)
        ).all()
        counters = _counters_seen(conn, commune) if commune else set()
        sites = conn.execute(
            scoped(select(Site.commune_code, Site.code, Site.name), Site.commune_code).order_by(
                Site.commune_code, Site.code
            )
        ).all()
        districts = conn.execute(
            scoped(select(Commune.district_code, Commune.name), Commune.code)
            .where(Commune.district_code.is_not(None))
            .order_by(Commune.district_code, Commune.name)
        ).all()
        clerks = conn.execute(
            scoped(
                select(Clerk.id, Clerk.name, Commune.name).join(Commune, Commune.code == Clerk.commune_code),
                Clerk.commune_code,
            ).order_by(Clerk.name, Commune.name)
        ).all()
    unique_services = {}
    for code, name in services:
        unique_services.setdefault(code, name)
    return {
        "communes": communes,
        "services": sorted(unique_services.items()),
        "counters": counter_choices(counters, sites),
        "clerks": clerks,
        "sites": sites,
        "districts": district_choices(districts),
    }


def district_choices(communes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(code, label) of each former district: no name is kept for a district, so it is labelled by its code and
    the communes that carry it ("Huyện cũ 444: Xã An Bình, Xã Tân Hòa"), never a bare "444"."""
    names: dict[str, list[str]] = {}
    for code, name in communes:
        names.setdefault(code, []).append(name)
    return [
        (
            code,
            _(
                "Former district %(code)s: %(communes)s",
                code=code,
                communes=", ".join(found[:3]) + ("…" if len(found) > 3 else ""),
            ),
        )
        for code, found in sorted(names.items())
    ]


def _counters_seen(conn: Connection, commune: str) -> set[tuple[str, str, int]]:
    """(commune, site, counter) of every counter the commune's records name, as its year rollups hold them."""
    seen: set[tuple[str, str, int]] = set()
    for table in (RollupRatings.__table__, RollupQueue.__table__):
        c = table.c
        query = select(c.commune_code, c.site_code, c.counter_number).distinct()
        query = query.where(c.commune_code == commune, c.grain == "Y", c.counter_number != NO_COUNTER)
        seen |= {tuple(row) for row in conn.execute(query)}
    return seen


def counter_choices(
    counters: set[tuple[str, str, int]], sites: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """The counter filter's options, (commune, value, label): each point's counters apart ("TT:1", "TT · Quầy 1")."""
    points: dict[str, set[str]] = {}
    for commune, code, _name in sites:
        points.setdefault(commune, set()).add(code)
    for commune, site, _number in counters:
        points.setdefault(commune, set()).add(site)
    word = _("Counter")
    return [
        (commune, f"{site}:{number}", counter_label(site, number, points[commune], word))
        for commune, site, number in sorted(counters)
    ]


def _label(report: dict[str, Any], viewer: Viewer) -> str:
    return exports.scope_label(report["communes"], viewer.communes is None and report["scope"]["communes"] is None)


def trend_slots(period: periods.Period, report: dict[str, Any]) -> list[str]:
    """Every day (or month) of the period, as the trend's buckets are named."""
    if report["trend"]["unit"] == "day":
        return [(period.start + timedelta(days=i)).isoformat() for i in range(period.days)]
    return [m.isoformat() for m in period.months()]


@bp.get("/reports")
@require("reports")
def dashboard(viewer: Viewer):
    report, scope, period = build_report(viewer, request.args)

    def pct(value: float | None) -> str:
        return numbers.percent(value, get_locale())

    svg = {
        "levels": charts.levels_bar(report["levels"], _("Distribution of levels"), pct),
        "trend": charts.trend_line(
            report["trend"]["points"], trend_slots(period, report), _("Ratings over time"), report["trend"]["unit"]
        ),
        "heat": charts.heat_map(
            report["heat"], _("Ratings by weekday and hour"), pct=pct, satisfied=_("satisfied or above")
        ),
        "heat_tickets": charts.heat_map(report["heat"], _("Tickets by weekday and hour"), "tickets"),
    }
    query = request.query_string.decode()
    return render_template(
        "central/reports.html",
        report=report,
        svg=svg,
        args=request.args,
        options=filter_options(viewer, scope.communes[0] if scope.communes and len(scope.communes) == 1 else None),
        query=query,
        scope_label=_label(report, viewer),
        viewer=viewer,
        kinds=periods.KINDS,
        today=_today(),
        zone=current_central().local_time.zone,
        channel_names={key: str(name) for key, name in CHANNELS.items()},
    )


@bp.get("/reports/data.json")
@require("reports")
def data(viewer: Viewer):
    report, _scope, _period = build_report(viewer, request.args)
    return jsonify(report)


@bp.get("/reports/export.<fmt>")
@require("reports")
def export(fmt: str, viewer: Viewer):
    if fmt not in exports.FORMATS:
        raise NotFoundError(_("Export as csv, xlsx or docx."))
    report, _scope, period = build_report(viewer, request.args)
    body = exports.render(report, fmt, _label(report, viewer))
    name = f"bao-cao-hai-long_{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"
    return Response(
        body,
        mimetype=exports.MIME[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/reports/dossiers.csv")
@require("reports")
def dossiers(viewer: Viewer):
    """Ratings per dossier code (mã hồ sơ) of the period and filters, in the province's CSV format (docs/dossiers.md)."""
    from central.exports import dossiers as dossier_csv

    central = current_central()
    period = periods.parse(request.args, _today())
    with central.engine.connect() as conn:
        scope = parse_scope(conn, viewer, request.args)  # refused (403/400) before anything is sent

    def body():
        with central.engine.connect() as conn:
            yield from dossier_csv.csv_chunks(dossier_csv.rows(conn, period, scope, central.local_time))

    name = f"ma-ho-so_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return Response(body(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
