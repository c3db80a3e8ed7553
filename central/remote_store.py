"""Kiosks' remote settings and diagnostics in the central database: save a version, read the document a kiosk
is sent, record what it reported, ask for and keep diagnostics bundles (:mod:`central.remote_models`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, select
from sqlalchemy.orm import Session

from central import keys
from central.models import Device
from central.remote_models import BUNDLES_KEPT, DiagnosticBundle, RemoteSettings, RemoteState
from common import remote_settings
from common.errors import NotFoundError


@dataclass(frozen=True)
class Editor:
    """Who saves or asks: a signed-in user's name and id."""

    name: str
    user_id: str | None = None


def device_in(session: Session, device_id: str, communes: tuple[str, ...] | None) -> Device:
    """The kiosk, if it is in ``communes`` (None: every commune); NotFoundError otherwise."""
    device = session.get(Device, device_id) if _is_uuid(device_id) else None
    if device is None or (communes is not None and device.commune_code not in communes):
        raise NotFoundError("There is no such kiosk.")
    return device


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def latest(session: Session, commune: str, device_id: str) -> RemoteSettings | None:
    """The newest version of the kiosk's remote settings, or None when none was ever saved."""
    query = select(RemoteSettings).where(RemoteSettings.commune_code == commune, RemoteSettings.device_id == device_id)
    return session.scalar(query.order_by(RemoteSettings.version.desc()).limit(1))


def history(session: Session, commune: str, device_id: str, limit: int = 20) -> list[RemoteSettings]:
    query = select(RemoteSettings).where(RemoteSettings.commune_code == commune, RemoteSettings.device_id == device_id)
    return list(session.scalars(query.order_by(RemoteSettings.version.desc()).limit(limit)))


#: Set on the fleet page's rings by the province (:mod:`central.fleet_rings`), not on the remote settings page:
#: a save there keeps the ring as it was (and refuses none: the form has no such field).
PROVINCE_ONLY = frozenset({"upgrade_ring"})


def save(
    session: Session, master: bytes, device: Device, raw: dict[str, str], editor: Editor, now: datetime
) -> RemoteSettings:
    """A new version from the form's values (empty = not set remotely); ValidationError names a bad setting.
    The settings of :data:`PROVINCE_ONLY` are kept from the version before, whatever the form says."""
    given = {name: text.strip() for name, text in raw.items() if isinstance(text, str) and text.strip()}
    values = remote_settings.check({k: v for k, v in given.items() if k not in PROVINCE_ONLY})
    before = latest(session, device.commune_code, device.id)
    values.update({k: v for k, v in (before.values if before else {}).items() if k in PROVINCE_ONLY})
    return new_version(session, master, device, values, editor, now, before)


def new_version(
    session: Session,
    master: bytes,
    device: Device,
    values: dict[str, Any],
    editor: Editor,
    now: datetime,
    before: RemoteSettings | None,
) -> RemoteSettings:
    """Version ``before + 1`` of the kiosk's remote settings with ``values`` (checked), signed with its secret."""
    version = (before.version if before else 0) + 1
    secret = keys.device_secret(master, device.id, device.key_version)
    row = RemoteSettings(
        commune_code=device.commune_code,
        device_id=device.id,
        version=version,
        values=values,
        signature=remote_settings.sign(secret, device.id, version, values),
        saved_at=now,
        saved_by=editor.name[:200],
        user_id=editor.user_id,
    )
    session.add(row)
    session.flush()
    return row


def document(session: Session, commune: str, device_id: str) -> dict[str, Any] | None:
    """The signed document a kiosk is sent, or None when nothing was ever set for it."""
    row = latest(session, commune, device_id)
    if row is None:
        return None
    return {"device": device_id, "version": row.version, "values": row.values, "signature": row.signature}


def state(session: Session, commune: str, device_id: str) -> RemoteState:
    row = session.get(RemoteState, (commune, device_id))
    if row is None:
        row = RemoteState(commune_code=commune, device_id=device_id)
        session.add(row)
    return row


def mark(session: Session, commune: str, device_id: str) -> dict[str, Any]:
    """What a waiting kiosk is told with each watch answer: the newest version and whether a bundle is asked."""
    version = session.scalar(
        select(func.max(RemoteSettings.version)).where(
            RemoteSettings.commune_code == commune, RemoteSettings.device_id == device_id
        )
    )
    row = session.get(RemoteState, (commune, device_id))
    return {"version": version or 0, "diagnostics": bool(row and row.diagnostics_asked_at)}


