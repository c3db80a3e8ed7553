"""A power cut in the middle of an upgrade with the read-only overlay root on: the kiosk comes back by itself.

In a booted Debian bookworm container (as tests/deploy/test_package_real.py: `systemd-nspawn --volatile=overlay`,
its own root bound read-only at /media/root-ro, /var/lib/kiosk a folder of its own as the data partition), the
kiosk N is installed from the province's signed repository and syncs to a real `kiosk-central serve`. N+1 carries
one more migration. kiosk-upgrade.service installs it; as soon as N+1 answers /healthz (the database migrated)
and has taken a rating, the power goes (every process of the container killed at once, the RAM overlay lost) —
before N+1 was written to the lower root. At the next boot the kiosk is N again on its own: the database N+1
migrated set aside (with N+1's rating in it), the copy from before the upgrade restored with every record, the
outcome on /healthz and at the central, and every record the kiosk holds at the central exactly once.

Timings go to test-artifacts/power-cut-timings.json (docs/deploy.md quotes them). Boots the machine
``kiosk-test`` (port 8080): in the xdist group of every systemd test, never at once with another.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from tests.central_server import CentralServer, sign_in
from tests.container.machine import Container
from tests.container.packages import NEWER_REVISION, derive, ensure_debs
from tests.container.province import Province, StaticServer
from tests.container.records import Records, central_counts
from tests.container.report import skip_or_fail, timings
from tests.container.root import ensure_root
from tests.deploy.test_package_real import KIOSK, dpkg_version, healthz, version, wait_healthy
from tests.deploy.test_systemd_real import missing_requirements

pytestmark = [pytest.mark.systemd, pytest.mark.slow, pytest.mark.timeout(1800)]

measured = timings("power-cut-timings.json")


@pytest.fixture(scope="module")
def kiosk_n(tmp_path_factory):
    """A container with the kiosk N installed from the province's repository, syncing to a real central every 3 s,
    booted with the read-only overlay root on."""
    why = missing_requirements()
    if not why:
        why = next((f"needs {t}" for t in ("reprepro", "gpg", "dpkg-buildpackage", "dh") if not shutil.which(t)), None)
    skip_or_fail(why)
    folder = tmp_path_factory.mktemp("power-cut")
    deb = ensure_debs()["kiosk"]
    province, server = Province(folder, "province"), StaticServer()
    server.root = province.public
    central = CentralServer(folder / "central")
    central.cli("init")
    central.cli("add-user", "tinh", "--role", "admin", "--password", "mat-khau-2026")
    central.device = central.add_device("Kiosk Một cửa", "XTN", "UBND xã Thử Nghiệm")
    box = Container(ensure_root(), folder / "container")
    try:
        box.mount()
        box.boot()
        province.publish(deb)
        province.trust(box, server.url)
        box.run("apt-get", "update", "-q", timeout=600)
        box.run("apt-get", "install", "-y", "-q", "--no-install-recommends", "kiosk", timeout=900,
                env={"DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
        settings = {k.removeprefix("KIOSK_").lower(): v for k, v in central.device.items()}
        settings.update(central_url=central.base)
        with box.path("/etc/kiosk/kiosk.toml").open("a") as toml:
            toml.writelines(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
            toml.write("sync_interval = 3\n")
        box.poweroff()
        box.options = box.read_only_root()
        box.boot(*box.options)
        box.deb, box.folder, box.province, box.central = deb, folder, province, central
        with central:
            yield box
    finally:
        if box.leader:
            (folder / "journal.txt").write_text(box.run("journalctl", "--no-pager", check=False).stdout)
        box.destroy()
        server.close()
        province.close()


def revision(box: Container) -> str:
    return box.run("sqlite3", "/var/lib/kiosk/kiosk.db", "SELECT version_num FROM alembic_version").stdout.strip()


def test_a_power_cut_after_the_migrations_comes_back_on_the_previous_version(kiosk_n):
    box = kiosk_n
    wait_healthy(box, 120)
    records = Records(KIOSK)
    records.some(tickets=2, ratings=3)  # before the upgrade
    old = version(box)
    new = f"{old}+1"
    box.province.publish(derive(box.deb, new, box.folder, migration=True))
    started = time.monotonic()
    box.run("systemctl", "start", "--no-block", "kiosk-upgrade.service")

    def on_the_new_version():
        return version(box) == new and wait_healthy(box, 1) and revision(box) == NEWER_REVISION

    box.wait_for("N+1 answering /healthz on the migrated database", on_the_new_version, 600, interval=0.2)
    measured("upgrade_start_to_new_version_healthz_s", time.monotonic() - started)
    taken = Records(KIOSK)
    taken.some(tickets=0, ratings=1)  # a rating N+1 took before the power went
    assert dpkg_version(box, "/media/root-ro/var/lib/dpkg") == old  # not yet written to the read-only root
    box.power_cut()

    cut = time.monotonic()
    measured("boot_after_power_cut_s", box.boot(*box.options))
    report = wait_healthy(box, 300)
    measured("power_cut_to_healthz_s", time.monotonic() - cut)
    assert version(box) == old and revision(box) != NEWER_REVISION
    upgrade = report["upgrade"]
    assert upgrade["outcome"] == "interrupted" and upgrade["from"] == old and upgrade["to"] == new
    assert "interrupted by a restart" in upgrade["detail"] and "upgrade interrupted" in report["warnings"]
    assert box.run("test", "-e", "/var/lib/kiosk/upgrade-backup", check=False).returncode == 1
    # The database N+1 migrated is kept aside under a clear name, N+1's rating in it.
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
    fleet = sign_in(box.central.base, "tinh", "mat-khau-2026").get(box.central.base + "/fleet", timeout=30).text
    assert f"Nâng cấp lên bản {new} bị gián đoạn" in fleet and "Đã quay lại bản trước" not in fleet
    # The version was not marked bad: the next window tries it again.
    assert box.run("test", "-e", "/var/lib/kiosk/upgrade-rolled-back", check=False).returncode == 1
