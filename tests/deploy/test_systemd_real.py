"""The units under a real systemd: a booted Debian bookworm container, installed with systemd/install.sh.

One container for the whole module (the tests run in order, each leaving the kiosk running): install, READY,
watchdog, SIGKILL, stop, sync, a damaged database, an upgrade, the browser in cage, then a second boot with a
read-only root and a writable data partition. Checked from outside through nsenter and HTTP on port 8080
(the container shares this machine's network). Timings go to test-artifacts/systemd-timings.json
(docs/deploy.md quotes them).

Needs root, debootstrap and systemd-nspawn (Debian packages debootstrap and systemd-container) and the
Debian package registry; .ci/run installs them and sets KIOSK_REQUIRE_SYSTEMD_TESTS=1, so that in CI a
missing piece fails instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.central_server import CentralServer
from tests.container.machine import Container
from tests.container.report import skip_or_fail, timings
from tests.container.root import ensure_root

pytestmark = [pytest.mark.systemd, pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
KIOSK = "http://127.0.0.1:8080"
IGNORED = (
    "var",
    ".venv",
    "venv",
    "build",
    "*.egg-info",
    "__pycache__",
    "node_modules",
    ".*cache",
    "test-artifacts",
    ".git",
)


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "needs root (systemd-nspawn, mount)"
    for tool in ("debootstrap", "systemd-nspawn", "nsenter"):
        if not shutil.which(tool):
            return f"needs {tool} (apt-get install debootstrap systemd-container)"
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8080)) == 0:
            return "port 8080 is in use on this machine (the container's kiosk.service listens there)"
    return None


measured = timings("systemd-timings.json")


def healthz() -> dict:
    return requests.get(KIOSK + "/healthz", timeout=2).json()


def copy_checkout(target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO, target, ignore=shutil.ignore_patterns(*IGNORED))
    return target


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    skip_or_fail(missing_requirements())
    started = time.monotonic()
    root = ensure_root()
    measured("root_ready_s", time.monotonic() - started)
    container = Container(root, tmp_path_factory.mktemp("container"))
    try:
        container.mount()
        copy_checkout(container.path("/root/kiosk"))
        measured("boot_to_multi_user_s", container.boot())
        started = time.monotonic()
        install = container.run("/root/kiosk/systemd/install.sh", timeout=900)
        measured("install_sh_s", time.monotonic() - started)
        container.install_output = install.stdout
        yield container
    finally:
        if container.leader:
            (ARTIFACTS / "systemd-journal.txt").write_text(
                container.run("journalctl", "--no-pager", check=False).stdout
            )
        container.destroy()


def seconds(span: str) -> float:
    """A systemd time span as `systemctl show` prints it ("30s", "1min 30s", "500ms") in seconds."""
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(us|ms|s|min|h)\b", span))


def wait_ready(box: Container, timeout: float, not_pid: int | None = None) -> int:
    """Wait until kiosk.service is active with a new main process and /healthz answers; that PID."""

    def ready():
        state = box.show("kiosk.service", "ActiveState", "SubState", "MainPID")
        pid = int(state["MainPID"])
        if state["ActiveState"] != "active" or state["SubState"] != "running" or pid in (0, not_pid):
            return None
        return pid if healthz()["db"] == "ok" else None

    return box.wait_for("kiosk.service active with /healthz answering", ready, timeout, interval=0.05)


def test_install_sh_on_plain_debian_starts_the_kiosk_after_ready(box):
    assert "installing Debian packages" in box.install_output and "python3-lgpio" not in box.install_output
    pid = wait_ready(box, 60)
    state = box.show("kiosk.service", "Type", "NRestarts", "StatusText", "ExecMainStartTimestampMonotonic",
                     "ActiveEnterTimestampMonotonic")  # fmt: skip
    assert state["Type"] == "notify" and state["NRestarts"] == "0"
    assert state["StatusText"].startswith("Serving http://0.0.0.0:8080")  # STATUS= sent with READY=1
    measured(
        "start_to_ready_s",
        (int(state["ActiveEnterTimestampMonotonic"]) - int(state["ExecMainStartTimestampMonotonic"])) / 1e6,
    )
    # systemd calls it started only once the kiosk said READY (Type=notify): restarted, it is seen "activating"
    # while it opens the database and hardware, then "active" with the status line READY=1 came with.
    seen = []
    box.systemctl("restart", "--no-block", "kiosk.service")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = box.show("kiosk.service", "ActiveState", "SubState")
        if not seen or seen[-1] != (state["ActiveState"], state["SubState"]):
            seen.append((state["ActiveState"], state["SubState"]))
        if state["ActiveState"] == "active" and len(seen) > 1:
            break
    assert ("activating", "start") in seen and seen[-1] == ("active", "running"), seen
    wait_ready(box, 30, not_pid=pid)
    # The hardened unit still does its work: a rating stored, a ticket printed to the spool in /var/lib/kiosk.
    rating = requests.post(KIOSK + "/api/ratings", json={"level": "very_satisfied", "channel": "touch"}, timeout=5)
    assert rating.status_code == 201, rating.text
    ticket = requests.post(KIOSK + "/api/tickets", json={"service": "HT"}, timeout=10)
    assert ticket.status_code == 201, ticket.text
    box.wait_for("the ticket in the print spool", lambda: list(box.path("/var/lib/kiosk/spool").glob("*.bin")), 20)
    assert (
        box.systemctl("is-enabled", "kiosk.service", "kiosk-sync.timer", "kiosk-browser.service").split()
        == ["enabled"] * 3
    )


def test_a_hung_kiosk_is_killed_by_the_watchdog_and_restarted(box):
    pid = wait_ready(box, 30)
    restarts = int(box.show("kiosk.service", "NRestarts")["NRestarts"])
    watchdog = seconds(box.show("kiosk.service", "WatchdogUSec")["WatchdogUSec"])
    assert watchdog >= 10
    hung = time.monotonic()
    box.run("kill", "-STOP", str(pid))
    new_pid = wait_ready(box, watchdog + 30, not_pid=pid)
    measured("watchdog_hang_to_ready_s", time.monotonic() - hung)
    assert new_pid != pid and int(box.show("kiosk.service", "NRestarts")["NRestarts"]) == restarts + 1
    assert "Watchdog timeout" in box.journal("kiosk.service")


def test_a_killed_kiosk_is_restarted(box):
    pid = wait_ready(box, 30)
    killed = time.monotonic()
    box.run("kill", "-KILL", str(pid))
    wait_ready(box, 30, not_pid=pid)
    measured("sigkill_to_ready_s", time.monotonic() - killed)


def test_systemctl_stop_is_clean_with_clients_holding_connections(box):
    wait_ready(box, 30)
    held = []
    for path in ("/healthz", "/api/events", "/api/events"):
        sock = socket.create_connection(("127.0.0.1", 8080), timeout=10)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: kiosk\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        held.append(sock)
    earlier = len(box.journal("kiosk.service").splitlines())
    stopping = time.monotonic()
    box.systemctl("stop", "kiosk.service")
    took = time.monotonic() - stopping
    measured("systemctl_stop_s", took)
    for sock in held:
        sock.close()
    state = box.show("kiosk.service", "Result", "ExecMainCode", "ExecMainStatus")
    timeout_stop = seconds(box.show("kiosk.service", "TimeoutStopUSec")["TimeoutStopUSec"])
    assert state["Result"] == "success" and state["ExecMainStatus"] == "0", state  # exited by itself, status 0
    assert took < min(timeout_stop, 5.0)
    during = "\n".join(box.journal("kiosk.service").splitlines()[earlier:])
    assert "Killing" not in during and "SIGKILL" not in during and "kiosk: stopped" in during, during
    box.systemctl("start", "kiosk.service")
    wait_ready(box, 60)


def test_the_sync_timer_is_scheduled_and_the_sync_service_reaches_a_central_server(box, tmp_path):
    timers = box.systemctl("list-timers", "--all", "kiosk-sync.timer")
    assert "kiosk-sync.timer" in timers and "kiosk-sync.service" in timers
    assert box.show("kiosk-sync.timer", "ActiveState")["ActiveState"] == "active"
    assert box.show("kiosk-sync.timer", "NextElapseUSecRealtime")["NextElapseUSecRealtime"]
    # Without a central server the nightly sync is skipped, not failed.
    box.systemctl("start", "kiosk-sync.service")
    skipped = box.show("kiosk-sync.service", "Result", "ActiveState")
    assert skipped == {"Result": "exec-condition", "ActiveState": "inactive"}, skipped  # not "failed"
    assert "Skipped due to 'exec-condition'" in box.journal("kiosk-sync.service")

    with CentralServer(tmp_path / "central") as central:
        identity = central.add_device("Kiosk 1", "00000", "UBND xã Thử Nghiệm")  # the commune_code it has
        config = box.path("/etc/kiosk/kiosk.toml")
        text = config.read_text(encoding="utf-8")
        text += (
            f'\ncentral_url = "{central.base}"\ndevice_id = "{identity["KIOSK_DEVICE_ID"]}"\n'
            f'device_secret = "{identity["KIOSK_DEVICE_SECRET"]}"\n'
        )
        config.write_text(text, encoding="utf-8")
        started = time.monotonic()
        box.systemctl("start", "kiosk-sync.service")
        measured("sync_service_s", time.monotonic() - started)
        state = box.show("kiosk-sync.service", "Result", "ExecMainStatus")
        assert state == {"Result": "success", "ExecMainStatus": "0"}, box.journal("kiosk-sync.service")[-2000:]
        with sqlite3.connect(tmp_path / "central" / "central.db") as db:
            assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] >= 1  # the rating of the first test
    config.write_text(config.read_text(encoding="utf-8").split("\ncentral_url = ")[0], encoding="utf-8")


def test_a_damaged_database_stops_the_unit_with_a_clear_line_not_a_restart_loop(box):
    wait_ready(box, 30)
    db = box.path("/var/lib/kiosk/kiosk.db")
    box.systemctl("stop", "kiosk.service")
    backup = db.with_name("kiosk.db.test-backup")
    shutil.copy2(db, backup)
    size = db.stat().st_size
    with open(db, "r+b") as f:
        f.seek(size // 2 - 8192)
        f.write(os.urandom(16384))
    restarts = int(box.show("kiosk.service", "NRestarts")["NRestarts"])
    box.systemctl("start", "kiosk.service", check=False)
    box.wait_for(
        "kiosk.service failed", lambda: box.show("kiosk.service", "ActiveState")["ActiveState"] == "failed", 30
    )
    time.sleep(5)  # longer than RestartSec: no restart may follow
    state = box.show("kiosk.service", "ActiveState", "Result", "ExecMainStatus", "NRestarts")
    assert state["ActiveState"] == "failed" and state["ExecMainStatus"] == "4", state
    assert int(state["NRestarts"]) == restarts
    last = [line for line in box.journal("kiosk.service").splitlines() if "kiosk[" in line][-1]
    assert "Error: The kiosk database /var/lib/kiosk/kiosk.db fails its integrity check" in last
    assert "kiosk init --force-new" in last
    shutil.copy2(backup, db)  # the technician restores the backup
    backup.unlink()
    box.systemctl("reset-failed", "kiosk.service")
    box.systemctl("start", "kiosk.service")
    wait_ready(box, 60)


def test_an_upgrade_keeps_data_and_settings_and_restarts_the_services(box):
    old_pid = wait_ready(box, 30)
    box.run("/usr/local/bin/kiosk", "--config", "/etc/kiosk/kiosk.toml", "add-clerk", "Nguyễn Thị Lan", "--pin",
            "1234", "--counter", "1", env={"KIOSK_DATA_DIR": "/var/lib/kiosk"})  # fmt: skip
    box.run("chown", "-R", "kiosk:kiosk", "/var/lib/kiosk")
    settings = box.path("/etc/kiosk/kiosk.toml")
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            '# commune_name = "UBND xã Thử Nghiệm"', 'commune_name = "UBND xã Tân Lập"'
        ),
        encoding="utf-8",
    )
    before = settings.read_bytes()
    source = box.path("/root/kiosk")
    with open(source / "kiosk/__init__.py", "a", encoding="utf-8") as init:
        init.write("\nRELEASE_MARK = 2\n")  # a newer checkout

    started = time.monotonic()
    upgrade = box.run("/root/kiosk/systemd/install.sh", timeout=900)
    measured("upgrade_install_sh_s", time.monotonic() - started)

    assert "kept /etc/kiosk/kiosk.toml" in upgrade.stdout and "stopping kiosk.service" in upgrade.stdout
    assert settings.read_bytes() == before
    new_pid = wait_ready(box, 60, not_pid=old_pid)
    assert new_pid != old_pid
    marked = box.run("/opt/kiosk/venv/bin/python", "-c", "import kiosk; print(kiosk.RELEASE_MARK)")
    assert marked.stdout.strip() == "2"
    with sqlite3.connect(box.path("/var/lib/kiosk/kiosk.db")) as db:
        assert db.execute("SELECT name FROM clerks").fetchall() == [("Nguyễn Thị Lan",)]
        assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] >= 1
    assert "UBND xã Tân Lập" in requests.get(KIOSK + "/", timeout=5).text  # the kept settings are read


HEADLESS = """# Test only: no screen in the container. wlroots' headless backend instead of the tty1 session, and
# Chromium's remote debugging, to read what the screen shows.
[Unit]
ConditionPathExists=
[Service]
Environment=WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman XDG_RUNTIME_DIR=/run/kiosk-browser
Environment="KIOSK_BROWSER_FLAGS=--remote-debugging-port={port}"
PAMName=
TTYPath=
StandardInput=null
TTYReset=no
TTYVHangup=no
TTYVTDisallocate=no
UtmpIdentifier=
"""


def citizen_page(port: int):
    """The kiosk's pages Chromium shows, loaded (with their title), from its remote debugging endpoint."""
    pages = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
    return [p for p in pages if p.get("type") == "page" and p["url"].startswith(KIOSK) and p.get("title")]


