"""A minimal Debian bookworm root for the real-systemd tests, built once with debootstrap and cached.

The root holds what `systemd/install.sh` would install on plain Debian 12 (so that its `apt-get install`
finds everything present and the test does not download Chromium at every run), plus systemd and udev.
It is cached under the machine's temporary folder, keyed by a hash of everything that goes into it, so a
second run (and every test after the first) reuses it: building takes about six minutes, reusing it none.

    python -m tests.container.root          # build (or find) the root and print its path
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUITE = "bookworm"
#: The root's first packages (debootstrap), then the rest through apt inside it.
BASE = ["systemd", "systemd-sysv", "dbus", "libpam-systemd", "udev", "ca-certificates", "procps"]
#: What install.sh installs on Debian 12 for a kiosk with a screen (its own list), and grim for screenshots.
PACKAGES = [
    "python3",
    "python3-venv",
    "python3-pip",
    "sqlite3",
    "python3-usb",
    "fonts-dejavu-core",
    "espeak-ng",
    "sox",
    "alsa-utils",
    "libusb-1.0-0",
    "cage",
    "xwayland",
    "chromium",
    "grim",
]
#: Changing how the root is made changes the key too.
RECIPE_VERSION = "3"


def mirror() -> str:
    """The Debian mirror this machine's apt uses (the `URIs:` line of /etc/apt/sources.list.d/*.sources)."""
    for source in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for uri in re.findall(r"^URIs:\s*(\S+)", source.read_text(), re.M):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    listing = Path("/etc/apt/sources.list")
    if listing.exists():
        found = re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s", listing.read_text(), re.M)
        if found:
            return found.group(1)
    return "http://deb.debian.org/debian"


def cache_dir() -> Path:
    return Path(os.environ.get("KIOSK_TEST_ROOT_CACHE") or Path(tempfile.gettempdir()) / "kiosk-test-roots")


@contextmanager
def locked(lock_name: str) -> Iterator[Path]:
    """The cache folder (made if need be), one holder of its ``lock_name`` at a time, across processes and
    checkouts: one build of a thing at a time, and a second caller then finds the first one's."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / lock_name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield cache


def key() -> str:
    recipe = "\n".join([RECIPE_VERSION, SUITE, mirror(), *BASE, "--", *PACKAGES])
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def sources(base: str) -> str:
    security = base.rsplit("/", 1)[0] + "/debian-security"
    return f"deb {base} {SUITE} main\ndeb {base} {SUITE}-updates main\ndeb {security} {SUITE}-security main\n"


def _run(args: list[str], log, **kwargs) -> None:
    log.write(f"$ {' '.join(args)}\n")
    log.flush()
    subprocess.run(args, stdout=log, stderr=subprocess.STDOUT, check=True, **kwargs)


def in_root(root: Path, *command: str) -> list[str]:
    """A command inside the root without booting it (systemd-nspawn as a chroot, host network)."""
    return [
        "systemd-nspawn",
        "--quiet",
        "--register=no",
        "--keep-unit",
        f"--directory={root}",
        "--setenv=DEBIAN_FRONTEND=noninteractive",
        *command,
    ]


def build(target: Path, log) -> None:
    base = mirror()
    work = target.with_name(target.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    _run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(BASE)}", SUITE, str(work), base],
        log,
        timeout=1800,
    )
    (work / "etc/apt/sources.list").write_text(sources(base))
    # This machine's CA bundle (its HTTPS goes through a proxy whose authority only the host trusts).
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", work / "etc/ssl/certs/host-ca-certificates.crt")
    _run(in_root(work, "apt-get", "update", "-q"), log, timeout=600)
    _run(in_root(work, "apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES), log, timeout=1800)
    _run(in_root(work, "apt-get", "clean"), log, timeout=120)
    (work / "etc/hostname").write_text("kiosk-test\n")
    (work / "etc/machine-id").write_text("")  # a fresh id at every boot of a copy
    work.rename(target)


def ensure_root(log_path: Path | None = None) -> Path:
    """The cached root for the current recipe, built first if there is none."""
    target = cache_dir() / f"bookworm-{key()}"
    if (target / "usr/bin/cage").exists():
        return target
    with locked("build.lock") as cache:
        if (target / "usr/bin/cage").exists():
            return target
        with open(log_path or cache / f"bookworm-{key()}.log", "w") as log:
            build(target, log)
    return target


if __name__ == "__main__":
    print(ensure_root(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
