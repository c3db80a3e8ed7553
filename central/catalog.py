"""A commune's catalogue at the central server: the signed document its kiosks apply, and `import-config`.

The catalogue is the commune's services, counters (with the services each handles), clerks (with their PIN
hashes, so a clerk signs in with the same PIN at every kiosk of the commune), the rating scale's wording and
points, and the TT 01 questions of the detailed form. A commune created here is seeded from the settings;
the first kiosk to sync then has its own catalogue adopted (:mod:`central.catalog_upload`); an
administrator edits it on the pages (:mod:`central.catalog_edit`) or replaces it with `import-config`. Each door
applies the same rules (:mod:`common.catalog_apply`, :mod:`common.catalog_edit`) over the commune's tables
(:class:`central.catalog_store.CentralStore`).
Nothing is ever deleted — what a new catalogue leaves out is deactivated — because records refer to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from central import audit
from central.catalog_store import CentralStore
from central.identity import load_aliases
from central.models import MAIN_SITE, Commune, Device, Site
from common.catalog_apply import apply_catalog, check_applied, has_active_clerk, import_clerks
from common.catalog_read import SECTIONS, Catalog, from_settings, read_catalog
from common.catalog_rules import CODE_RE, invalid
from common.errors import NotFoundError, ValidationError
from common.scale import INDICATORS
from sync import catalog_document, protocol

#: The catalogue document's own format (2: owner, questions and aliases; 1 had neither).
DOCUMENT_FORMAT = 2


def content(session: Session, commune_code: str) -> dict[str, Any]:
    """The commune's catalogue in the document's shape (without the header)."""
    commune = session.get(Commune, commune_code)
    if commune is None:
        raise NotFoundError(f"Commune {commune_code} does not exist at the central server.")
    body = CentralStore(session, commune_code).snapshot()
    return {
        "commune": {"code": commune.code, "name": commune.name},
        "owner": commune.catalog_owner,
        **body,
        "questions": body["questions"] or default_questions(),
        "aliases": load_aliases(session.connection(), (commune_code,)),
    }


def default_questions() -> list[dict[str, Any]]:
    return [
        {"key": i.key, "question": i.question, "answers": list(i.answers), "active": True} for i in INDICATORS.values()
    ]


def version_of(body: Mapping[str, Any]) -> str:
    return catalog_document.digest(dict(body))


def catalog_version(session: Session, commune_code: str) -> str:
    """The version of the commune's catalogue now (what a kiosk that is up to date says it uses)."""
    return version_of(content(session, commune_code))


def build_catalog(session: Session, commune_code: str, device_id: str, device_name: str) -> dict[str, Any]:
    """The catalogue document of a commune, as sent (signed) to one of its kiosks."""
    body = content(session, commune_code)
    header = {
        "v": protocol.PROTOCOL_VERSION,
        "format": DOCUMENT_FORMAT,
        "version": version_of(body),
        "device": {"id": device_id, "name": device_name},
        "site": device_site(session, device_id),
    }
    return header | body


def device_site(session: Session, device_id: str) -> dict[str, str]:
    """The reception point a kiosk stands at, {"code", "name"}: it applies only that point's counters."""
    device = session.get(Device, device_id)
    code = device.site_code if device is not None else MAIN_SITE
    site = session.get(Site, (device.commune_code, code)) if device is not None else None
    return {"code": code, "name": site.name if site is not None else code}


def ensure_commune(
    session: Session, code: str, name: str | None, settings: Mapping[str, Any], now: datetime, **place: str | None
) -> Commune:
    """The commune with this code, created (and seeded from the settings) if it is new.

    The seeded catalogue is nobody's edit: the first kiosk that syncs replaces it with its own.
    """
    if not CODE_RE.match(code or ""):
        raise ValidationError(f"Commune code {code!r} must be 1–16 capital letters or digits.")
    commune = session.get(Commune, code)
    if commune is not None:
        return commune
    from central.hierarchy import ensure_main_site, ensure_province

    ensure_province(session, place.get("province_code"), now)
    commune = Commune(code=code, name=name or f"Xã {code}", created_at=now, catalog_owner="kiosk", **place)
    session.add(commune)
    session.flush()
    ensure_main_site(session, code, now)
    replace(session, code, from_settings(settings))
    return commune


def import_catalog(
    session: Session, commune_code: str, doc: Mapping[str, Any], actor: audit.Actor, now: datetime
) -> list[str]:
    """`import-config`: replace the sections ``doc`` has; a central change (the commune becomes centrally managed).

    Refused as a whole (nothing written) when an entry breaks a rule of the catalogue (:mod:`common.catalog_apply`),
    a PIN is another active clerk's, or the result would leave the commune's kiosks without a service in use, an
    open counter or an active clerk.
    """
    unknown = set(doc) - {*SECTIONS, "commune", "v", "format", "version", "device", "owner", "aliases"}
    if unknown:
        raise ValidationError(
            f"Unknown section(s) {', '.join(sorted(unknown))}; use {', '.join(SECTIONS)}.",
            {"sections": sorted(unknown)},
        )
    audit.commune_for_change(session, commune_code, actor, now)
    parts = replace(session, commune_code, doc)
    audit.record(session, commune_code, actor, "import", ", ".join(parts), now, {"sections": parts})
    return parts


def replace(session: Session, commune_code: str, doc: Mapping[str, Any]) -> list[str]:
    """Replace the sections of the commune's catalogue that ``doc`` has (clerks by code); returns their names.

    What a section does not list is deactivated, never deleted. Refused as a whole like ``import-config``.
    """
    if session.get(Commune, commune_code) is None:
        raise NotFoundError(f"Commune {commune_code} does not exist: create it with `kiosk-central add-commune`.")
    store = CentralStore(session, commune_code)
    had_clerk = has_active_clerk(store)
    catalog = read_catalog(doc, store, by_id=False)
    refuse_unknown_points(session, commune_code, catalog)
    applied = apply_catalog(store, catalog)
    if catalog.clerks is not None:
        import_clerks(store, catalog.clerks)
    check_applied(store, applied.services, had_clerk)
    return catalog.sections()


def refuse_unknown_points(session: Session, commune_code: str, catalog: Catalog) -> None:
    """A counter must stand at one of the commune's reception points (`kiosk-central add-site` adds one)."""
    for item in catalog.counters or []:
        if session.get(Site, (commune_code, item.site)) is None:
            raise invalid(
                "site",
                "Counter %(number)s: the commune has no reception point %(site)s; add it first (Điểm tiếp nhận).",
                number=item.number,
                site=item.site,
            )