def report(session: Session, commune: str, device_id: str, body: dict[str, Any], now: datetime) -> None:
    """Record what the kiosk said of the version it holds: applied (restart pending or not), or refused."""
    row = state(session, commune, device_id)
    applied, refused_version = body.get("applied"), body.get("refused_version")
    if isinstance(applied, int):
        row.applied_version = applied
        row.restart_pending = bool(body.get("restart_pending"))
    if isinstance(refused_version, int) and refused_version > (row.applied_version or 0):
        row.refused_version, row.refused = refused_version, str(body.get("refused") or "")[:500]
    elif isinstance(applied, int):
        row.refused_version, row.refused = None, None
    row.reported_at = now


def ask_diagnostics(session: Session, device: Device, editor: Editor, now: datetime) -> None:
    row = state(session, device.commune_code, device.id)
    row.diagnostics_asked_at, row.diagnostics_asked_by = now, editor.name[:200]


def keep_bundle(session: Session, commune: str, device_id: str, body: str, now: datetime) -> str:
    """Store a bundle (the request is answered); only the newest :data:`BUNDLES_KEPT` of the kiosk stay."""
    row = state(session, commune, device_id)
    bundle = DiagnosticBundle(
        commune_code=commune,
        device_id=device_id,
        id=str(uuid.uuid4()),
        received_at=now,
        asked_by=row.diagnostics_asked_by,
        body=body,
    )
    session.add(bundle)
    row.diagnostics_asked_at, row.diagnostics_asked_by = None, None
    session.flush()
    kept = bundles(session, commune, device_id, BUNDLES_KEPT)
    table = DiagnosticBundle.__table__.c
    session.execute(
        delete(DiagnosticBundle).where(
            table.commune_code == commune,
            table.device_id == device_id,
            table.id.not_in([b.id for b in kept]),
        )
    )
    return bundle.id


def bundles(session: Session, commune: str, device_id: str, limit: int = BUNDLES_KEPT) -> list[DiagnosticBundle]:
    query = select(DiagnosticBundle).where(
        DiagnosticBundle.commune_code == commune, DiagnosticBundle.device_id == device_id
    )
    return list(session.scalars(query.order_by(DiagnosticBundle.received_at.desc()).limit(limit)))


def _newest_versions(communes: tuple[str, ...] | None) -> Select:
    """(commune, device, version): the newest version of each kiosk's remote settings in ``communes`` (None: all)."""
    rs = RemoteSettings.__table__.c
    newest = select(rs.commune_code, rs.device_id, func.max(rs.version).label("version"))
    if communes is not None:
        newest = newest.where(rs.commune_code.in_(communes))
    return newest.group_by(rs.commune_code, rs.device_id)


def newest(session: Session, communes: tuple[str, ...] | None) -> dict[tuple[str, str], RemoteSettings]:
    """Per (commune, device): :func:`latest` of every kiosk in ``communes`` (None: all) at once, in one query."""
    versions = _newest_versions(communes).subquery()
    query = select(RemoteSettings).join(
        versions,
        and_(
            RemoteSettings.commune_code == versions.c.commune_code,
            RemoteSettings.device_id == versions.c.device_id,
            RemoteSettings.version == versions.c.version,
        ),
    )
    return {(row.commune_code, str(row.device_id)): row for row in session.scalars(query)}


def fleet_states(session: Session, communes: tuple[str, ...] | None) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (commune, device): the version sent, the version applied, a refusal, a pending bundle request."""
    st = RemoteState.__table__.c
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def entry(commune: str, device: str) -> dict[str, Any]:
        return found.setdefault((commune, str(device)), {"sent": None, "applied": None, "refused": None})

    for commune, device, version in session.execute(_newest_versions(communes)):
        entry(commune, device)["sent"] = version
    states = select(RemoteState)
    if communes is not None:
        states = states.where(st.commune_code.in_(communes))
    for row in session.scalars(states):
        e = entry(row.commune_code, row.device_id)
        e.update(applied=row.applied_version, restart_pending=row.restart_pending)
        e["refused"] = {"version": row.refused_version, "reason": row.refused} if row.refused_version else None
        e["diagnostics_asked"] = row.diagnostics_asked_at is not None
    return found
