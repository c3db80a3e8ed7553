"""The kiosk package on the Raspberry Pi's architecture: a Debian bookworm arm64 root booted under systemd-nspawn
through qemu-user, the arm64 package (cross-built on this machine, tests/container/arm64.py) installed from the
province's signed repository, the kiosk serving, printing and storing; then an upgrade in the timer's run.

One container for the module (the tests run in order). It runs beside the x86 containers (test_package_real.py,
test_systemd_real.py: machine kiosk-test, port 8080) under another machine name and port: the packaged unit's
``--port 8080`` is changed by a drop-in, as an operator changes a packaged unit. Timings go to
test-artifacts/package-arm64-timings.json (docs/deploy.md §9 quotes them).

Needs root, qemu-user-static, binfmt-support, debootstrap, systemd-container, reprepro and gnupg (.ci/setup test
installs them); KIOSK_REQUIRE_SYSTEMD_TESTS=1 (.ci/run) turns a missing piece into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.container import arm64
from tests.container.machine import Container
from tests.container.packages import derive, field
from tests.container.province import SOURCES, Province, StaticServer
from tests.container.report import skip_or_fail, timings
from tests.deploy.test_package_real import version

# Its own machine (kiosk-arm64) and port (8091): on a worker of its own, beside the x86 container group (tests/parallel.py).
pytestmark = [pytest.mark.systemd, pytest.mark.slow, pytest.mark.timeout(3600), pytest.mark.xdist_group("kiosk-arm64")]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
MACHINE = "kiosk-arm64"
PORT = 8091
KIOSK = f"http://127.0.0.1:{PORT}"
#: The province's repository only (as kiosk-upgrade.sh reads it): the root already has the package's Depends.
APT = ("-o", f"Dir::Etc::SourceList={SOURCES}", "-o", "Dir::Etc::SourceParts=-", "-q")
DROPINS = {
    "/etc/systemd/system/kiosk.service.d/arm64-test-port.conf": (
        f"[Service]\nExecStart=\nExecStart=/opt/kiosk/venv/bin/kiosk serve --host 0.0.0.0 --port {PORT}\n"
    ),
    "/etc/systemd/system/kiosk-upgrade.service.d/arm64-test-port.conf": (
        f"[Service]\nEnvironment=KIOSK_HEALTHZ_URL={KIOSK}/healthz\n"
    ),
}
ELF_AARCH64 = 183  # e_machine of an aarch64 ELF file
#: Units that fail under qemu-user only (setting up their credentials: "Invalid argument"), never on a Pi.
QEMU_FAILURES = {"systemd-sysusers.service", "systemd-tmpfiles-setup.service", "systemd-tmpfiles-setup-dev.service"}


measured = timings("package-arm64-timings.json")


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "needs root (systemd-nspawn, mount, binfmt_misc)"
    why = arm64.missing()
    if why:
        return why
    for tool in ("reprepro", "gpg", "dpkg-deb"):
        if not shutil.which(tool):
            return f"needs {tool} (apt-get install reprepro gnupg dpkg-dev)"
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            return f"port {PORT} is in use on this machine (the arm64 container's kiosk.service listens there)"
    return None


@pytest.fixture(scope="module")
def pi(tmp_path_factory):
    skip_or_fail(missing_requirements())
    arm64.enable_binfmt()
    folder = tmp_path_factory.mktemp("arm64")
    steps: dict[str, float] = {}
    # The package is built on this machine while debootstrap makes the root (neither needs the other).
    with ThreadPoolExecutor(max_workers=1) as builder:
        building = builder.submit(_timed, arm64.ensure_deb, steps)
        root, root_seconds = _timed(arm64.ensure_root, steps)
        deb, deb_seconds = building.result()
    measured("root_ready_s", root_seconds)
    measured("package_ready_s", deb_seconds)
    for name, seconds in steps.items():  # only what was built in this run (nothing when both were cached)
        measured(name, seconds)
    province = Province(folder, "province")
    server = StaticServer()
    server.root = province.public
    box = Container(root, folder / "container", name=MACHINE)
    try:
        box.mount()
        for path, text in DROPINS.items():
            box.path(path).parent.mkdir(parents=True, exist_ok=True)
            box.path(path).write_text(text)
        measured("boot_to_multi_user_s", box.boot(timeout=300))
        box.deb, box.folder, box.province, box.server = deb, folder, province, server
        yield box
    finally:
        if box.leader:
            ARTIFACTS.mkdir(exist_ok=True)
            journal = box.run("journalctl", "--no-pager", check=False, timeout=300).stdout
            (ARTIFACTS / "package-arm64-journal.txt").write_text(journal)
            started = time.monotonic()
            box.poweroff(timeout=30)
            measured("poweroff_s", time.monotonic() - started)
        box.destroy()
        server.close()
        province.close()


def _timed(step, timings: dict[str, float]) -> tuple[Path, float]:
    """What ``step(timings)`` returns, and the seconds it took."""
    started = time.monotonic()
    return step(timings), time.monotonic() - started


def healthz() -> dict:
    return requests.get(KIOSK + "/healthz", timeout=10).json()


def wait_healthy(box: Container, timeout: float) -> dict:
    """/healthz's report once kiosk.service is active (READY=1) and it answers."""
    running = {"ActiveState": "active", "SubState": "running"}

    def serving():
        return box.show("kiosk.service", *running) == running and healthz()

    return box.wait_for("kiosk.service active with /healthz answering", serving, timeout, interval=0.5)


