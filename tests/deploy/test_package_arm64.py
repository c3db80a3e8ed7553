"""The kiosk package on the Raspberry Pi's architecture: a Debian bookworm arm64 root booted under systemd-nspawn
through qemu-user, the arm64 package (cross-built on this machine, tests/container/arm64.py) installed from the
province's signed repository, the kiosk serving, printing and storing; then an upgrade in the timer's run with
presses on the screen while it upgrades, a deliberately broken release rolled back by itself, a repository signed
with another key refused, and every record made before, during and after them at a real central server on this
machine exactly once (the kiosk syncs to it from the broken release's test on).

One container for the module (the tests run in order). It runs beside the x86 containers (test_package_real.py,
test_systemd_real.py: machine kiosk-test, port 8080) under another machine name and port: the packaged unit's
``--port 8080`` is changed by a drop-in, as an operator changes a packaged unit. Timings go to
test-artifacts/package-arm64-timings.json (docs/deploy.md §9 quotes them).

Needs root, qemu-user-static, binfmt-support, debootstrap, systemd-container, reprepro and gnupg (.ci/setup test
installs them); KIOSK_REQUIRE_SYSTEMD_TESTS=1 (.ci/run) turns a missing piece into a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.container import arm64
from tests.container.central import serving_central, sync_to
from tests.container.machine import Container
from tests.container.packages import derive, field
from tests.container.province import SOURCES, Province, StaticServer
from tests.container.records import KIOSK_IDS, Records, check_exactly_once
from tests.container.report import skip_or_fail, timings
from tests.container.upgrades import check_refused, deadline_dropin, upgrade, upgrade_offered_by, version

# Its own machine (kiosk-arm64) and port (8091): on a worker of its own, beside the x86 container group (tests/parallel.py).
pytestmark = [pytest.mark.systemd, pytest.mark.slow, pytest.mark.timeout(3600), pytest.mark.xdist_group("kiosk-arm64")]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
MACHINE = "kiosk-arm64"
PORT = 8091
KIOSK = f"http://127.0.0.1:{PORT}"
#: Seconds kiosk-upgrade.sh gives a new version to come up (the packaged 180 s is for a Pi, the x86 test's 45 s
#: for x86-64): under qemu the kiosk takes 5–7 times as long to start as natively. Set for the whole module, so
#: that the good upgrade N→N+1 comes up within the very deadline the broken N+2 misses.
DEADLINE = 120
#: The province's repository only (as kiosk-upgrade.sh reads it): the root already has the package's Depends.
APT = ("-o", f"Dir::Etc::SourceList={SOURCES}", "-o", "Dir::Etc::SourceParts=-", "-q")
DROPINS = {
    "/etc/systemd/system/kiosk.service.d/arm64-test-port.conf": (
        f"[Service]\nExecStart=\nExecStart=/opt/kiosk/venv/bin/kiosk serve --host 0.0.0.0 --port {PORT}\n"
    ),
    "/etc/systemd/system/kiosk-upgrade.service.d/arm64-test-port.conf": (
        f"[Service]\nEnvironment=KIOSK_HEALTHZ_URL={KIOSK}/healthz\n"
    ),
    **dict([deadline_dropin(DEADLINE)]),
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
    province, stranger = Province(folder, "province"), Province(folder, "stranger")
    server = StaticServer()
    server.root = province.public
    box = Container(root, folder / "container", name=MACHINE)
    try:
        box.mount()
        for path, text in DROPINS.items():
            box.path(path).parent.mkdir(parents=True, exist_ok=True)
            box.path(path).write_text(text)
        measured("boot_to_multi_user_s", box.boot(timeout=300))
        box.deb, box.folder, box.province, box.stranger, box.server = deb, folder, province, stranger, server
        box.records = Records(KIOSK)
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
        stranger.close()


@pytest.fixture(scope="module")
def central(pi):
    """A real `kiosk-central serve` on this machine (the container reaches it on 127.0.0.1), this kiosk added to it."""
    with serving_central(pi.folder / "central") as server:
        yield server


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


def journal_seconds(box: Container, first: str, last: str) -> float:
    """Seconds from the last line of the kiosk's and its upgrade's journal holding ``first`` to the last holding
    ``last``."""
    args = ("journalctl", "--no-pager", "-o", "short-unix", "-u", "kiosk.service", "-u", "kiosk-upgrade.service")
    lines = box.run(*args).stdout.splitlines()

    def when(text: str) -> float:
        return float(next(line for line in reversed(lines) if text in line).split()[0])

    return when(last) - when(first)


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
    box, records = pi, pi.records
    records.some(tickets=1, ratings=1)  # before
    before = healthz()["unsynced"]
    assert before >= 2
    old = version(box)
    started = time.monotonic()
    box.province.publish(derive(box.deb, f"{old}+1", box.folder))
    measured("derive_and_publish_n_plus_1_s", time.monotonic() - started)
    made = records.count()
    # A ticket and a rating pressed every second while it upgrades (the kiosk answers until it is stopped, and
    # again once the new version is up; nobody answers in between).
    (result, took), presses = records.during(lambda: upgrade(box, timeout=1800), interval=1)
    measured("upgrade_to_healthz_s", took)
    assert result.returncode == 0, result.stdout + result.stderr + box.journal("kiosk-upgrade.service")
    assert version(box) == f"{old}+1"
    report = wait_healthy(box, 120)
    assert report["upgrade"]["outcome"] == "upgraded" and report["upgrade"]["to"] == f"{old}+1"
    # Within the module's DEADLINE (it would have been rolled back otherwise): how long it took, all told, and
    # from the new version's start (where the deadline begins) to its health check passed.
    measured("upgrade_up_in_s", float(re.search(r"up in (\d+) s", report["upgrade"]["detail"])[1]))
    measured("upgrade_start_to_healthy_s", journal_seconds(box, "Starting kiosk.service", "kiosk-upgrade: upgraded"))
    assert 0 < len(records.refused) <= presses
    assert report["unsynced"] == before + records.count() - made  # no record lost, those made while it upgraded kept


def test_a_broken_arm64_release_is_rolled_back_with_every_record(pi, central):
    box, records = pi, pi.records
    sync_to(box, central)  # read at the kiosk's next start: from the rollback on, it syncs every 3 s
    records.some(tickets=1, ratings=1)  # before
    good = version(box)
    bad = good.replace("+1", "+2")
    started = time.monotonic()
    box.province.publish(derive(box.deb, bad, box.folder, broken=True))
    measured("derive_and_publish_broken_n_plus_2_s", time.monotonic() - started)
    refused = len(records.refused)
    (result, took), presses = records.during(lambda: upgrade(box, timeout=1800), interval=1)
    assert result.returncode == 0, result.stdout + result.stderr + box.journal("kiosk-upgrade.service")
    measured("broken_upgrade_rolled_back_s", took)
    assert "kiosk serve: broken release" in box.journal("kiosk.service")  # it did try the bad one
    assert version(box) == good
    report = wait_healthy(box, 120)
    assert report["upgrade"]["outcome"] == "rolled_back" and report["upgrade"]["to"] == bad
    assert f"within {DEADLINE} s" in report["upgrade"]["detail"] and "upgrade rolled back" in report["warnings"]
    # The presses while the broken release was installed and rolled back were refused plainly (nobody on the
    # port); the ones answered before and after are in the database put back (the central test below).
    assert 0 < len(records.refused) - refused <= presses
    records.some(tickets=1, ratings=1)  # after
    # The next night does not try the same bad version again.
    result, took = upgrade(box)
    measured("next_run_not_trying_s", took)
    assert result.returncode == 0 and version(box) == good
    assert "not trying" in box.journal("kiosk-upgrade.service")


def test_a_repository_signed_with_another_key_is_refused_on_arm64(pi):
    box = pi
    good = version(box)
    started = time.monotonic()
    box.stranger.publish(derive(box.deb, good.replace("+1", "+9"), box.folder))
    measured("derive_and_publish_stranger_n_plus_9_s", time.monotonic() - started)
    # The same address now serves a repository the kiosk's key did not sign.
    result, took = upgrade_offered_by(box, box.stranger)
    measured("refused_s", took)
    assert result.returncode != 0
    assert version(box) == good
    check_refused(wait_healthy(box, 60))  # never stopped


def test_every_arm64_record_is_at_the_central_exactly_once(pi, central):
    box, records = pi, pi.records
    records.some(tickets=1, ratings=1)  # after the refusal
    started = time.monotonic()
    box.wait_for("the kiosk's outbox empty", lambda: healthz()["unsynced"] == 0, 180, interval=1)
    measured("outbox_empty_after_s", time.monotonic() - started)

    def kiosk_ids(table: str) -> list[str]:  # no sqlite3 program in the small root: Python's module
        read = "import sqlite3, sys; print(*(row[0] for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))"
        return box.run("python3", "-c", read, "/var/lib/kiosk/kiosk.db", KIOSK_IDS.format(table)).stdout.split()

    # Each once, and nothing else: what the kiosk holds (the first test's ticket and rating too) is what the
    # central holds, the records answered while it upgraded and while the broken release was tried among them.
    check_exactly_once(records, central.data_dir / "central.db", kiosk_ids)
    assert records.count() >= 10
