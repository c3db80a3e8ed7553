"""Issue 24, rollout rings with Debian's own tools: the province's repository has a suite per ring
(systemd/province-repo.sh with a real reprepro and a real gpg key), `publish` reaches ring 0's suite only and
`promote` copies it to `stable`; a kiosk's ring (the remote setting ``upgrade_ring``, as the kiosk reads it)
names the suite in its apt sources line (systemd/kiosk-upgrade-ring.sh, run for real on a file), and a real apt
then sees that suite's version, signature checked against the province's key only.

No container: apt runs against the repository's folder (``file:``) with its own state folders; what a booted
kiosk does with it is tests/deploy/test_package_real.py's part.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.container.province import REPO, Province
from tests.container.report import skip_or_fail

RING_HELPER = REPO / "systemd/kiosk-upgrade-ring.sh"
TOOLS = ("reprepro", "gpg", "gpgv", "dpkg-deb", "apt-get", "apt-cache")


@pytest.fixture
def province(tmp_path):
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing:
        skip_or_fail(f"needs {', '.join(missing)} (apt-get install reprepro gnupg apt dpkg)")
    made = Province(tmp_path, "province", ("ring0", "stable"))
    yield made
    made.close()


def deb(folder: Path, version: str) -> Path:
    """A small package named kiosk (what reprepro and apt see of the real one: its name and version)."""
    tree = folder / f"kiosk-{version}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: kiosk\nVersion: {version}\nSection: misc\nPriority: optional\nArchitecture: amd64\n"
        "Maintainer: Test <test@example.vn>\nDescription: kiosk test package\n"
    )
    out = folder / f"kiosk_{version}_amd64.deb"
    subprocess.run(["dpkg-deb", "--build", str(tree), str(out)], check=True, capture_output=True)
    return out


class Apt:
    """apt with its own state, reading one sources file: what kiosk-upgrade.sh's apt sees of the province."""

    def __init__(self, folder: Path, province: Province) -> None:
        self.folder = folder
        self.list = folder / "kiosk-province.list"
        for part in ("lists/partial", "cache/archives/partial", "parts", "prefs"):
            (folder / part).mkdir(parents=True, exist_ok=True)
        self.province = province
        self.options = [
            f"-oDir::Etc::SourceList={self.list}",
            f"-oDir::Etc::SourceParts={folder / 'parts'}",
            f"-oDir::Etc::PreferencesParts={folder / 'prefs'}",
            "-oDir::Etc::Preferences=/dev/null",
            f"-oDir::State::Lists={folder / 'lists'}",
            "-oDir::State::status=/dev/null",
            f"-oDir::Cache={folder / 'cache'}",
            "-oAPT::Sandbox::User=root" if os.getuid() == 0 else "-oAPT::Sandbox::User=",
            "-oDebug::NoLocking=1",
            "-q",
        ]

    def line(self, suite: str) -> str:
        key, public = self.province.public / "province.gpg", self.province.public
        return f"deb [signed-by={key}] file://{public} {suite} main\n"

    def candidate(self) -> str | None:
        """``apt-get update`` then the kiosk's candidate version (None: the suite offers none)."""
        update = subprocess.run(["apt-get", *self.options, "update"], capture_output=True, text=True)
        assert update.returncode == 0 and "W: " not in update.stdout + update.stderr, update.stdout + update.stderr
        policy = subprocess.run(["apt-cache", *self.options, "policy", "kiosk"], capture_output=True, text=True)
        found = [line.split()[1] for line in policy.stdout.splitlines() if line.strip().startswith("Candidate:")]
        return found[0] if found and found[0] != "(none)" else None

    def offered(self, suite: str) -> str | None:
        self.list.write_text(self.line(suite))
        return self.candidate()


