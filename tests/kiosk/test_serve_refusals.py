"""`kiosk serve` refuses to start with one plain line and a status systemd will not restart on:
2 for a setting that cannot work, 4 for a damaged or vanished database (kiosk.service:
RestartPreventExitStatus=2 4). Never a traceback, never a fresh empty database in place of a lost one.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server import KioskServer, free_port

REPO = Path(__file__).resolve().parents[2]


def kiosk(
    data: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "NOTIFY_SOCKET"))}
    environ.update(
        KIOSK_DATA_DIR=str(data),
        KIOSK_CONFIG=str(data.parent / "no-config.toml"),
        KIOSK_GPIO="mock",
        KIOSK_PRINTER="none",
    )
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args], env=environ, capture_output=True, text=True, timeout=timeout
    )


def serve(data: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`kiosk serve` that is expected to refuse: it must exit by itself, long before the timeout."""
    return kiosk(data, "serve", "--port", str(free_port()), env=env, timeout=60)


def one_plain_line(result: subprocess.CompletedProcess) -> str:
    """The error, as the last line of standard error (log lines may come before it), and no traceback."""
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return errors[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def used_kiosk(tmp_path) -> Path:
    """A kiosk that has run: a database with ratings in it, checkpointed into the main file."""
    data = tmp_path / "var"
    with KioskServer(data) as server:
        import requests

        for level in ("very_satisfied", "satisfied", "unsatisfied") * 20:
            assert requests.post(server.base + "/api/ratings", json={"level": level, "channel": "touch"}).ok
    with sqlite3.connect(data / "kiosk.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return data


# --- configuration errors: exit status 2 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"KIOSK_PRINTER": "bluetooth:AA:BB"}, "printer"),
        ({"KIOSK_PRINTER": "serial:/dev/ttyS0:fast"}, "baud rate"),
        ({"KIOSK_PRINTER": "usb:Xprinter"}, "vendor and product id"),
        ({"KIOSK_PRINTER_WIDTH": "7cm"}, "printer_width"),
        ({"KIOSK_GPIO": "real"}, "lgpio"),
        ({"KIOSK_GPIO": "maybe"}, "gpio"),
        ({"KIOSK_ANNOUNCER": "speaker"}, "announcer"),
        ({"KIOSK_PANEL_COUNTER": "first"}, "panel_counter"),
    ],
    ids=["printer-kind", "serial-baud", "usb-ids", "paper", "gpio-real-without-lgpio", "gpio-word", "announcer", "int"],
)
def test_a_setting_that_cannot_work_is_one_line_and_exit_status_2(tmp_path, env, words):
    if env.get("KIOSK_GPIO") == "real":  # no Pi here: lgpio is not installed, so `real` cannot work
        try:
            import lgpio  # noqa: F401
        except ImportError:
            pass
        else:
            pytest.skip("lgpio is installed: gpio = real may work here")
    result = serve(tmp_path / "var", env)
    line = one_plain_line(result)
    assert result.returncode == 2, result.stderr
    assert words in line


def test_the_hardware_modules_raise_one_error_tree_that_the_app_converts_once():
    """Every error hardware/ raises on purpose is a DeviceError; kiosk/app.py alone turns it into a KioskError."""
    from common.errors import ConfigError, HardwareError
    from hardware.announcer import AnnouncerConfigError
    from hardware.audio import AudioFormatError
    from hardware.clips import SpeechUnavailable
    from hardware.errors import DeviceConfigError, DeviceError, DeviceFault
    from hardware.pins import PinFactoryError
    from hardware.printer import PrinterConfigError, PrinterFault
    from kiosk.app import device_errors

    for config_error in (AnnouncerConfigError, AudioFormatError, PinFactoryError, PrinterConfigError):
        assert issubclass(config_error, DeviceConfigError)
        with pytest.raises(ConfigError, match="the words"), device_errors():
            raise config_error("the words")
    for fault in (SpeechUnavailable, PrinterFault):
        assert issubclass(fault, DeviceFault) and issubclass(fault, DeviceError)
        with pytest.raises(HardwareError, match="the words"), device_errors():
            raise fault("the words")
    for path in (REPO / "kiosk").rglob("*.py"):  # nobody else converts them
        if path.name != "app.py":
            text = path.read_text(encoding="utf-8")
            assert "from hardware" not in text and "import hardware" not in text, path


# --- damaged or vanished database: exit status 4 -------------------------------------------------------


def damage(db: Path, how: str) -> None:
    size = db.stat().st_size
    if how == "empty":
        db.write_bytes(b"")
    elif how == "garbage":
        with open(db, "r+b") as f:  # 16 KiB of noise in the middle, as a failing SD card leaves it
            f.seek(size // 2 - 8192)
            f.write(os.urandom(16384))
    elif how == "truncated":
        os.truncate(db, size // 2)
    elif how == "deleted":
        for suffix in ("", "-wal", "-shm"):
            db.with_name(db.name + suffix).unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["empty", "garbage", "truncated", "deleted"])
def test_a_damaged_or_deleted_database_is_refused_with_exit_status_4(used_kiosk, how):
    db = used_kiosk / "kiosk.db"
    assert db.stat().st_size > 64 * 1024
    damage(db, how)
    before = digest(db) if db.exists() else None

    result = serve(used_kiosk)

    line = one_plain_line(result)
    assert result.returncode == 4, result.stderr
    assert str(db) in line and "backup" in line and "kiosk init --force-new" in line
    assert {"empty": "empty", "garbage": "integrity", "truncated": "truncated", "deleted": "missing"}[how] in line
    if before is None:
        assert not db.exists()  # no fresh empty database where the old one was
    else:
        assert digest(db) == before  # left exactly as found, for whoever restores it
    # Every other command that opens the database refuses the same way; `kiosk init` too.
    for args in (["init"], ["add-clerk", "Lan", "--pin", "1234"]):
        again = kiosk(used_kiosk, *args)
        assert again.returncode == 4 and one_plain_line(again) == line


def test_kiosk_init_force_new_keeps_the_damaged_file_aside_and_the_kiosk_starts_empty(used_kiosk):
    db = used_kiosk / "kiosk.db"
    damage(db, "garbage")
    damaged = digest(db)

    done = kiosk(used_kiosk, "init", "--force-new")

    assert done.returncode == 0, done.stderr
    kept = [p for p in used_kiosk.glob("kiosk.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and digest(kept[0]) == damaged
    with KioskServer(used_kiosk) as server:
        import requests

        assert requests.get(server.base + "/healthz").json()["db"] == "ok"
    with sqlite3.connect(db) as fresh:
        assert fresh.execute("SELECT count(*) FROM ratings").fetchone() == (0,)


def test_a_brand_new_data_directory_starts_and_is_protected_from_then_on(tmp_path):
    data = tmp_path / "var"
    with KioskServer(data):
        pass
    assert (data / "kiosk.db").exists() and (data / "database-created").read_text().startswith(str(data / "kiosk.db"))
    (data / "kiosk.db").unlink()
    refused = serve(data)
    assert refused.returncode == 4 and "missing" in one_plain_line(refused)
    assert not (data / "kiosk.db").exists()


def test_a_kiosk_installed_before_the_marker_is_protected_after_its_next_start(used_kiosk):
    (used_kiosk / "database-created").unlink()  # as on a kiosk that ran an older release
    with KioskServer(used_kiosk):
        pass
    assert (used_kiosk / "database-created").exists()
