"""The kiosk package in a booted Debian bookworm container: first install from the province's signed
repository, an upgrade when kiosk-upgrade.timer's service runs, a broken release rolled back by itself with
every record kept, and a repository signed with another key refused; then the same with the read-only overlay
root on (an upgrade and a rollback that both survive a reboot) while the kiosk syncs to a real central server,
which ends with every record made before, during and after them exactly once; last, the kiosk-central package
installed from the same repository, and a kiosk syncing to it.

One container for the whole module (the tests run in order, and each needs the one before). The packages are
built once and cached (tests/container/packages.py); versions N+1, N+3 and broken N+2, N+4 are derived from the
kiosk's. The repository is made by systemd/province-repo.sh (reprepro) with a province key generated here, and
served over HTTP from this machine (the container shares its network). Timings go to
test-artifacts/package-timings.json (docs/deploy.md quotes them). Shares port 8080 and the machine name with
test_systemd_real.py: never run both at once (one xdist worker for both modules).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import requests

from tests.container.central import serving_central, sync_to
from tests.container.machine import Container
from tests.container.packages import derive, ensure_debs, field
from tests.container.province import Province, StaticServer
from tests.container.records import KIOSK_IDS, Records, check_exactly_once
from tests.container.report import skip_or_fail, timings
from tests.container.root import ensure_root
from tests.container.upgrades import check_refused, set_deadline, upgrade, upgrade_offered_by, version
from tests.deploy.test_systemd_real import missing_requirements
from tests.e2e.test_catalog_push import ADMIN, PASSWORD, sign_in
from tests.e2e.test_remote_settings import csrf, remote_of
from tests.server import KioskServer

pytestmark = [pytest.mark.systemd, pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
KIOSK = "http://127.0.0.1:8080"


measured = timings("package-timings.json")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    why = missing_requirements()
    if not why:
        why = next((f"needs {t} (apt-get install reprepro gnupg dpkg-dev debhelper)" for t in
                    ("reprepro", "gpg", "dpkg-buildpackage", "dh") if not shutil.which(t)), None)  # fmt: skip
    skip_or_fail(why)
    folder = tmp_path_factory.mktemp("fleet")
    started = time.monotonic()
    debs = ensure_debs()
    deb = debs["kiosk"]
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
        box.central_deb = debs["kiosk-central"]
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


def wait_healthy(box: Container, timeout: float) -> dict:
    def ready():
        state = box.show("kiosk.service", "ActiveState", "SubState")
        return healthz() if state == {"ActiveState": "active", "SubState": "running"} else None

    return box.wait_for("kiosk.service active with /healthz answering", ready, timeout, interval=0.2)


def rate(count: int) -> None:
    for _ in range(count):
        answer = requests.post(KIOSK + "/api/ratings", json={"level": "satisfied", "channel": "touch"}, timeout=5)
        assert answer.status_code == 201, answer.text


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
    set_deadline(box, 45)
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
    # The same address now serves a repository the kiosk's key did not sign.
    result, took = upgrade_offered_by(box, box.stranger)
    measured("refused_s", took)
    assert result.returncode != 0
    assert version(box) == good
    check_refused(wait_healthy(box, 30))
    # Back on the province's repository, still offering the broken release: the refusal in between did not
    # make the kiosk forget it rolled that one back.
    result, _ = upgrade(box)
    assert result.returncode == 0 and version(box) == good
    assert box.journal("kiosk-upgrade.service").count("not trying") == 2


# --- the read-only overlay root, with the kiosk syncing to a central server --------------------------------------


@pytest.fixture(scope="module")
def central(fleet):
    """A real `kiosk-central serve` on this machine (the container reaches it on 127.0.0.1), this kiosk added to it."""
    with serving_central(fleet.folder / "central") as server:
        yield server


def test_an_upgrade_with_the_read_only_root_on_stays_after_a_reboot(fleet, central):
    box = fleet
    # The kiosk syncs to the central (what the commune writes into /etc/kiosk/kiosk.toml), every few seconds here.
    sync_to(box, central, interval=3)
    # Turned on as raspi-config does it, the data moved to its partition while the kiosk is off (docs/deploy.md
    # §5), then a boot: `/` an overlay in RAM over the read-only root.
    box.poweroff()
    box.options = options = box.read_only_root()
    measured("boot_with_read_only_root_s", box.boot(*options))
    assert box.run("findmnt", "-n", "-o", "FSTYPE", "/").stdout.strip() == "overlay"
    assert "ro" in box.run("findmnt", "-n", "-o", "OPTIONS", "/media/root-ro").stdout.split(",")
    wait_healthy(box, 120)
    records = box.records = Records(KIOSK)
    records.some(tickets=2, ratings=3)  # before
    box.run("touch", "/etc/written-in-ram")  # a change of the running root: gone at the next boot
    old = version(box)
    new = old.replace("+1", "+3")
    box.province.publish(derive(box.deb, new, box.folder))

    (result, took), presses = records.during(lambda: upgrade(box))
    assert result.returncode == 0, result.stdout + result.stderr + box.journal("kiosk-upgrade.service")
    measured("read_only_root_upgrade_to_healthz_s", took)
    # Pressed every half second while it ran: the presses made while the kiosk was stopped were refused plainly
    # (nobody on its port), never half-written (the test below finds each answered one at the central once).
    assert 0 < len(records.refused) <= presses
    assert version(box) == new
    assert version(box, "/media/root-ro/var/lib/dpkg") == new  # written to the read-only root too...
    assert "ro" in box.run("findmnt", "-n", "-o", "OPTIONS", "/media/root-ro").stdout.split(",")  # ...read-only again
    report = wait_healthy(box, 60)
    assert report["upgrade"]["outcome"] == "upgraded" and "read-only root" in report["upgrade"]["detail"]
    measured("read_only_root_write_s", float(re.search(r"\((\d+) s of it\)", report["upgrade"]["detail"])[1]))
    records.some(tickets=1, ratings=2)  # after

    measured("reboot_after_upgrade_s", box.reboot(*options))
    assert box.run("test", "-e", "/etc/written-in-ram", check=False).returncode == 1  # the overlay was on
    assert version(box) == new
    report = wait_healthy(box, 120)
    assert report["upgrade"]["outcome"] == "upgraded" and report["upgrade"]["to"] == new
    records.some(tickets=1, ratings=1)  # after the reboot


def test_a_rollback_with_the_read_only_root_on_leaves_that_root_alone(fleet, central):
    box, records = fleet, fleet.records
    good = version(box)
    bad = good.replace("+3", "+4")
    box.province.publish(derive(box.deb, bad, box.folder, broken=True))
    (result, took), _ = records.during(lambda: upgrade(box))
    assert result.returncode == 0, result.stdout + result.stderr + box.journal("kiosk-upgrade.service")
    measured("read_only_root_broken_upgrade_rolled_back_s", took)
    assert version(box) == good
    # Never written to the read-only root: only a version that passed the health check is.
    assert version(box, "/media/root-ro/var/lib/dpkg") == good
    report = wait_healthy(box, 60)
    assert report["upgrade"]["outcome"] == "rolled_back" and report["upgrade"]["to"] == bad
    records.some(tickets=1, ratings=1)  # after the rollback
    measured("reboot_after_rollback_s", box.reboot(*box.options))
    assert version(box) == good
    report = wait_healthy(box, 120)
    assert report["upgrade"]["outcome"] == "rolled_back"
    records.some(tickets=1, ratings=1)  # after the reboot


def test_every_record_is_at_the_central_exactly_once(fleet, central):
    box, records = fleet, fleet.records
    started = time.monotonic()
    box.wait_for("the kiosk's outbox empty", lambda: healthz()["unsynced"] == 0, 120, interval=0.5)
    measured("outbox_empty_after_s", time.monotonic() - started)

    def kiosk_ids(table: str) -> list[str]:
        return box.run("sqlite3", "/var/lib/kiosk/kiosk.db", KIOSK_IDS.format(table)).stdout.split()

    # Each once, and nothing else: what the kiosk holds (earlier tests' ratings too) is what the central holds.
    check_exactly_once(records, central.data_dir / "central.db", kiosk_ids)
    # Among them the presses answered while the broken release was installed and rolled back: it never reached
    # READY, so it took none (a record it had answered for would be missing, lost with the restored database).
    assert records.count() >= 14


def test_a_remote_setting_that_needs_a_restart_restarts_the_kiosk_under_systemd(fleet, central):
    """The commune sets the kiosk's language at the central's fleet page: the kiosk takes the signed document at its
    next sync, stops itself cleanly and systemd starts it again (Restart=always) with the new value — nobody at the
    kiosk — and the fleet page shows the version applied."""
    box = fleet
    central.cli("add-user", ADMIN, "--role", "admin", "--password", PASSWORD)
    web = sign_in(central.base)
    page = f"{central.base}/fleet/{central.device['KIOSK_DEVICE_ID']}/remote"
    assert 'lang="vi"' in requests.get(KIOSK + "/", timeout=10).text
    before = box.show("kiosk.service", "MainPID", "NRestarts")
    started = time.monotonic()
    saved = web.post(page, data={"csrf_token": csrf(web, page), "language": "en"}, timeout=10)
    assert saved.status_code == 200 and "phiên bản 1" in saved.text, saved.text

    def started_again():
        state = box.show("kiosk.service", "MainPID", "NRestarts", "ActiveState", "SubState")
        running = state["ActiveState"] == "active" and state["SubState"] == "running"
        return running and state["MainPID"] not in ("0", before["MainPID"]) and state

    state = box.wait_for("kiosk.service started again by systemd", started_again, 120, interval=0.5)
    assert int(state["NRestarts"]) == int(before["NRestarts"]) + 1  # a restart by systemd, not a crash loop
    wait_healthy(box, 60)
    measured("remote_setting_to_restarted_s", time.monotonic() - started)
    assert 'lang="en"' in requests.get(KIOSK + "/", timeout=10).text  # the new value, read at the start
    assert "restarting in" in box.journal("kiosk.service")
    shown = box.wait_for("the fleet page showing it applied", lambda: remote_of(web, central)["applied"] == 1, 30)
    assert shown
    assert box.show("kiosk.service", "NRestarts")["NRestarts"] == state["NRestarts"]  # and it stays up


# --- the central server's package --------------------------------------------------------------------------------


def test_the_central_package_installs_and_a_kiosk_syncs_to_it(fleet, tmp_path):
    box = fleet
    box.province.publish(box.central_deb)
    started = time.monotonic()
    box.run("apt-get", "purge", "-y", "-q", "kiosk", timeout=600, env={"DEBIAN_FRONTEND": "noninteractive"})
    box.run("apt-get", "update", "-q", timeout=600)
    box.run("apt-get", "install", "-y", "-q", "--no-install-recommends", "kiosk-central", timeout=900,
            env={"DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
    base = "http://127.0.0.1:8090"

    def front_page():
        state = box.show("kiosk-central.service", "ActiveState")["ActiveState"]
        return state == "active" and requests.get(base + "/login", timeout=5).status_code == 200

    box.wait_for("kiosk-central.service answering", front_page, 120, interval=0.5)
    measured("central_install_to_front_page_s", time.monotonic() - started)
    cli = ["runuser", "-u", "kiosk", "--", "env", "KIOSK_CONFIG=/etc/kiosk/kiosk.toml", "kiosk-central"]
    assert "add-device" in box.run(*cli, "--help").stdout
    out = box.run(*cli, "add-device", "Kiosk thử", "--commune", "XTN", "--commune-name", "UBND xã Thử").stdout
    device = {k: v for k, v in (line.split("=", 1) for line in out.splitlines() if line.startswith("KIOSK_"))}
    # A kiosk on this machine (from the checkout) takes a rating and syncs it to the packaged central.
    kiosk = KioskServer(tmp_path / "kiosk", env={"KIOSK_CENTRAL_URL": base, **device})
    kiosk.cli("init")
    with kiosk:
        rated = Records(kiosk.base)
        rated.some(tickets=0, ratings=1)
        kiosk.cli("sync", "--once")
        assert requests.get(kiosk.base + "/healthz", timeout=5).json()["unsynced"] == 0
    held = box.run("sqlite3", "/var/lib/kiosk/central.db", "SELECT lower(replace(id, '-', '')) FROM ratings").stdout
    assert held.split() == rated.made["ratings"]