def test_publish_reaches_ring_0_only_and_promote_brings_it_to_stable(province, tmp_path):
    apt = Apt(tmp_path / "apt", province)
    province.publish(deb(tmp_path, "0.1.0"))
    assert (apt.offered("ring0"), apt.offered("stable")) == ("0.1.0", None)
    assert "stable|main|amd64: kiosk 0.1.0" in province.tool("promote", str(province.dir))
    assert (apt.offered("ring0"), apt.offered("stable")) == ("0.1.0", "0.1.0")

    province.publish(deb(tmp_path, "0.1.1"))  # the next release: ring 0's kiosks try it, the rest stay
    assert (apt.offered("ring0"), apt.offered("stable")) == ("0.1.1", "0.1.0")
    listed = province.tool("list", str(province.dir))
    assert "ring0|main|amd64: kiosk 0.1.1" in listed and "stable|main|amd64: kiosk 0.1.0" in listed
    province.tool("promote", str(province.dir), "ring0", "stable")
    assert (apt.offered("ring0"), apt.offered("stable")) == ("0.1.1", "0.1.1")
    # Both suites are signed by the province's key (apt checked it above; gpgv says so on its own too).
    for suite in ("ring0", "stable"):
        inrelease = province.public / "dists" / suite / "InRelease"
        verified = subprocess.run(
            ["gpgv", "--keyring", str(province.public / "province.gpg"), str(inrelease)], capture_output=True, text=True
        )
        assert verified.returncode == 0, verified.stderr


def promote(province: Province) -> subprocess.CompletedProcess:
    command = [str(REPO / "systemd/province-repo.sh"), "promote", str(province.dir)]
    return subprocess.run(command, env=province.env, capture_output=True, text=True)


def test_promote_says_why_it_cannot(province, tmp_path):
    empty = promote(province)
    assert empty.returncode == 1 and "ring0 is empty" in empty.stderr
    single = Province(tmp_path / "single", "single")  # one suite (bookworm): a repository without rings
    try:
        single.publish(deb(tmp_path, "0.1.0"))
        alone = promote(single)
        assert alone.returncode == 1 and "nothing to promote" in alone.stderr
        assert "bookworm|main|amd64: kiosk 0.1.0" in single.tool("list", str(single.dir))
    finally:
        single.close()


def kiosk_data(folder: Path, ring: str | None) -> dict[str, str]:
    """A kiosk's kiosk.toml and data folder, with the remote settings the kiosk writes when the central's
    document names ``ring``; the environment the ring helper reads them with."""
    data = folder / "kiosk-data"
    data.mkdir(parents=True)
    (folder / "kiosk.toml").write_text(f'data_dir = "{data}"\n')
    if ring is not None:
        document = {"device": "d", "version": 3, "values": {"upgrade_ring": ring, "home_screen": "ticket"}}
        (data / "remote-settings.json").write_text(json.dumps(document))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return {**env, "KIOSK_CONFIG": str(folder / "kiosk.toml"), "KIOSK_PYTHON": sys.executable}


def name_ring(apt: Apt, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(RING_HELPER), str(apt.list)], env=env, capture_output=True, text=True, cwd=REPO)


def test_the_kiosks_ring_names_the_suite_apt_upgrades_from(province, tmp_path):
    apt = Apt(tmp_path / "apt", province)
    province.publish(deb(tmp_path, "0.1.0"))
    province.tool("promote", str(province.dir))
    province.publish(deb(tmp_path, "0.1.1"))
    installed = apt.line("stable")  # as a kiosk is installed: the rest's suite
    apt.list.write_text(f"# the province's repository\n{installed}")

    done = name_ring(apt, kiosk_data(tmp_path / "ring0", "ring0"))
    assert done.returncode == 0, done.stderr
    assert apt.list.read_text() == f"# the province's repository\n{apt.line('ring0')}"
    assert "ring0" in done.stdout and apt.candidate() == "0.1.1"  # ring 0 tries the new release

    done = name_ring(apt, kiosk_data(tmp_path / "back", "stable"))  # moved back to the rest
    assert done.returncode == 0, done.stderr
    assert apt.list.read_text().endswith(installed) and apt.candidate() == "0.1.0"


def test_a_kiosk_without_a_ring_keeps_its_line_and_a_bad_ring_changes_nothing(province, tmp_path):
    apt = Apt(tmp_path / "apt", province)
    apt.list.write_text(apt.line("stable"))
    before = apt.list.stat().st_mtime_ns
    unset = name_ring(apt, kiosk_data(tmp_path / "unset", None))
    assert unset.returncode == 0 and unset.stdout == "" and apt.list.stat().st_mtime_ns == before
    bad = subprocess.run(
        [str(RING_HELPER), str(apt.list), "ring0 main\ndeb http://evil"], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "not a suite name" in bad.stderr
    assert apt.list.read_text() == apt.line("stable") and list(apt.folder.glob("kiosk-province.list.*")) == []
