"""The systemd units and scripts in systemd/: systemd itself checks them, and they say what the issue asks.

`systemd-analyze verify` refuses a unit whose programs do not exist, so the units are verified from a copy
in which only the program paths point at stand-ins; everything else is checked on the real files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import requests

from tests.server import KioskServer

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"
UNITS = sorted(p.name for p in SYSTEMD.iterdir() if p.suffix in {".service", ".timer"})
SCRIPTS = sorted(
    [SYSTEMD / name for name in ("install.sh", "kiosk-browser.sh", "kiosk-upgrade.sh", "province-repo.sh")]
    + [SYSTEMD.parent / ".ci" / "run"]
)
PROGRAMS = {  # path in the unit -> name of the stand-in
    "/opt/kiosk/venv/bin/kiosk-central": "kiosk-central",
    "/opt/kiosk/venv/bin/kiosk": "kiosk",
    "/opt/kiosk/venv/bin/python": "python",
    "/opt/kiosk/bin/kiosk-browser": "kiosk-browser",
    "/usr/bin/cage": "cage",
    "/usr/lib/kiosk/kiosk-upgrade.sh": "kiosk-upgrade",
}

needs_systemd = pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")


def parse(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values, in order]}} (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    section = ""
    for line in (SYSTEMD / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        sections[section][key.strip()].append(value.strip())
    return sections


def words(values: list[str]) -> list[str]:
    return " ".join(values).split()


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory) -> Path:
    """The units with their programs replaced by executables that exist here."""
    root = tmp_path_factory.mktemp("units")
    (root / "bin").mkdir()
    for stand_in in PROGRAMS.values():
        program = root / "bin" / stand_in
        program.write_text("#!/bin/sh\nexit 0\n")
        program.chmod(0o755)
    for unit in UNITS:
        content = (SYSTEMD / unit).read_text()
        for path, stand_in in PROGRAMS.items():
            content = content.replace(path, str(root / "bin" / stand_in))
        (root / unit).write_text(content)
    return root


def test_every_unit_is_there():
    assert set(UNITS) == {
        "kiosk.service",
        "kiosk-browser.service",
        "kiosk-sync.service",
        "kiosk-sync.timer",
        "kiosk-central.service",
        "kiosk-upgrade.service",
        "kiosk-upgrade.timer",
        "kiosk-upgrade-recover.service",
    }


def test_an_interrupted_upgrade_is_recovered_at_boot_before_the_kiosk_starts():
    recover = parse("kiosk-upgrade-recover.service")
    assert words(recover["Service"]["ExecStart"]) == ["/usr/lib/kiosk/kiosk-upgrade.sh", "recover"]
    assert {"kiosk.service", "kiosk-upgrade.service"} <= set(words(recover["Unit"]["Before"]))
    assert recover["Unit"]["ConditionPathIsDirectory"] == ["/var/lib/kiosk/upgrade-backup"]
    assert recover["Install"]["WantedBy"] == ["multi-user.target"]
    assert "kiosk-upgrade-recover.service" in (SYSTEMD.parent / "debian/kiosk.install").read_text()


@needs_systemd
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_passes(stand_ins, unit):
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"./{unit}"], cwd=stand_ins, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


@needs_systemd
@pytest.mark.parametrize("unit", ["kiosk.service", "kiosk-sync.service", "kiosk-central.service"])
def test_server_units_are_hardened(stand_ins, unit):
    """systemd's own exposure score (0 = locked down, 10 = nothing): 'OK' or better."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=30", "--no-pager", f"./{unit}"],
        cwd=stand_ins,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-600:] + result.stderr


def test_kiosk_service_is_a_watched_notify_service_that_always_comes_back():
    unit = parse("kiosk.service")
    service = unit["Service"]
    assert service["Type"] == ["notify"] and service["NotifyAccess"] == ["main"]
    assert int(service["WatchdogSec"][0]) >= 10  # pings go every WatchdogSec/2 (kiosk/notify.py)
    assert service["Restart"] == ["always"]
    assert unit["Unit"]["StartLimitIntervalSec"] == ["0"]  # never gives up restarting...
    assert words(service["RestartPreventExitStatus"]) == ["2", "4"]  # ...unless a setting or the database is bad
    assert words(service["ExecStart"])[:2] == ["/opt/kiosk/venv/bin/kiosk", "serve"]
    assert "/var/lib/kiosk" in words(unit["Unit"]["RequiresMountsFor"])
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_kiosk_service_runs_as_kiosk_hardened_but_with_its_devices():
    service = parse("kiosk.service")["Service"]
    assert service["User"] == ["kiosk"]
    assert {"gpio", "lp", "audio"} <= set(words(service["SupplementaryGroups"]))
    assert service["ProtectSystem"] == ["strict"]
    assert service["StateDirectory"] == ["kiosk"] and "/var/lib/kiosk" in words(service["ReadWritePaths"])
    assert service["WorkingDirectory"] == ["/var/lib/kiosk"]  # lgpio writes its pipes there
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert service[key] == ["yes"], key
    assert service.get("PrivateDevices", ["no"]) == ["no"]  # it would hide /dev/gpiochip*, the printer, sound
    allowed = {value.split()[0] for value in service["DeviceAllow"]}
    assert {"char-gpiochip", "char-usb_device", "char-usb", "char-alsa"} <= allowed
    assert service["CapabilityBoundingSet"] == [""]


