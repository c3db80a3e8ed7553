"""Staged rollout rings on the fleet page: the province tries a release on about 5 % of its kiosks first (ring 0,
"thử trước"), then promotes it to the rest (``stable``).

A ring is a suite of the province's apt repository (systemd/province-repo.sh: ``publish`` puts a release in
``ring0``, ``promote`` copies it to ``stable``). The kiosk learns its ring as the remote setting ``upgrade_ring``
(a new signed version of its remote settings, :mod:`central.remote_store`, taken at its next contact or at once
through its open watch), and ``kiosk-upgrade`` names that suite in its apt sources line before it looks for a
newer package (systemd/kiosk-upgrade-ring.sh). Only the province's administrators (capability ``rings``) assign.

"Chọn ngẫu nhiên 5 %" (:func:`pick`) draws the kiosks by a hash of their ids, spread over the communes: the first
kiosk of each commune in a shuffled order of communes, then the second..., until the share is reached. The same
fleet gives the same pick (pressing again changes nothing); a new kiosk moves at most a few.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import remote_store
from central.accounts import Viewer, require
from central.context import current_central
from central.models import Device
from central.page_base import page_blueprint
from central.remote_api import wake
from central.remote_models import RemoteSettings
from central.remote_store import Editor
from common import remote_settings
from common.db import transaction
from common.errors import ValidationError

bp = page_blueprint("central_rings", __name__)

SETTING = "upgrade_ring"
FIRST, REST = remote_settings.CHOICES[SETTING]
#: The rings as the fleet page names them.
RING_NAMES = {FIRST: lazy_gettext("Ring 0 — tried first"), REST: lazy_gettext("Ring 1 — the rest")}
#: The share of kiosks "pick" puts in ring 0, in percent, unless the form says otherwise (1–50).
DEFAULT_SHARE = 5


def _draw(text: str) -> str:
    return hashlib.sha256(f"{FIRST}:{text}".encode()).hexdigest()


def pick(kiosks: Sequence[tuple[str, str]], share: float) -> set[str]:
    """About ``share`` (0–1) of ``kiosks`` ((id, commune) pairs), at least one, spread over their communes."""
    if not kiosks:
        return set()
    wanted = min(len(kiosks), max(1, math.floor(len(kiosks) * share + 0.5)))
    by_commune: dict[str, list[str]] = {}
    for kiosk_id, commune in kiosks:
        by_commune.setdefault(commune, []).append(kiosk_id)
    queues = [sorted(ids, key=_draw) for _, ids in sorted(by_commune.items(), key=lambda item: _draw(item[0]))]
    chosen: list[str] = []
    depth = 0
    while len(chosen) < wanted:
        chosen.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return set(chosen[:wanted])


def assign(
    session: Session,
    master: bytes,
    device: Device,
    ring: str,
    editor: Editor,
    now: Any,
    before: RemoteSettings | None,
) -> bool:
    """Put ``device`` in ``ring``: a new version of its remote settings with ``upgrade_ring`` (its other values
    kept) after ``before``, its newest version (:func:`remote_store.latest`); False when it is in that ring
    already. ValidationError for a ring that does not exist."""
    ring = remote_settings.check_one(SETTING, ring)
    values = dict(before.values) if before else {}
    if values.get(SETTING) == ring:
        return False
    values[SETTING] = ring
    remote_store.new_version(session, master, device, values, editor, now, before)
    return True


def rings_of(session: Session, communes: tuple[str, ...] | None) -> dict[tuple[str, str], str]:
    """Per (commune, device): the ring its newest remote settings name (kiosks in none are left out)."""
    found = {}
    for key, row in remote_store.newest(session, communes).items():
        ring = (row.values or {}).get(SETTING)
        if ring:
            found[key] = ring
    return found


@bp.post("/fleet/rings/pick")
@require("rings")
def pick_share(viewer: Viewer):
    """Ring 0 for about ``share`` % of the enabled kiosks (spread over communes), ring 1 for every other kiosk."""
    try:
        share = int(request.form.get("share") or DEFAULT_SHARE)
    except ValueError:
        share = 0
    if not 1 <= share <= 50:
        raise ValidationError(_("The share of ring 0 is a whole number of percent from 1 to 50."), {"field": "share"})
    central = current_central()
    editor, now = Editor(viewer.username, viewer.id), central.clock.now()
    with transaction(central.sessions) as session:
        query = select(Device).order_by(Device.commune_code, Device.id)
        if viewer.communes is not None:
            query = query.where(Device.commune_code.in_(viewer.communes))
        devices = list(session.scalars(query))
        chosen = pick([(d.id, d.commune_code) for d in devices if d.enabled], share / 100)
        newest = remote_store.newest(session, viewer.communes)  # one query, not one per kiosk
        changed = sum(
            assign(
                session,
                central.master_key,
                d,
                FIRST if d.id in chosen else REST,
                editor,
                now,
                newest.get((d.commune_code, str(d.id))),
            )
            for d in devices
        )
        communes = {d.commune_code for d in devices if d.id in chosen}
    for commune in {d.commune_code for d in devices}:
        wake(commune)
    flash(
        _(
            "Ring 0: %(first)s kiosks in %(communes)s communes; ring 1: %(rest)s kiosks (%(changed)s changed).",
            first=len(chosen),
            communes=len(communes),
            rest=len(devices) - len(chosen),
            changed=changed,
        ),
        "ok",
    )
    return redirect(url_for("central_fleet.page") + "#rings")


@bp.post("/fleet/<device_id>/ring")
@require("rings")
def put_in_ring(device_id: str, viewer: Viewer):
    """One kiosk into the ring the form names."""
    ring = request.form.get("ring", "")
    if ring not in RING_NAMES:
        raise ValidationError(_("There is no ring %(ring)s: use ring0 or stable.", ring=ring[:20]), {"field": "ring"})
    central = current_central()
    with transaction(central.sessions) as session:
        device = remote_store.device_in(session, device_id, viewer.communes)
        before = remote_store.latest(session, device.commune_code, device.id)
        editor = Editor(viewer.username, viewer.id)
        changed = assign(session, central.master_key, device, ring, editor, central.clock.now(), before)
        name, commune = device.name, device.commune_code
    if changed:
        wake(commune)
    flash(_("%(kiosk)s: %(ring)s.", kiosk=name, ring=RING_NAMES[ring]), "ok")
    return redirect(url_for("central_fleet.page") + "#rings")