def test_the_browser_unit_shows_the_citizen_screen_in_cage_and_comes_back_after_a_crash(box):
    from playwright.sync_api import sync_playwright

    from tests.server import free_port

    port = free_port()
    dropin = box.path("/etc/systemd/system/kiosk-browser.service.d/headless.conf")
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text(HEADLESS.format(port=port))
    box.systemctl("daemon-reload")
    started = time.monotonic()
    box.systemctl("restart", "kiosk-browser.service")
    pages = box.wait_for("Chromium showing the citizen screen", lambda: citizen_page(port), 90, interval=0.5)
    measured("browser_start_to_page_s", time.monotonic() - started)
    assert pages[0]["url"] == KIOSK + "/" and pages[0]["title"].startswith("Đánh giá sự hài lòng")
    command = box.show("kiosk-browser.service", "ExecStart")["ExecStart"]
    assert "/usr/bin/cage" in command and "/opt/kiosk/bin/kiosk-browser" in command
    processes = box.run("ps", "-u", "kiosk-screen", "-o", "args=").stdout
    assert "cage -d" in processes and "--kiosk" in processes and "--ozone-platform=wayland" in processes

    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        page = next(p for c in browser.contexts for p in c.pages if p.url.startswith(KIOSK))
        page.wait_for_selector("text=Rất hài lòng", timeout=20_000)
        assert "Ông/bà có hài lòng" in page.inner_text("body")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "kiosk-browser-in-cage.png"))
        browser.close()

    # Chromium crashes: cage ends with its only client, and systemd starts both again.
    restarts = int(box.show("kiosk-browser.service", "NRestarts")["NRestarts"])
    main = box.run("pgrep", "-u", "kiosk-screen", "-o", "-x", "chromium").stdout.split()
    assert main, processes
    crashed = time.monotonic()
    box.run("kill", "-KILL", main[0])
    box.wait_for(
        "kiosk-browser.service restarted",
        lambda: int(box.show("kiosk-browser.service", "NRestarts")["NRestarts"]) > restarts,
        30,
    )
    box.wait_for("the citizen screen again", lambda: citizen_page(port), 90, interval=0.5)
    measured("browser_crash_to_page_s", time.monotonic() - crashed)
    # Stopping the kiosk stops the screen (BindsTo=): no "site can't be reached" page. (cage 0.1.4 on the headless
    # backend ends with SIGABRT on SIGTERM, so the unit may show "failed"; what matters is that nothing is left.)
    box.systemctl("stop", "kiosk.service")
    assert box.show("kiosk-browser.service", "ActiveState")["ActiveState"] != "active"
    assert box.run("pgrep", "-u", "kiosk-screen", "cage|chromium", check=False).returncode == 1
    # Starting the kiosk starts the screen again (WantedBy=kiosk.service), once the kiosk said READY.
    box.systemctl("start", "kiosk.service")
    wait_ready(box, 60)
    box.wait_for("the citizen screen after the kiosk's start", lambda: citizen_page(port), 90, interval=0.5)


