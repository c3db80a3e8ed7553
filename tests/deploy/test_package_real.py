"""The kiosk package in a booted Debian bookworm container: first install from the province's signed
repository, an upgrade when kiosk-upgrade.timer's service runs, a broken release rolled back by itself with
every record kept, and a repository signed with another key refused.

One container for the whole module (the tests run in order). The package is built once and cached
(tests/container/packages.py); versions N+1 and a broken N+2 are derived from it. The repository is made by
systemd/province-repo.sh (reprepro) with a province key generated here, and served over HTTP from this
machine (the container shares its network). Timings go to test-artifacts/package-timings.json (docs/deploy.md
quotes them). Shares port 8080 and the machine name with test_systemd_real.py: never run both at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.container.machine import Container
from tests.container.packages import derive, ensure_kiosk_deb, field
from tests.container.province import Province, StaticServer
from tests.container.root import ensure_root
from tests.deploy.test_systemd_real import missing_requirements

pytestmark = [pytest.mark.systemd, pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
KIOSK = "http://127.0.0.1:8080"
TIMINGS: dict[str, float] = {}


def measured(name: str, seconds: float) -> None:
    TIMINGS[name] = round(seconds, 2)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "package-timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    why = missing_requirements()
    if not why:
        why = next((f"needs {t} (apt-get install reprepro gnupg dpkg-dev debhelper)" for t in
                    ("reprepro", "gpg", "dpkg-buildpackage", "dh") if not shutil.which(t)), None)  # fmt: skip
    if why:
        if os.environ.get("KIOSK_REQUIRE_SYSTEMD_TESTS"):
            pytest.fail(why)
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("fleet")
    started = time.monotonic()
    deb = ensure_kiosk_deb()
    measured("package_ready_s", time.monotonic() - started)
    root = ensure_root()
    province, stranger = Province(folder, "province"), Province(folder, "stranger")
    server = StaticServer()
    server.root = province.public
    box = Container(root, folder / "container")
    try:
        box.mount()
        measured("boot_to_multi_user_s", box.boot())
        box.deb, box.folder, box.province, box.stranger, box.server = deb, folder, province, stranger, server
        yield box
    finally:
        if box.leader:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "package-journal.txt").write_text(box.run("journalctl", "--no-pager", check=False).stdout)
        box.destroy()
        server.close()
        province.close()
        stranger.close()


def healthz() -> dict:
    return requests.get(KIOSK + "/healthz", timeout=5).json()


def version(box: Container) -> str:
    return box.run("dpkg-query", "-W", "-f=${Version}", "kiosk").stdout


def wait_healthy(box: Container, timeout: float) -> dict:
    def ready():
        state = box.show("kiosk.service", "ActiveState", "SubState")
        return healthz() if state == {"ActiveState": "active", "SubState": "running"} else None

    return box.wait_for("kiosk.service active with /healthz answering", ready, timeout, interval=0.2)


def rate(count: int) -> None:
    for _ in range(count):
        answer = requests.post(KIOSK + "/api/ratings", json={"level": "satisfied", "channel": "touch"}, timeout=5)
        assert answer.status_code == 201, answer.text


def upgrade(box: Container) -> tuple[subprocess.CompletedProcess, float]:
    """What kiosk-upgrade.timer starts in its window, started now; its result and the seconds it took."""
    started = time.monotonic()
    result = box.run("systemctl", "start", "kiosk-upgrade.service", check=False, timeout=900)
    return result, time.monotonic() - started


def test_first_install_from_the_signed_repository(fleet):
    box = fleet
    box.province.publish(box.deb)
    box.province.trust(box, box.server.url)
    started = time.monotonic()
    box.run("apt-get", "update", "-q", timeout=600)
    box.run("apt-get", "install", "-y", "-q", "--no-install-recommends", "kiosk", timeout=900,
            env={"DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
    report = wait_healthy(box, 120)
    measured("first_install_to_healthz_s", time.monotonic() - started)
    assert version(box) == field(box.deb, "Version")
    assert report["db"] == "ok" and report["upgrade"] is None
    # The settings file is the package's conffile, readable by the kiosk user only; the timer waits for its window.
    assert "/etc/kiosk/kiosk.toml" in box.run("cat", "/var/lib/dpkg/info/kiosk.conffiles").stdout
    assert box.run("stat", "-c", "%U:%G %a", "/etc/kiosk/kiosk.toml").stdout.split() == ["root:kiosk", "640"]
    timer = box.show("kiosk-upgrade.timer", "ActiveState", "UnitFileState", "RandomizedDelayUSec", "TimersCalendar")
    assert timer["ActiveState"] == "active" and timer["UnitFileState"] == "enabled"
    assert timer["RandomizedDelayUSec"] == "2h" and "02:00:00" in timer["TimersCalendar"]
    # The .deb apt downloaded is kept: the version to roll back to.
    assert box.run("ls", "/var/cache/apt/archives").stdout.count("kiosk_") == 1


def test_the_kiosk_upgrades_in_its_window_and_keeps_its_records(fleet):
    box = fleet
    rate(3)
    before = healthz()["unsynced"]
    assert before >= 3
    old = version(box)
    box.province.publish(derive(box.deb, f"{old}+1", box.folder))
    result, took = upgrade(box)
    assert result.returncode == 0, result.stdout + result.stderr + box.journal("kiosk-upgrade.service")
    measured("upgrade_to_healthz_s", took)
    assert version(box) == f"{old}+1"
    report = wait_healthy(box, 60)
    assert report["upgrade"]["outcome"] == "upgraded" and report["upgrade"]["from"] == old
    assert report["upgrade"]["to"] == f"{old}+1" and "upgrade" not in " ".join(report["warnings"])
    assert report["unsynced"] == before  # no record lost
    rate(1)
    assert healthz()["unsynced"] == before + 1
    # Nothing newer: a second run changes nothing.
    result, _ = upgrade(box)
    assert result.returncode == 0 and version(box) == f"{old}+1"


def test_a_broken_release_is_rolled_back_with_every_record(fleet):
    box = fleet
    before = healthz()["unsynced"]
    good = version(box)
    bad = good.replace("+1", "+2")
    dropin = box.path("/etc/systemd/system/kiosk-upgrade.service.d/deadline.conf")
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text("[Service]\nEnvironment=KIOSK_UPGRADE_DEADLINE=45\n")
    box.systemctl("daemon-reload")
    box.province.publish(derive(box.deb, bad, box.folder, broken=True))
    result, took = upgrade(box)
    log = box.journal("kiosk-upgrade.service")
    assert result.returncode == 0, result.stdout + result.stderr + log
    measured("broken_upgrade_rolled_back_s", took)
    assert "kiosk serve: broken release" in box.journal("kiosk.service")  # it did try the bad one
    assert version(box) == good
    report = wait_healthy(box, 60)
    assert report["upgrade"]["outcome"] == "rolled_back" and report["upgrade"]["to"] == bad
    assert "within 45 s" in report["upgrade"]["detail"] and "upgrade rolled back" in report["warnings"]
    assert report["unsynced"] == before  # the database from before the upgrade, every record in it
    rate(1)
    assert healthz()["unsynced"] == before + 1
    # The next night does not try the same bad version again.
    result, _ = upgrade(box)
    assert result.returncode == 0 and version(box) == good
    assert "not trying" in box.journal("kiosk-upgrade.service")


def test_a_repository_signed_with_another_key_is_refused(fleet):
    box = fleet
    good = version(box)
    box.stranger.publish(derive(box.deb, good.replace("+1", "+9"), box.folder))
    box.server.root = box.stranger.public  # the same address now serves a repository the kiosk's key did not sign
    try:
        result, took = upgrade(box)
    finally:
        box.server.root = box.province.public
    measured("refused_s", took)
    assert result.returncode != 0
    assert version(box) == good
    report = wait_healthy(box, 30)
    assert report["upgrade"]["outcome"] == "refused" and "upgrade refused" in report["warnings"]
    assert "NO_PUBKEY" in report["upgrade"]["detail"] or "not signed" in report["upgrade"]["detail"]
    # Back on the province's repository, still offering the broken release: the refusal in between did not
    # make the kiosk forget it rolled that one back.
    result, _ = upgrade(box)
    assert result.returncode == 0 and version(box) == good
    assert box.journal("kiosk-upgrade.service").count("not trying") == 2
