"""The diagnostics bundle a kiosk uploads when the central pages ask ("Lấy chẩn đoán"): what a technician would
look at over SSH, without SSH.

It holds the recent log lines of the kiosk's units (`journalctl` under systemd, else the lines this process
logged lately, :class:`RecentLines`), the `/healthz` document, versions (package, Python, OS), the disk and the
clock, and the settings in effect with every secret hidden. It holds no citizen data: no ratings, comments,
contacts or tickets are read to make it.
"""

from __future__ import annotations

import collections
import logging
import os
import platform
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from kiosk import __version__, device_state
from kiosk.device_state import LAST_SYNC, REMOTE_APPLIED, REMOTE_REFUSED
from kiosk.health import health

#: Log lines in a bundle.
LINES = 300
UNITS = ("kiosk", "kiosk-browser", "kiosk-sync")
_SECRET = re.compile(r"secret|password|key$|token", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]+@")


class RecentLines(logging.Handler):
    """The last :data:`LINES` lines this process logged (the bundle's log when there is no journal)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: collections.deque[str] = collections.deque(maxlen=LINES)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a log line that cannot be formatted is left out
            pass


_recent: RecentLines | None = None
_recent_lock = threading.Lock()


def keep_recent_lines() -> RecentLines:
    """Start keeping this process's recent log lines (once per process)."""
    global _recent
    with _recent_lock:
        if _recent is None:
            _recent = RecentLines()
            logging.getLogger().addHandler(_recent)
        return _recent


def journal() -> dict[str, Any]:
    """The last lines of the kiosk's units from the journal, else this process's own recent lines."""
    if os.environ.get("INVOCATION_ID") and shutil.which("journalctl"):
        units = [arg for unit in UNITS for arg in ("-u", unit)]
        try:
            done = subprocess.run(
                ["journalctl", *units, "-n", str(LINES), "--no-pager", "-o", "short-iso"],
                capture_output=True,
                text=True,
                timeout=20,
            )
            if done.returncode == 0:
                return {"source": "journalctl", "lines": done.stdout.splitlines()[-LINES:]}
        except (OSError, subprocess.TimeoutExpired):
            pass
    return {"source": "process", "lines": list(keep_recent_lines().lines)}


def redacted(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings with secrets replaced by "***" and passwords taken out of URLs."""
    shown: dict[str, Any] = {}
    for name, value in settings.items():
        if _SECRET.search(name):
            shown[name] = "***" if value else ""
        elif isinstance(value, str):
            shown[name] = _URL_PASSWORD.sub(r"\1***@", value)
        else:
            shown[name] = value
    return shown


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def _ntp() -> dict[str, Any]:
    """What timedatectl says of the clock, when it can be asked."""
    if not shutil.which("timedatectl"):
        return {}
    try:
        done = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "-p", "Timezone", "-p", "NTP"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def bundle(kiosk: Any) -> dict[str, Any]:
    """The diagnostics bundle of this kiosk now (a JSON object)."""
    data = kiosk.settings.data_path
    usage = shutil.disk_usage(data) if data.exists() else None
    with kiosk.sessions() as session:
        last_sync = device_state.get(session, LAST_SYNC)
        applied = device_state.get(session, REMOTE_APPLIED)
        refused = device_state.get(session, REMOTE_REFUSED)
    return {
        "made_at": kiosk.clock.now().isoformat(timespec="seconds"),
        "versions": {
            "kiosk": __version__,
            "python": platform.python_version(),
            "os": _os_name(),
            "kernel": platform.release(),
            "machine": platform.machine(),
        },
        "healthz": health(kiosk)[0],
        "disk": {"path": str(data), "total_mb": round(usage.total / 2**20), "free_mb": round(usage.free / 2**20)}
        if usage
        else None,
        "clock": {
            "synced": kiosk.clock.synced(),
            "offset_at_last_sync": last_sync.get("clock_offset") if isinstance(last_sync, dict) else None,
            "timedatectl": _ntp(),
        },
        "remote_settings": {"applied": applied, "refused": refused},
        "settings": redacted(dict(kiosk.settings)),
        "log": journal(),
    }
