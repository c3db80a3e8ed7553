"""The single settings registry: name, default, help.

Sources, later wins: defaults → a TOML file (``/etc/kiosk/kiosk.toml`` or ``--config PATH``) → the
settings the central server set for this kiosk (``DATA_DIR/remote-settings.json``, only those marked
``remote``; :mod:`common.remote_settings`) → environment variables ``KIOSK_<NAME>``. A default may be a function of the settings read so far
(for example the database lives in the data directory).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/kiosk/kiosk.toml")
#: The settings the central server set for this kiosk, in its data directory (written by the kiosk itself).
REMOTE_FILE = "remote-settings.json"


def _on_raspberry_pi() -> bool:
    try:
        return "raspberry pi" in Path("/proc/device-tree/model").read_text(errors="ignore").lower()
    except OSError:
        return False


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def _parse_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    text = str(value).strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


def _parse_json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    return value


PARSERS: dict[str, Callable[[Any], Any]] = {
    "str": lambda v: str(v),
    "int": lambda v: int(v),
    "float": lambda v: float(v),
    "bool": _parse_bool,
    "list": _parse_list,
    "json": _parse_json,
}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    type: str = "str"
    #: May the commune/province set it from the central pages (:mod:`common.remote_settings`)?
    remote: bool = False

    def default_for(self, so_far: Mapping[str, Any]) -> Any:
        return self.default(so_far) if callable(self.default) else self.default


DEFAULT_SERVICES = [
    {"code": "HT", "name": "Hộ tịch", "prefix": "A"},
    {"code": "CT", "name": "Chứng thực", "prefix": "B"},
    {"code": "DD", "name": "Đất đai", "prefix": "C"},
    {"code": "BT", "name": "Bảo trợ xã hội", "prefix": "D"},
    {"code": "NCC", "name": "Người có công", "prefix": "E"},
    {"code": "TP", "name": "Tư pháp – khác", "prefix": "F"},
]

DEFAULT_COUNTERS = [
    {"number": 1, "services": ["HT", "CT"]},
    {"number": 2, "services": ["DD", "TP"]},
    {"number": 3, "services": ["BT", "NCC"]},
]

REGISTRY: list[Setting] = [
    Setting("data_dir", "./var", "Directory for the database, print spool, sounds and logs."),
    Setting(
        "database_url",
        lambda s: f"sqlite:///{Path(s['data_dir']).resolve() / 'kiosk.db'}",
        "SQLAlchemy URL of the device database (SQLite in WAL mode).",
    ),
    Setting(
        "gpio",
        lambda s: "real" if _on_raspberry_pi() else "mock",
        "Pin factory for buttons and LEDs: `mock` (gpiozero MockFactory) or `real` (lgpio on a Pi).",
    ),
    Setting(
        "printer",
        lambda s: f"spool:{Path(s['data_dir']).resolve() / 'spool'}",
        "Ticket printer URL: spool:DIR, usb:VID:PID, serial:DEV[:BAUD], network:HOST[:PORT], "
        "file:PATH, cups:NAME or none.",
    ),
    Setting(
        "printer_width",
        "58mm",
        "Paper of the ticket printer: `58mm` (384 dots), `80mm` (576 dots) or a number of dots.",
        remote=True,
    ),
    Setting(
        "rating_url",
        "",
        "The kiosk's address on the office Wi-Fi, e.g. http://192.168.1.10:8080/rate: each ticket's QR code opens "
        "that ticket's phone page at its scheme, host and port (/t/<token>); empty = the wireless interface's "
        "address when serving on the network, else the QR holds the ticket id (docs/deploy.md §10).",
    ),
    Setting(
        "announcer",
        lambda s: "alsa" if _on_raspberry_pi() else f"wav:{Path(s['data_dir']).resolve() / 'announcements'}",
        "Where spoken calls go: `alsa` or `alsa:DEVICE` (aplay), `wav:DIR` (one .wav file per call) or `none`.",
    ),
    Setting(
        "sound_dir",
        lambda s: str(Path(s["data_dir"]).resolve() / "sounds"),
        "Folder of WAV clips calls are joined from (clips.txt lists them); missing clips are made with espeak-ng.",
    ),
    Setting("central_url", "", "Base URL of the commune or province server; empty turns sync off."),
    Setting("device_id", "", "This kiosk's id at the central server (from `kiosk-central add-device`)."),
    Setting("device_secret", "", "This kiosk's signing secret at the central server. Keep it out of git."),
    Setting(
        "central_database_url",
        lambda s: f"sqlite:///{Path(s['data_dir']).resolve() / 'central.db'}",
        "SQLAlchemy URL of the `kiosk-central` database (PostgreSQL for a province, SQLite by default).",
    ),
    Setting(
        "central_secret_key",
        "",
        "Master key `kiosk-central` derives device secrets from; empty = generated once into DATA_DIR/central_secret_key.",
    ),
    Setting(
        "central_max_body", 4 * 1024 * 1024, "Largest sync request body (bytes, compressed) the server takes.", "int"
    ),
    Setting("central_max_records", 5000, "Most records the server takes in one sync batch.", "int"),
    Setting(
        "central_secure_cookies",
        True,
        "Send the `/reports` sign-in cookie over HTTPS only; set false only on a LAN server without HTTPS.",
        "bool",
    ),
    Setting(
        "office_hours",
        {"mon-fri": "07:00-17:00"},
        "When the commune offices are open (central server, in `timezone`): days `mon`…`sun` or ranges `mon-fri`, "
        'each with "HH:MM-HH:MM" periods separated by commas, e.g. {mon-fri = "07:00-11:30, 13:30-17:00", '
        'sat = "07:30-11:30"} (JSON in the environment). The fleet page counts only these hours.',
        "json",
    ),
    Setting(
        "office_closed_days",
        [],
        "Days the offices are closed although `office_hours` would open them (public holidays, Tết): dates "
        'YYYY-MM-DD or ranges YYYY-MM-DD..YYYY-MM-DD, e.g. ["2027-02-05..2027-02-11", "2027-04-30"].',
        "list",
    ),
    Setting(
        "fleet_silent_hours",
        8.0,
        "Office hours (see `office_hours`) without any request from a kiosk after which the fleet page shows it "
        "silent, in red; nights, days off and `office_closed_days` do not count.",
        "float",
    ),
    Setting(
        "grade_min_answers",
        5,
        "Fewest answers one of a clerk's (or commune's) TT 01 indicators needs before a grade is given; below "
        'that, /admin, the reports and the documents say "Chưa đủ số phiếu".',
        "int",
    ),
    Setting(
        "panel_wait_alert_minutes",
        30.0,
        "Minutes a citizen may wait before the live panel (/admin/panel) marks the wait in red.",
        "float",
    ),
    Setting(
        "panel_pause_alert_minutes",
        20.0,
        "Minutes a counter may stay paused before the live panel (/admin/panel) marks it in red.",
        "float",
    ),
    Setting(
        "panel_push_every",
        30.0,
        "Seconds between two posts of the live panel to the central server when nothing changes (a change is "
        "posted within seconds); 0 = the central server gets no live panel from this kiosk.",
        "float",
    ),
    Setting(
        "central_panel_offline_seconds",
        90.0,
        "Seconds without a live panel from a kiosk after which the central server's panel shows it as "
        '"mất kết nối từ …" (lost since …) instead of its last state.',
        "float",
    ),
    Setting(
        "sync_interval",
        300.0,
        "Seconds between syncs while `kiosk serve` runs (when central_url is set).",
        "float",
        remote=True,
    ),
    Setting(
        "upgrade_ring",
        "",
        "The rollout ring whose suite of the province's repository `kiosk-upgrade` installs from: `ring0` (tried "
        "first) or `stable` (the rest); empty = the suite its apt sources line names. Set from the central's "
        "fleet page (docs/deploy.md §11, rings).",
        remote=True,
    ),
    Setting(
        "central_proxy_count",
        0,
        "Reverse proxies (HTTPS) in front of kiosk-central whose X-Forwarded-For/-Proto it trusts: with 1, the "
        "sign-in throttle and the sync log see the client's address instead of the proxy's. 0 = none.",
        "int",
    ),
    Setting(
        "catalog_watch_wait",
        25.0,
        "Seconds a kiosk's request for a newer catalogue waits at the central server (`kiosk serve` keeps one "
        "open, so a change saved centrally is on its screens within seconds); 0 = take changes at syncs only.",
        "float",
        remote=True,
    ),
    Setting(
        "central_watch_slots",
        1000,
        "Kiosks one `kiosk-central serve` lets wait for a newer catalogue at once (each sleeps in a worker "
        "thread of its own, about 16 kB); more are told to ask again in a few seconds.",
        "int",
    ),
    Setting(
        "sync_batch_size",
        1000,
        "Records per sync request (halved automatically if the server asks).",
        "int",
        remote=True,
    ),
    Setting(
        "disk_low_mb",
        200,
        "Free space (MB) on the data directory's disk below which /healthz and /admin warn that the disk is low; "
        "with almost nothing free (4 MB) writes are refused with 507 until space is freed.",
        "float",
        remote=True,
    ),
    Setting(
        "commune_name",
        "UBND xã Thử Nghiệm",
        "Name of the commune, printed on tickets and shown on screens.",
        remote=True,
    ),
    Setting("commune_code", "00000", "Administrative code of the commune."),
    Setting("timezone", "Asia/Ho_Chi_Minh", "Time zone of the business day (ticket numbering, reports)."),
    Setting(
        "booking_grace_minutes",
        15,
        "Minutes after a booking's time it may still check in as booked (kiosk); later it checks in as a walk-in, "
        "and a booking not checked in by then is a no-show (docs/bookings.md).",
        "int",
    ),
    Setting(
        "rating_levels",
        ["very_satisfied", "satisfied", "unsatisfied"],
        "Rating levels shown on the panel and touch screen, best first. Add `neutral` for a four-button panel.",
        "list",
    ),
    Setting(
        "rating_labels",
        {},
        'Override of level wording, e.g. {unsatisfied = "Chưa hài lòng"} (JSON in the environment).',
        "json",
    ),
    Setting(
        "rating_points",
        {},
        "Override of level points (TT 01 defaults: 2 / 1 / 0; `neutral` defaults to 1).",
        "json",
    ),
    Setting(
        "button_pins",
        [17, 27, 22],
        "GPIO (BCM) pins of the rating buttons, in the order of `rating_levels`.",
        "list",
    ),
    Setting("led_pins", [5, 6, 13], "GPIO (BCM) pins of the LED in each rating button, same order.", "list"),
    Setting("buzzer_pin", "19", "GPIO (BCM) pin of the buzzer; empty for none."),
    Setting(
        "panel_counter",
        1,
        "Counter the rating buttons and touch screen stand at (0 = the whole office); `/?counter=N` overrides it per screen.",
        "int",
    ),
    Setting(
        "link_window",
        90.0,
        "Seconds after a clerk completes a ticket during which the next rating at that counter is linked to it.",
        "float",
        remote=True,
    ),
    Setting("led_seconds", 2.0, "How long a button's LED stays lit after its rating is stored.", "float", remote=True),
    Setting(
        "response_interval",
        5.0,
        "Seconds after a press on a panel during which another press is stored but flagged and not counted.",
        "float",
        remote=True,
    ),
    Setting(
        "rating_flood_limit",
        10,
        "Most ratings one address on the network may send per minute (more → 429); the kiosk's own screen and "
        "button panel are not limited. 0 = no limit.",
        "int",
        remote=True,
    ),
    Setting(
        "thanks_seconds",
        6,
        "Seconds the thank-you screen stays before the citizen screen returns home.",
        "int",
        remote=True,
    ),
    Setting(
        "detail_seconds", 60, "Seconds of inactivity after which the detailed rating form gives up.", "int", remote=True
    ),
    Setting(
        "hold_minutes",
        15,
        "Minutes a ticket the clerk put on hold (giữ chỗ: a missing paper, a photocopy) keeps its place; "
        "past them it ends as a no-show.",
        "int",
    ),
    Setting(
        "priority_seconds",
        20,
        "Seconds without a touch after which the ticket screen turns a chosen Priority off again "
        "(it is also off after every ticket).",
        "int",
        remote=True,
    ),
    Setting(
        "spoken_prompts",
        True,
        "Speak the citizen screens' prompts, and each button's meaning at its first touch, for people who cannot "
        "read (clips from sound_dir/prompts or espeak-ng); false mutes them.",
        "bool",
        remote=True,
    ),
    Setting(
        "clock_sync",
        "auto",
        "Whether the wall clock is NTP-synchronised: `auto` (ask the kernel), `yes` or `no`.",
        remote=True,
    ),
    Setting(
        "services",
        DEFAULT_SERVICES,
        "Services (fields) seeded by `kiosk init`: list of {code, name, prefix, daily_max}.",
        "json",
    ),
    Setting(
        "counters",
        DEFAULT_COUNTERS,
        "Counters seeded by `kiosk init`: list of {number, services}.",
        "json",
    ),
    Setting(
        "secret_key",
        "",
        "Flask session key; empty = generated once and kept in DATA_DIR/secret_key.",
    ),
    Setting("language", "vi", "Default language of the screens: `vi` or `en`.", remote=True),
    Setting(
        "home_screen",
        "rating",
        "What `/` shows: `rating` (the rating screen) or `ticket` (take a queue number).",
        remote=True,
    ),
    Setting(
        "ticket_seconds",
        12,
        "Seconds the ticket screen shows the issued number before it returns home (twice as long when nothing printed).",
        "int",
        remote=True,
    ),
    Setting(
        "ticket_button_services",
        [],
        "Services of the physical ticket buttons, one per button (e.g. HT, CT); empty = no ticket buttons.",
        "list",
    ),
    Setting(
        "ticket_button_pins",
        [],
        "GPIO (BCM) pins of the ticket buttons, in the order of `ticket_button_services`.",
        "list",
    ),
]

BY_NAME = {s.name: s for s in REGISTRY}
#: The zone of the setting ``timezone`` when none is set.
DEFAULT_ZONE: str = BY_NAME["timezone"].default


def time_zone(name: str) -> ZoneInfo:
    """The zone a ``timezone`` setting names; ConfigError when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"Setting timezone: {name!r} is not a time zone such as {DEFAULT_ZONE}.") from None


