"""The administrative hierarchy since 1 July 2025: province → commune → reception point (site) → kiosk.

A province (tỉnh) has communes; a commune (xã, phường, đặc khu) has one or more reception points (điểm tiếp
nhận): its public administrative service centre, and, for a merged commune, a point in each former commune; a
kiosk belongs to one site. The former district (huyện) is only a label on the commune, kept so that the reports
of 2024–2025 can still be grouped as they were. Every commune has its first site, :data:`MAIN_SITE`, from the
day it is created; records are stored with the site of the kiosk that made them (``site_code``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.models import MAIN_SITE, Commune, Device, Province, Site
from common.errors import ConflictError, KioskError, NotFoundError, ValidationError

CODE_RE = re.compile(r"^[A-Z0-9]{1,16}$")
MAIN_SITE_NAME = "Trung tâm Phục vụ hành chính công"


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; pages translate it when they show the refusal."""
    return msgid


def _refused(kind: type[KioskError], field: str | None, msgid: str, **params: Any) -> KioskError:
    """A refusal whose English message is also its msgid (the pages show it in the reader's language)."""
    return kind(msgid % params, {"field": field, "msgid": msgid, "params": params})


def _code(value: Any, field: str) -> str:
    code = str(value or "").strip().upper()
    if not CODE_RE.match(code):
        raise _refused(
            ValidationError, field, N_("The code %(code)s must be 1–16 capital letters or digits."), code=code
        )
    return code


def _name(value: Any, field: str = "name") -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > 200:
        raise _refused(ValidationError, field, N_("The name must be 1–200 characters."))
    return name


def ensure_province(session: Session, code: str | None, now: datetime, name: str | None = None) -> str | None:
    """The province with this code, created (named "Tỉnh CODE" until renamed) if it is new."""
    if code is None:
        return None
    code = _code(code, "province")
    if session.get(Province, code) is None:
        session.add(Province(code=code, name=_name(name) if name else f"Tỉnh {code}", created_at=now))
        session.flush()
    return code


def add_province(session: Session, code: str, name: str, now: datetime) -> Province:
    """Create a province, or rename it when it exists (it may have been created by a commune naming it)."""
    code = _code(code, "province")
    province = session.get(Province, code)
    if province is None:
        province = Province(code=code, name=_name(name), created_at=now)
        session.add(province)
    else:
        province.name = _name(name)
    session.flush()
    return province


def ensure_main_site(session: Session, commune_code: str, now: datetime) -> None:
    """The commune's first site, made with the commune."""
    if session.get(Site, (commune_code, MAIN_SITE)) is None:
        session.add(Site(commune_code=commune_code, code=MAIN_SITE, name=MAIN_SITE_NAME, active=True, created_at=now))
        session.flush()


def save_site(
    session: Session,
    commune_code: str,
    code: Any,
    name: Any,
    former_commune: Any,
    active: Any,
    now: datetime,
    new: bool = False,
) -> Site:
    """Add a reception point of a commune, or rename / (de)activate one. A site with kiosks stays active."""
    if session.get(Commune, commune_code) is None:
        raise _refused(NotFoundError, None, N_("Commune %(code)s does not exist."), code=commune_code)
    code = _code(code, "code")
    site = session.get(Site, (commune_code, code))
    former = " ".join(str(former_commune or "").split())[:200] or None
    if new:
        if site is not None:
            raise _refused(ConflictError, "code", N_("This commune already has a reception point %(code)s."), code=code)
        site = Site(commune_code=commune_code, code=code, created_at=now, active=True)
        session.add(site)
    elif site is None:
        raise _refused(NotFoundError, "code", N_("This commune has no reception point %(code)s."), code=code)
    site.name = _name(name)
    site.former_commune = former
    wanted = True if new else active not in (None, "", False, "0", "off", "false")
    if not wanted and kiosks_at(session, commune_code, code):
        raise _refused(
            ValidationError,
            "active",
            N_("Reception point %(code)s still has kiosks: move them to another reception point before closing it."),
            code=code,
        )
    site.active = wanted
    session.flush()
    return site


def kiosks_at(session: Session, commune_code: str, site_code: str) -> int:
    return session.scalar(
        select(func.count()).where(
            Device.commune_code == commune_code, Device.site_code == site_code, Device.enabled.is_(True)
        )
    )


def move_device(session: Session, device_id: str, site_code: Any) -> Device:
    """Put a kiosk at another reception point of its commune. Its later records are stored with the new site;
    those already stored keep the site where they were made (sync the kiosk before moving it)."""
    device = session.get(Device, device_id)
    if device is None:
        raise _refused(NotFoundError, None, N_("Kiosk %(id)s is not registered."), id=device_id)
    code = _code(site_code, "site")
    site = session.get(Site, (device.commune_code, code))
    if site is None or not site.active:
        raise _refused(NotFoundError, "site", N_("This commune has no open reception point %(code)s."), code=code)
    device.site_code = code
    session.flush()
    return device


def sites_of(session: Session, communes: tuple[str, ...] | None) -> list[Site]:
    query = select(Site).order_by(Site.commune_code, Site.code)
    if communes is not None:
        query = query.where(Site.commune_code.in_(communes))
    return list(session.scalars(query))


def site_exists(session: Session, commune_code: str, site_code: str) -> bool:
    return session.get(Site, (commune_code, site_code)) is not None
