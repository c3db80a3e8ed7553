"""A power cut in the middle of an upgrade: the kiosk comes back by itself, without anyone travelling there.

In a booted Debian bookworm container, the kiosk N installed from the province's signed repository, syncing to a
real `kiosk-central serve`; kiosk-upgrade.service started, and the power cut (every process of the container
killed at once, then systemd-nspawn: with `--volatile=overlay` the RAM overlay is lost) at three moments:

1. while dpkg unpacks N+1 (the package half-installed): the next boot reinstalls N from the kept .deb, the
   database kept as it was;
2. while the broken N+2, installed, waits for its health check: kiosk-upgrade.service resumes the check at the
   next boot, and rolls back as always;
3. with the read-only overlay root on (as tests/deploy/test_package_real.py: its own root bound read-only at
   /media/root-ro, /var/lib/kiosk a folder of its own as the data partition), as soon as N+3, which carries one
   more migration, answers /healthz on the database it migrated and took a rating, before it was written to the
   lower root: the next boot is N again, the migrated database set aside with N+3's rating in it, the copy from
   before the upgrade restored.

The outcome shows on /healthz and on the central's fleet page, and every record the test made is in the kiosk's
database and at the central exactly once.

Timings go to test-artifacts/power-cut-timings.json (docs/deploy.md quotes them). Boots the machine
``kiosk-test`` (port 8080): in the xdist group of every systemd test, never at once with another.
"""

from __future__ import annotations

import shutil
import time

import pytest

from tests.central.helpers import TEST_PASSWORD
from tests.central_server import sign_in
from tests.container.central import serving_central, sync_to
from tests.container.machine import Container
from tests.container.packages import NEWER_REVISION, derive, ensure_debs
from tests.container.province import Province, StaticServer
from tests.container.records import Records, central_counts
from tests.container.report import skip_or_fail, timings
from tests.container.root import ensure_root
from tests.container.upgrades import version
from tests.deploy.test_package_real import KIOSK, healthz, wait_healthy
from tests.deploy.test_systemd_real import missing_requirements

pytestmark = [pytest.mark.systemd, pytest.mark.slow, pytest.mark.timeout(1800)]

measured = timings("power-cut-timings.json")


