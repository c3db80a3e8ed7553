"""Registering kiosks and users at the central server (the `kiosk-central` commands call these)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from central import hierarchy
from central.catalog import ensure_commune
from central.keys import device_secret, fingerprint
from central.models import MAIN_SITE, Commune, Device, DeviceStatus, Province, User, UserCommune
from central.roles import ROLES, SINGLE_COMMUNE
from common.db import transaction
from common.errors import ConflictError, NotFoundError, ValidationError

USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,64}$")


def add_commune(central: Any, code: str, name: str, district: str | None = None, province: str | None = None) -> str:
    """Create a commune (seeded with the services, counters and scale of the settings)."""
    with transaction(central.sessions) as session:
        if session.get(Commune, code) is not None:
            raise ConflictError(f"Commune {code} already exists.")
        ensure_commune(
            session, code, name, central.settings, central.clock.now(), district_code=district, province_code=province
        )
    return code


def add_province(central: Any, code: str, name: str) -> str:
    """Create a province (or rename one a commune already named)."""
    with transaction(central.sessions) as session:
        return hierarchy.add_province(session, code, name, central.clock.now()).code


def add_site(central: Any, commune_code: str, code: str, name: str, former_commune: str | None = None) -> str:
    """Add a reception point (điểm tiếp nhận) to a commune."""
    with transaction(central.sessions) as session:
        site = hierarchy.save_site(session, commune_code, code, name, former_commune, True, central.clock.now(), True)
        return site.code


def move_device(central: Any, device_id: str, site_code: str) -> str:
    """Put a kiosk at another reception point of its commune; returns the site's code."""
    with transaction(central.sessions) as session:
        return hierarchy.move_device(session, device_id, site_code).site_code


def add_device(
    central: Any, name: str, commune_code: str, commune_name: str | None = None, site_code: str = MAIN_SITE
) -> tuple[str, str]:
    """Register a kiosk of a commune's site (the commune created if new); returns (device id, secret).

    The secret is not stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("The device needs a name, such as 'Quầy 1 – UBND xã Tân Hòa'.")
    device_id = str(uuid.uuid4())
    secret = device_secret(central.master_key, device_id, 1)
    now = central.clock.now()
    with transaction(central.sessions) as session:
        ensure_commune(session, commune_code, commune_name, central.settings, now)
        site = (site_code or MAIN_SITE).strip().upper()
        if not hierarchy.site_exists(session, commune_code, site):
            raise NotFoundError(
                f"Commune {commune_code} has no reception point {site}: add it first with `kiosk-central add-site`."
            )
        session.add(
            Device(
                id=device_id,
                commune_code=commune_code,
                site_code=site,
                name=name[:200],
                key_version=1,
                secret_fingerprint=fingerprint(secret),
                enabled=True,
                created_at=now,
            )
        )
        session.add(DeviceStatus(commune_code=commune_code, device_id=device_id, last_counter=0))
    return device_id, secret


def set_device_enabled(central: Any, device_id: str, enabled: bool) -> None:
    with transaction(central.sessions) as session:
        device = session.get(Device, device_id)
        if device is None:
            raise NotFoundError(f"Device {device_id} is not registered.")
        device.enabled = enabled


def add_user(
    central: Any,
    username: str,
    password: str,
    role: str,
    commune_code: str | None = None,
    province_code: str | None = None,
    communes: tuple[str, ...] | list[str] = (),
) -> str:
    """Add a user with a hashed password and the scope its role needs.

    An administrator sees everything; a province viewer needs ``province_code``; the commune roles need
    ``commune_code``, and a commune viewer may see more communes (``communes``).
    """
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationError("The username must be 3–64 lower-case letters, digits, '.', '_' or '-'.")
    if role not in ROLES:
        raise ValidationError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    if len(password or "") < 8:
        raise ValidationError("The password must be at least 8 characters long.")
    scope = ROLES[role].scope
    extra = [c.strip().upper() for c in communes if c and c.strip()]
    if scope == "commune" and not commune_code and extra:
        commune_code, extra = extra[0], extra[1:]
    if scope == "commune" and not commune_code:
        raise ValidationError(f"A {role} needs --commune.")
    if scope == "province" and not province_code:
        raise ValidationError("A province_viewer needs --province.")
    if scope != "commune" and (commune_code or extra):
        raise ValidationError(f"A {role} is not tied to a commune: leave out --commune.")
    if scope != "province" and province_code:
        raise ValidationError(f"A {role} is not tied to a province: leave out --province.")
    if extra and role in SINGLE_COMMUNE:
        raise ValidationError(f"A {role} has one commune; only a commune_viewer may have several.")
    with transaction(central.sessions) as session:
        for code in [commune_code, *extra] if commune_code else []:
            if session.get(Commune, code) is None:
                raise NotFoundError(f"Commune {code} does not exist: add a device or commune for it first.")
        if province_code and session.get(Province, province_code) is None:
            raise NotFoundError(f"Province {province_code} does not exist: add it with `kiosk-central add-province`.")
        if session.scalar(select(User.id).where(User.username == username)):
            raise ConflictError(f"User {username} already exists.")
        user = User(
            id=str(uuid.uuid4()),
            username=username,
            password_hash=generate_password_hash(password),
            role=role,
            commune_code=commune_code,
            province_code=province_code,
            active=True,
            created_at=central.clock.now(),
        )
        session.add(user)
        session.flush()
        for code in sorted(set(extra) - {commune_code}):
            session.add(UserCommune(user_id=user.id, commune_code=code))
    return user.id


def set_user_password(central: Any, username: str, password: str) -> None:
    """A new password for a user of the central pages; every session of that user ends (server-side)."""
    username = (username or "").strip().lower()
    if len(password or "") < 8:
        raise ValidationError("The password must be at least 8 characters long.")
    with transaction(central.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFoundError(f"User {username} does not exist: add it with `kiosk-central add-user`.")
        user.password_hash = generate_password_hash(password)
        user.session_epoch = (user.session_epoch or 0) + 1
