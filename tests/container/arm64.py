"""The Raspberry Pi's architecture on this x86 machine: a Debian bookworm arm64 root run through qemu-user, and the
kiosk package for arm64 built on this machine, as a province builds it on its x86 build machine.

The kernel hands every aarch64 program to ``qemu-aarch64-static`` (binfmt_misc, Debian's qemu-user-static and
binfmt-support), so debootstrap and systemd-nspawn work on an arm64 root as on a Pi, 5–7 times slower. The root is
as small as the package test needs (no screen: no cage or Chromium): debootstrap's minbase with systemd, Python and
the kiosk package's dependencies, in one debootstrap step (no second apt step, no build tools: the package is not
built there). It is cached beside the x86 roots (tests/container/root.py), keyed by its recipe; the package, by the
hash of the checkout's packaged files (tests/container/packages.py).

    python -m tests.container.arm64         # build (or find) the arm64 root and the package; print their paths
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.container import packages
from tests.container.root import SUITE, cache_dir, locked, mirror

QEMU = Path("/usr/bin/qemu-aarch64-static")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
#: One debootstrap step: systemd and the kiosk package's Depends (debian/control).
INCLUDE = ["systemd", "systemd-sysv", "dbus", "ca-certificates", "python3", "adduser", "fonts-dejavu-core", "espeak-ng",
           "sox", "alsa-utils", "libusb-1.0-0"]  # fmt: skip
#: Changing how the root is made changes the key too.
RECIPE_VERSION = "2"
#: Where this machine's CA bundle is kept inside the root: installing ca-certificates rewrites the usual one.
HOST_CA = "/etc/ssl/certs/host-ca-certificates.crt"


def missing() -> str | None:
    """Why this machine cannot run an arm64 root (None when it can)."""
    if not QEMU.exists():
        return f"needs {QEMU} (apt-get install qemu-user-static binfmt-support)"
    for tool in ("update-binfmts", "debootstrap", "systemd-nspawn", "nsenter"):
        if not shutil.which(tool):
            return f"needs {tool} (apt-get install binfmt-support debootstrap systemd-container)"
    return None


def enable_binfmt() -> None:
    """Make the kernel run aarch64 programs through qemu: mount binfmt_misc (a container or a machine without
    systemd has not) and register qemu-aarch64 with the F flag (the interpreter opened now, usable in a chroot)."""
    if not (BINFMT / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=True)
    if not (BINFMT / "qemu-aarch64").exists():
        subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], check=True, capture_output=True)
    entry = (BINFMT / "qemu-aarch64").read_text()
    flags = next((line.split()[1] for line in entry.splitlines() if line.startswith("flags:")), "")
    if not entry.startswith("enabled") or "F" not in flags:
        raise RuntimeError(f"binfmt_misc's qemu-aarch64 is not usable in a chroot:\n{entry}")


def key() -> str:
    recipe = "\n".join([RECIPE_VERSION, SUITE, "arm64", "minbase", mirror(), *INCLUDE])
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def _timed(timings: dict[str, float], name: str, args: list[str], log, cwd: Path | None = None) -> None:
    """Run ``args``, each line of its output in ``log`` after the seconds since it started (where the time goes)."""
    log.write(f"$ {' '.join(args)}\n")
    started = time.monotonic()
    output = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True, "errors": "replace"}
    with subprocess.Popen(args, cwd=cwd, **output) as run:
        for line in run.stdout:
            log.write(f"[{time.monotonic() - started:7.1f}] {line}")
            log.flush()
        run.wait()
    if run.returncode != 0:
        raise subprocess.CalledProcessError(run.returncode, args)
    timings[name] = round(time.monotonic() - started, 1)


def build_root(target: Path, log, timings: dict[str, float]) -> None:
    work = target.with_name(target.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    command = ["debootstrap", "--arch=arm64", "--variant=minbase", f"--include={','.join(INCLUDE)}", SUITE,
               str(work), mirror()]  # fmt: skip
    _timed(timings, "debootstrap_s", command, log)
    for deb in (work / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()  # 250 MB that nothing reads again
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", work / HOST_CA.lstrip("/"))
    (work / "etc/hostname").write_text("kiosk-arm64\n")
    (work / "etc/machine-id").write_text("")  # a fresh id at every boot of a copy
    work.rename(target)


def ensure_root(timings: dict[str, float] | None = None) -> Path:
    """The cached arm64 root for the current recipe, built first if there is none (its steps' seconds into
    ``timings``)."""
    target = cache_dir() / f"bookworm-arm64-{key()}"
    if not (target / "usr/bin/python3").exists():
        with locked("build-arm64-root.lock"):
            if not (target / "usr/bin/python3").exists():
                with open(target.with_name(target.name + ".log"), "w") as log:
                    build_root(target, log, timings if timings is not None else {})
    return target


def ensure_deb(timings: dict[str, float] | None = None) -> Path:
    """The kiosk package of this checkout for arm64, cross-built on this machine (``dpkg-buildpackage -a arm64``:
    debian/make-venv then installs the aarch64 wheels, lgpio too, as the ``[pi]`` extra of debian/rules on arm64),
    built first if needed. The same debian/ as the x86 package; ``-d``: no cross compiler (nothing is compiled).
    Compressed with gzip -1, as the x86 test packages (the files are the same)."""
    timings = timings if timings is not None else {}
    target = cache_dir() / f"arm64-deb-{packages.key()}"
    built = sorted(target.glob("kiosk_*_arm64.deb"))
    if built:
        return built[0]
    with locked("build-arm64-deb.lock"):
        built = sorted(target.glob("kiosk_*_arm64.deb"))
        if built:
            return built[0]
        command = ["env", "DPKG_DEB_COMPRESSOR_TYPE=gzip", "DPKG_DEB_COMPRESSOR_LEVEL=1",
                   "dpkg-buildpackage", "-a", "arm64", "-b", "-us", "-uc", "-d", "-Ppkg.kiosk.nocentral"]  # fmt: skip
        with open(cache_dir() / f"arm64-deb-{packages.key()}.log", "w") as log:
            packages.build_into(
                target, "kiosk_*_arm64.deb", lambda source: _timed(timings, "package_build_s", command, log, source)
            )
    for older in cache_dir().glob("arm64-deb-*"):  # packages of earlier checkouts
        if older.is_dir() and older != target:
            shutil.rmtree(older, ignore_errors=True)
    return sorted(target.glob("kiosk_*_arm64.deb"))[0]


if __name__ == "__main__":
    steps: dict[str, float] = {}
    enable_binfmt()
    arm64_root = ensure_root(steps)
    print(arm64_root)
    print(ensure_deb(steps))
    print(json.dumps(steps), file=sys.stderr)