@pytest.fixture(scope="module")
def kiosk_n(tmp_path_factory):
    """A container with the kiosk N installed from the province's repository, syncing to a real central every 3 s."""
    why = missing_requirements()
    if not why:
        why = next((f"needs {t}" for t in ("reprepro", "gpg", "dpkg-buildpackage", "dh") if not shutil.which(t)), None)
    skip_or_fail(why)
    folder = tmp_path_factory.mktemp("power-cut")
    deb = ensure_debs()["kiosk"]
    province, server = Province(folder, "province"), StaticServer()
    server.root = province.public
    box = Container(ensure_root(), folder / "container")
    try:
        with serving_central(folder / "central") as central:
            central.cli("add-user", "tinh", "--role", "admin", "--password", TEST_PASSWORD)
            box.mount()
            box.boot()
            province.publish(deb)
            province.trust(box, server.url)
            box.run("apt-get", "update", "-q", timeout=600)
            box.run("apt-get", "install", "-y", "-q", "--no-install-recommends", "kiosk", timeout=900,
                    env={"DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
            sync_to(box, central, interval=3)
            box.systemctl("restart", "kiosk.service")
            box.deb, box.folder, box.province, box.central = deb, folder, province, central
            yield box
    finally:
        if box.leader:
            (folder / "journal.txt").write_text(box.run("journalctl", "--no-pager", check=False).stdout)
        box.destroy()
        server.close()
        province.close()


def revision(box: Container) -> str:
    return box.run("sqlite3", "/var/lib/kiosk/kiosk.db", "SELECT version_num FROM alembic_version").stdout.strip()


def cut_when(box: Container, what: str, condition, timeout: float = 600) -> float:
    """Start kiosk-upgrade.service, cut the power as soon as ``condition()`` holds; seconds from the start to it."""
    started = time.monotonic()
    box.run("systemctl", "start", "--no-block", "kiosk-upgrade.service")
    box.wait_for(what, condition, timeout, interval=0.2)
    took = time.monotonic() - started
    box.power_cut()
    return took


def test_a_power_cut_in_the_middle_of_dpkg_comes_back_on_the_previous_version(kiosk_n):
    box = kiosk_n
    wait_healthy(box, 120)
    records = box.records = Records(KIOSK)
    records.some(tickets=1, ratings=2)  # before the upgrade
    old = version(box)
    box.province.publish(derive(box.deb, f"{old}+1", box.folder))

    def unpacking():  # dpkg has begun replacing the package's files: "half-installed" until it is done
        return box.run("dpkg-query", "-W", "-f=${db:Status-Abbrev}", "kiosk").stdout.strip() not in ("ii", "")

    measured("upgrade_start_to_dpkg_unpacking_s", cut_when(box, "dpkg unpacking N+1", unpacking))
    cut = time.monotonic()
    box.boot()
    report = wait_healthy(box, 600)
    measured("half_installed_power_cut_to_healthz_s", time.monotonic() - cut)
    status = box.run("dpkg-query", "-W", "-f=${db:Status-Abbrev} ${Version}", "kiosk").stdout.split()
    assert status == ["ii", old]  # the kept .deb of N reinstalled
    assert report["upgrade"]["outcome"] == "interrupted" and report["upgrade"]["to"] == f"{old}+1"
    assert "before any migration; database kept as it was" in report["upgrade"]["detail"]
    assert box.run("test", "-e", "/var/lib/kiosk/upgrade-backup", check=False).returncode == 1
    assert "reinstalling" in box.journal("kiosk-upgrade-recover.service")
    records.some(tickets=1, ratings=1)  # after


def test_a_power_cut_before_the_health_check_passed_resumes_it(kiosk_n):
    box, records = kiosk_n, kiosk_n.records
    old = version(box)
    bad = f"{old}+2"
    dropin = box.path("/etc/systemd/system/kiosk-upgrade.service.d/deadline.conf")
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text("[Service]\nEnvironment=KIOSK_UPGRADE_DEADLINE=45\n")
    box.systemctl("daemon-reload")
    box.province.publish(derive(box.deb, bad, box.folder, broken=True))

    def waiting_for_the_check():  # installed whole, and kiosk-upgrade waits for it to come up (it never does)
        return version(box) == bad and "kiosk serve: broken release" in box.journal("kiosk.service")

    cut_when(box, "the broken N+2 installed and failing", waiting_for_the_check)
    cut = time.monotonic()
    box.boot()

    def done():
        upgrade = healthz().get("upgrade") or {}
        return upgrade.get("to") == bad and upgrade.get("outcome") != "interrupted" and upgrade

    upgrade = box.wait_for("kiosk-upgrade.service resumed and finished", done, 600, interval=1)
    measured("resumed_check_rolled_back_after_power_cut_s", time.monotonic() - cut)
    assert upgrade["outcome"] == "rolled_back" and version(box) == old
    assert upgrade["detail"].startswith("interrupted by a restart, checked again: kiosk.service did not reach READY")
    assert box.run("cat", "/var/lib/kiosk/upgrade-rolled-back").stdout.strip() == bad  # a verdict on the release
    wait_healthy(box, 120)
    records.some(tickets=1, ratings=1)  # after


def test_a_power_cut_after_the_migrations_comes_back_on_the_previous_version(kiosk_n):
    box, records = kiosk_n, kiosk_n.records
    # The read-only root on, as raspi-config does it (docs/deploy.md §5).
    box.poweroff()
    box.options = box.read_only_root()
    box.boot(*box.options)
    wait_healthy(box, 120)
    records.some(tickets=2, ratings=3)  # before the upgrade
    old = version(box)
    new = f"{old}+3"
    box.province.publish(derive(box.deb, new, box.folder, migration=True))
    taken = Records(KIOSK)

    def on_the_new_version():  # N+3 answers on the database it migrated, takes a rating, not yet on the card
        if version(box) == new and wait_healthy(box, 1) and revision(box) == NEWER_REVISION:
            taken.some(tickets=0, ratings=1)
            return version(box, "/media/root-ro/var/lib/dpkg") == old

    took = cut_when(box, "N+3 answering /healthz on the migrated database", on_the_new_version)
    measured("upgrade_start_to_new_version_healthz_s", took)

    cut = time.monotonic()
    measured("boot_after_power_cut_s", box.boot(*box.options))
    report = wait_healthy(box, 300)
    measured("power_cut_to_healthz_s", time.monotonic() - cut)
    assert version(box) == old and revision(box) != NEWER_REVISION
    upgrade = report["upgrade"]
    assert upgrade["outcome"] == "interrupted" and upgrade["from"] == old and upgrade["to"] == new
    assert "interrupted by a restart" in upgrade["detail"] and "upgrade interrupted" in report["warnings"]
    assert box.run("test", "-e", "/var/lib/kiosk/upgrade-backup", check=False).returncode == 1
    # The database N+3 migrated is kept aside under a clear name, N+3's rating in it.
    (aside,) = box.run("sh", "-c", f"ls /var/lib/kiosk/kiosk.db.migrated-by-{new}-*[0-9]").stdout.split()
    query = "SELECT lower(replace(id, '-', '')) FROM ratings"
    assert taken.made["ratings"][0] in box.run("sqlite3", aside, query).stdout.split()
    records.some(tickets=1, ratings=1)  # after the power cut
    # Every record from before the upgrade, and after it, is in the kiosk's database and reaches the central once.
    box.wait_for("the kiosk's outbox empty", lambda: healthz()["unsynced"] == 0, 120, interval=0.5)
    held = central_counts(box.central.data_dir / "central.db")
    for table, ids in records.made.items():
        kiosk_ids = box.run("sqlite3", "/var/lib/kiosk/kiosk.db", f"SELECT lower(replace(id, '-', '')) FROM {table}")
        assert set(ids) <= set(kiosk_ids.stdout.split())
        assert {i: n for i, n in held[table].items() if n != 1} == {} and set(ids) <= set(held[table])
    # The central's fleet page shows the outcome (sent with the sync batches).
    fleet = sign_in(box.central.base, "tinh", TEST_PASSWORD).get(box.central.base + "/fleet", timeout=30).text
    assert f"Nâng cấp lên bản {new} bị gián đoạn" in fleet and "Đã quay lại bản trước" not in fleet
    # The version was not marked bad: the next window tries it again.
    assert box.run("cat", "/var/lib/kiosk/upgrade-rolled-back").stdout.strip() == f"{old}+2"  # the broken N+2 only