def test_a_read_only_root_with_a_writable_data_partition_keeps_everything_working(box):
    """docs/deploy.md §5: the root read-only (overlay), /var/lib/kiosk on its own partition."""
    box.poweroff()
    data = box.work / "data-partition"
    subprocess.run(["cp", "-a", str(box.path("/var/lib/kiosk")), str(data)], check=True)  # owners kept
    shutil.rmtree(box.path("/var/lib/kiosk"))
    box.path("/var/lib/kiosk").mkdir()
    measured("read_only_boot_to_multi_user_s", box.boot("--read-only", f"--bind={data}:/var/lib/kiosk"))
    started = time.monotonic()
    wait_ready(box, 120)
    measured("read_only_boot_then_ready_s", time.monotonic() - started)
    assert box.run("touch", "/etc/kiosk/written", check=False).returncode != 0  # the root is read-only
    rating = requests.post(KIOSK + "/api/ratings", json={"level": "satisfied", "channel": "button"}, timeout=5)
    assert rating.status_code == 201
    with sqlite3.connect(data / "kiosk.db") as db:  # on the data partition
        assert db.execute("SELECT count(*) FROM ratings WHERE id = ?", (rating.json()["id"],)).fetchone() == (1,)
    assert box.show("kiosk-sync.timer", "ActiveState")["ActiveState"] == "active"
    failed = box.systemctl("list-units", "--state=failed", "--plain", "--no-legend")
    assert "kiosk" not in failed, failed