class Settings(dict):
    """Resolved settings; attribute access for convenience (``settings.data_dir``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    #: The same settings without the central server's (``remote-settings.json``): what a removed remote value
    #: falls back to.
    without_remote: dict[str, Any] | None = None

    @property
    def data_path(self) -> Path:
        return Path(self["data_dir"]).resolve()


def register(setting: Setting) -> None:
    """Add a setting to the registry (used by modules that own their settings)."""
    if setting.name in BY_NAME:
        return
    REGISTRY.append(setting)
    BY_NAME[setting.name] = setting


def load(
    config_path: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve every setting from defaults, the TOML file, the environment and explicit overrides."""
    env = os.environ if env is None else env
    file_values: dict[str, Any] = {}
    path = Path(config_path) if config_path else Path(env.get("KIOSK_CONFIG", DEFAULT_CONFIG_PATH))
    if config_path or path.exists():
        try:
            with open(path, "rb") as fh:
                file_values = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"Config file {path} does not exist: create it or drop --config.") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Config file {path} is not valid TOML: {exc}. Fix the file and start again.") from exc
    unknown = sorted(set(file_values) - set(BY_NAME))
    if unknown:
        raise ConfigError(
            f"Config file {path} has unknown settings: {', '.join(unknown)}. "
            "See the settings table in the README for the names."
        )
    overrides = dict(overrides or {})
    without_remote = _resolve(file_values, str(path), {}, env, overrides)
    remote_path = without_remote.data_path / REMOTE_FILE
    remote_values = _remote_file(remote_path)
    if not remote_values:
        without_remote.without_remote = dict(without_remote)
        return without_remote
    result = _resolve(file_values, str(path), remote_values, env, overrides, str(remote_path))
    result.without_remote = dict(without_remote)
    return result