@pytest.mark.parametrize("unit", ["kiosk.service", "kiosk-sync.service", "kiosk-central.service"])
def test_units_let_the_kiosk_ask_whether_the_clock_is_synchronised(unit):
    """Records carry clock_synced from adjtimex(): a syscall filter without it would mark every record unsynced."""
    service = parse(unit)["Service"]
    assert "ProtectClock" not in service  # it denies adjtimex, even read only
    filters = words(service["SystemCallFilter"])
    assert "adjtimex" in filters or not filters


def test_browser_shows_the_local_citizen_screen_only_while_the_kiosk_runs():
    unit = parse("kiosk-browser.service")
    assert "kiosk.service" in words(unit["Unit"]["After"]) and unit["Unit"]["BindsTo"] == ["kiosk.service"]
    assert unit["Install"]["WantedBy"] == ["kiosk.service"]
    service = unit["Service"]
    command = words(service["ExecStart"])
    assert command[0] == "/usr/bin/cage" and "/opt/kiosk/bin/kiosk-browser" in command
    assert command[-1] == "http://127.0.0.1:8080/"
    assert service["Restart"] == ["always"] and service["User"] == ["kiosk-screen"]
    assert service["TTYPath"] == ["/dev/tty1"] and service["PAMName"] == ["kiosk-browser"]
    assert (SYSTEMD / "kiosk-browser.pam").read_text().count("pam_systemd.so") == 1


def test_browser_launcher_leaves_a_citizen_no_way_off_the_page():
    script = (SYSTEMD / "kiosk-browser.sh").read_text()
    flags = set(re.findall(r"(--[a-z-]+)", script))
    for flag in (
        "--kiosk",  # no address bar
        "--disable-pinch",
        "--overscroll-history-navigation",
        "--no-first-run",
        "--noerrdialogs",
        "--disable-translate",
        "--disable-session-crashed-bubble",
        "--host-resolver-rules",  # nothing from the internet
    ):
        assert flag in flags, flag
    assert re.search(r"^features=.*\bTranslate\b", script, re.M)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's Chromium is not installed")
def test_browser_launcher_opens_the_citizen_screen_with_its_flags(tmp_path):
    """The launcher's own command line (headless here, no cage) loads the real citizen screen."""
    with KioskServer(tmp_path / "var") as server:
        result = subprocess.run(
            [str(SYSTEMD / "kiosk-browser.sh"), server.base + "/"],
            env={
                "PATH": "/usr/bin:/bin",
                "RUNTIME_DIRECTORY": str(tmp_path / "browser"),
                "KIOSK_BROWSER_FLAGS": "--headless=new --no-sandbox --disable-gpu --dump-dom",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert requests.get(server.base + "/healthz", timeout=5).status_code == 200
    assert result.returncode == 0, result.stderr[-2000:]
    assert '<html lang="vi"' in result.stdout
    assert "UBND xã Thử Nghiệm" in result.stdout
    assert (tmp_path / "browser" / "Default").is_dir()  # the fresh profile went to the runtime directory


def test_nightly_sync_is_spread_out_and_catches_up():
    timer = parse("kiosk-sync.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["RandomizedDelaySec"]
    assert timer["Timer"]["Persistent"] == ["true"]
    assert timer["Timer"]["Unit"] == ["kiosk-sync.service"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    service = parse("kiosk-sync.service")["Service"]
    assert service["Type"] == ["oneshot"] and service["User"] == ["kiosk"]
    assert words(service["ExecStart"]) == ["/opt/kiosk/venv/bin/kiosk", "sync", "--once"]


def test_central_unit_serves_kiosk_central():
    service = parse("kiosk-central.service")["Service"]
    assert words(service["ExecStart"])[:2] == ["/opt/kiosk/venv/bin/kiosk-central", "serve"]
    assert words(service["ExecStartPre"]) == ["/opt/kiosk/venv/bin/kiosk-central", "init"]
    assert service["Restart"] == ["always"]


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_passes(script):
    result = subprocess.run(["shellcheck", "-x", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