def elf_machine(path: Path) -> int:
    with open(path, "rb") as elf:
        header = elf.read(20)
    return int.from_bytes(header[18:20], "little")


def test_the_arm64_package_installs_from_the_signed_repository_and_serves(pi):
    box = pi
    assert field(box.deb, "Architecture") == "arm64"
    box.province.publish(box.deb)
    box.province.trust(box, box.server.url)
    started = time.monotonic()
    box.run("apt-get", *APT, "update", timeout=900)
    box.run("apt-get", *APT, "install", "-y", "--no-install-recommends", "kiosk", timeout=1800,
            env={"DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
    report = wait_healthy(box, 300)
    measured("first_install_to_healthz_s", time.monotonic() - started)
    assert version(box) == field(box.deb, "Version")
    assert report["db"] == "ok" and report["upgrade"] is None
    # The Pi's architecture, and a program of it: every compiled library in the package's venv is aarch64,
    # the Pi's GPIO library lgpio among them (debian/rules adds the [pi] extra on arm64).
    assert box.run("uname", "-m").stdout.strip() == "aarch64"
    assert box.run("dpkg", "--print-architecture").stdout.strip() == "arm64"
    venv = box.path("/opt/kiosk/venv/lib")
    libraries = [lib for lib in venv.rglob("*.so*") if lib.is_file() and not lib.is_symlink()]
    assert any("lgpio" in lib.name for lib in libraries), [lib.name for lib in libraries]
    assert {lib.name: elf_machine(lib) for lib in libraries} == {lib.name: ELF_AARCH64 for lib in libraries}
    # Started by systemd only after READY=1 (Type=notify), on the port of this test's drop-in.
    state = box.show("kiosk.service", "Type", "NRestarts", "StatusText")
    assert state["Type"] == "notify" and state["NRestarts"] == "0"
    assert state["StatusText"].startswith(f"Serving http://0.0.0.0:{PORT}")
    failed = {
        line.split()[0] for line in box.systemctl("list-units", "--failed", "--plain", "--no-legend").splitlines()
    }
    assert failed <= QEMU_FAILURES, failed  # nothing of the kiosk's
    # It works: a ticket issued and printed to the spool, a rating stored.
    started = time.monotonic()
    ticket = requests.post(KIOSK + "/api/tickets", json={"service": "HT"}, timeout=60)
    assert ticket.status_code == 201, ticket.text
    spool = box.wait_for("the ticket in the print spool", lambda: list(box.path("/var/lib/kiosk/spool").glob("*.bin")),
                         60)  # fmt: skip
    measured("ticket_to_spool_s", time.monotonic() - started)
    assert spool[0].stat().st_size > 0
    before = healthz()["unsynced"]
    rating = requests.post(KIOSK + "/api/ratings", json={"level": "very_satisfied", "channel": "touch"}, timeout=30)
    assert rating.status_code == 201, rating.text
    assert healthz()["unsynced"] == before + 1


def test_the_arm64_kiosk_upgrades_in_its_window_and_keeps_its_records(pi):
    box = pi
    before = healthz()["unsynced"]
    assert before >= 1
    old = version(box)
    started = time.monotonic()
    box.province.publish(derive(box.deb, f"{old}+1", box.folder))
    measured("derive_and_publish_n_plus_1_s", time.monotonic() - started)
    started = time.monotonic()
    result = box.run("systemctl", "start", "kiosk-upgrade.service", check=False, timeout=1800)
    measured("upgrade_to_healthz_s", time.monotonic() - started)
    assert result.returncode == 0, result.stdout + result.stderr + box.journal("kiosk-upgrade.service")
    assert version(box) == f"{old}+1"
    report = wait_healthy(box, 120)
    assert report["upgrade"]["outcome"] == "upgraded" and report["upgrade"]["to"] == f"{old}+1"
    assert report["unsynced"] == before  # no record lost