def _remote_file(path: Path) -> dict[str, Any]:
    """The remote settings the kiosk wrote (allowed names only); a missing or unreadable file is none."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Remote settings file {path} is not readable JSON ({exc}): delete it and start again."
        ) from None
    values = document.get("values") if isinstance(document, dict) else None
    if not isinstance(values, dict):
        return {}
    return {name: value for name, value in values.items() if name in BY_NAME and BY_NAME[name].remote}


def _resolve(
    file_values: Mapping[str, Any],
    path: str,
    remote_values: Mapping[str, Any],
    env: Mapping[str, str],
    overrides: Mapping[str, Any],
    remote_path: str = "",
) -> Settings:
    result = Settings()
    for setting in REGISTRY:
        env_name = f"KIOSK_{setting.name.upper()}"
        if setting.name in overrides:
            raw, source = overrides[setting.name], "override"
        elif env_name in env:
            raw, source = env[env_name], f"environment variable {env_name}"
        elif setting.name in remote_values:
            raw, source = remote_values[setting.name], remote_path
        elif setting.name in file_values:
            raw, source = file_values[setting.name], path
        else:
            result[setting.name] = setting.default_for(result)
            continue
        try:
            result[setting.name] = PARSERS[setting.type](raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"Setting {setting.name} from {source} is not a valid {setting.type}: {raw!r}. {setting.help}"
            ) from exc
    return result
