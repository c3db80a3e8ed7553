"""systemd/install.sh run for real against a throwaway root directory, then again as an upgrade; and the
commented settings template it installs, which must match the settings registry."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from common import settings as settings_mod
from kiosk.config_template import load_every_setting, render

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "systemd" / "install.sh"
TEMPLATE = REPO / "systemd" / "kiosk.toml.example"


def test_the_checked_in_template_matches_the_settings_registry():
    assert TEMPLATE.read_text(encoding="utf-8") == render(), (
        "systemd/kiosk.toml.example is out of date: python -m kiosk.config_template > systemd/kiosk.toml.example"
    )


def test_the_template_has_every_setting_with_its_help():
    text = TEMPLATE.read_text(encoding="utf-8")
    for setting in load_every_setting():
        assert f"\n# {setting.name} = " in text, setting.name
        assert setting.help.split()[0] in text


def test_every_setting_switched_on_gives_the_defaults(tmp_path):
    """Uncommenting the template changes nothing: its values are valid TOML and equal the defaults."""
    config = tmp_path / "kiosk.toml"
    config.write_text(render(commented=False), encoding="utf-8")
    switched_on = tomllib.loads(config.read_text(encoding="utf-8"))
    literal = {s.name: s.default for s in load_every_setting() if not callable(s.default)}
    assert switched_on == literal
    loaded = settings_mod.load(config, env={})
    assert {name: loaded[name] for name in literal} == literal


def fresh_root(root: Path) -> Path:
    """The least of a Raspberry Pi OS root that useradd needs: users and groups (lp and audio exist there)."""
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (etc / "group").write_text("root:x:0:\nlp:x:7:\naudio:x:29:\n")
    (etc / "gshadow").write_text("root:*::\nlp:*::\naudio:*::\n")
    for name in ("passwd", "shadow", "group", "gshadow"):
        (etc / name).chmod(0o600 if "sha" in name else 0o644)
    return root


def copy_of_the_checkout(target: Path) -> Path:
    """The source tree without what git ignores, so that an upgrade can change it."""
    shutil.copytree(
        REPO,
        target,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "venv", "var", "build", "*.egg-info", "__pycache__", "node_modules", ".*cache"
        ),
    )
    return target


def install(source: Path, root: Path, *options: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "NOTIFY_SOCKET", "WATCHDOG_"))}
    result = subprocess.run(
        [str(source / "systemd/install.sh"), "--root", str(root), "--no-apt", "--offline", "--python", sys.executable]
        + list(options),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def kiosk_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The installed program, reading the installed settings (with the data directory inside the root)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_CONFIG=str(root / "etc/kiosk/kiosk.toml"), KIOSK_DATA_DIR=str(root / "var/lib/kiosk"))
    result = subprocess.run(
        [str(root / "opt/kiosk/venv/bin/kiosk"), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def sync_condition(root: Path) -> int:
    """Exit status of kiosk-sync.service's ExecCondition=, run with the installed program and settings."""
    unit = (root / "etc/systemd/system/kiosk-sync.service").read_text()
    command = next(line for line in unit.splitlines() if line.startswith("ExecCondition="))
    command = command.removeprefix("ExecCondition=").replace("/opt/kiosk/venv", str(root / "opt/kiosk/venv"))
    env = {"KIOSK_CONFIG": str(root / "etc/kiosk/kiosk.toml"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(shlex.split(command), env=env, cwd=root, capture_output=True).returncode


def entry(root: Path, file: str, name: str) -> list[str]:
    lines = [line.split(":") for line in (root / "etc" / file).read_text().splitlines()]
    found = [fields for fields in lines if fields[0] == name]
    assert len(found) == 1, f"{name} appears {len(found)} times in {file}"
    return found[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_install_into_a_throwaway_root_then_upgrade_keeping_data_and_settings(tmp_path):
    host_passwd = digest(Path("/etc/passwd"))
    root = fresh_root(tmp_path / "root")
    source = copy_of_the_checkout(tmp_path / "source")

    first = install(source, root, "--printer", "0416:5011")

    # The user, in its groups, made inside the root only.
    kiosk_user = entry(root, "passwd", "kiosk")
    assert kiosk_user[5:] == ["/var/lib/kiosk", "/usr/sbin/nologin"]
    uid, gid = int(kiosk_user[2]), int(kiosk_user[3])
    for group in ("gpio", "lp", "audio", "dialout"):
        assert "kiosk" in entry(root, "group", group)[3].split(","), group
    assert "video" in entry(root, "group", "video")[0] and "kiosk-screen" in entry(root, "group", "video")[3]
    assert digest(Path("/etc/passwd")) == host_passwd

    # Settings from the template: every line still there, only the data directory and printer switched on.
    config = root / "etc/kiosk/kiosk.toml"
    assert config.stat().st_mode & 0o777 == 0o640 and config.stat().st_gid == gid
    values = tomllib.loads(config.read_text(encoding="utf-8"))
    assert values == {"data_dir": "/var/lib/kiosk", "printer": "usb:0416:5011"}
    assert len(config.read_text().splitlines()) == len(TEMPLATE.read_text().splitlines())
    assert (root / "etc/kiosk/kiosk.toml.example").read_text() == TEMPLATE.read_text()

    # The data directory, the database at the newest revision, owned by the kiosk user.
    data = root / "var/lib/kiosk"
    assert (data.stat().st_uid, data.stat().st_gid, data.stat().st_mode & 0o777) == (uid, gid, 0o750)
    assert "Database" in first.stdout
    assert (data / "kiosk.db").stat().st_uid == uid

    # The program lives in its own virtual environment (not this checkout), reachable from /usr/local/bin.
    venv_python = root / "opt/kiosk/venv/bin/python"
    where = subprocess.run(
        [str(venv_python), "-c", "import kiosk; print(kiosk.__file__)"],
        cwd=tmp_path,  # not this checkout's folder, which Python would look in first
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(root / "opt/kiosk/venv/lib")), where.stdout
    assert os.readlink(root / "usr/local/bin/kiosk") == "/opt/kiosk/venv/bin/kiosk"
    assert (root / "opt/kiosk/bin/kiosk-browser").stat().st_mode & 0o111
    assert not (source / "build").exists()

    # Units installed as they are in the repository, and enabled.
    for unit in ("kiosk.service", "kiosk-browser.service", "kiosk-sync.service", "kiosk-sync.timer"):
        assert (root / "etc/systemd/system" / unit).read_text() == (REPO / "systemd" / unit).read_text()
    units = root / "etc/systemd/system"
    if shutil.which("systemctl"):
        assert (units / "multi-user.target.wants/kiosk.service").is_symlink()
        assert (units / "timers.target.wants/kiosk-sync.timer").is_symlink()
        assert (units / "kiosk.service.wants/kiosk-browser.service").is_symlink()
    assert not (units / "kiosk-central.service").exists()

    # The printer rule, and the browser's PAM service.
    rule = (root / "etc/udev/rules.d/60-kiosk-printer.rules").read_text()
    assert 'ATTR{idVendor}=="0416", ATTR{idProduct}=="5011", GROUP="lp"' in rule
    assert 'ENV{ID_USB_INTERFACES}=="*:0701??:*"' in rule
    assert "pam_systemd.so" in (root / "etc/pam.d/kiosk-browser").read_text()

    # The nightly sync is skipped (not failed) until the kiosk has a central server: its unit's own condition.
    assert sync_condition(root) == 1
    with_server = config.read_text(encoding="utf-8").replace(
        '# central_url = ""', 'central_url = "http://10.0.0.2:8090"'
    )
    config.write_text(with_server, encoding="utf-8")
    assert sync_condition(root) == 0

    # The kiosk is used: the technician renames the commune, a clerk is added.
    text = config.read_text(encoding="utf-8").replace(
        '# commune_name = "UBND xã Thử Nghiệm"', 'commune_name = "UBND xã Tân Lập"'
    )
    config.write_text(text, encoding="utf-8")
    kiosk_cli(root, "add-clerk", "Nguyễn Thị Lan", "--pin", "1234", "--counter", "1")
    settings_before = digest(config)
    # A new release: the checkout changes, the installed program must follow.
    with open(source / "kiosk/__init__.py", "a", encoding="utf-8") as init:
        init.write("\nRELEASE_MARK = 2\n")

    second = install(source, root, "--printer", "0416:5011")

    assert "kept /etc/kiosk/kiosk.toml" in second.stdout
    assert digest(config) == settings_before
    with sqlite3.connect(data / "kiosk.db") as db:
        assert db.execute("SELECT name FROM clerks").fetchall() == [("Nguyễn Thị Lan",)]
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert all(path.stat().st_uid == uid for path in data.iterdir())  # files made as root given back
    assert entry(root, "passwd", "kiosk")[2:4] == [str(uid), str(gid)]  # the same user, not a second one
    kiosk_cli(root, "init")  # the upgraded program still reads the kept settings
    read_back = subprocess.run(
        [
            str(venv_python),
            "-c",
            "import kiosk; from common.settings import load; print(kiosk.RELEASE_MARK, load()['commune_name'])",
        ],
        env={"KIOSK_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert read_back.stdout.strip() == "2 UBND xã Tân Lập"


def test_install_refuses_unknown_options_and_roots_without_users(tmp_path):
    bad = subprocess.run([str(INSTALL), "--frobnicate"], capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown option: --frobnicate" in bad.stderr
    (tmp_path / "empty").mkdir()
    empty = subprocess.run(
        [str(INSTALL), "--root", str(tmp_path / "empty"), "--no-apt"], capture_output=True, text=True
    )
    assert empty.returncode != 0 and "etc/passwd" in empty.stderr
    printer = subprocess.run([str(INSTALL), "--printer", "Xprinter"], capture_output=True, text=True)
    assert printer.returncode != 0 and "VID:PID" in printer.stderr
