"""A small disk that really fills up: a tmpfs mounted for one test (root and mount(2), as on CI's container)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` (``"32m"``) on ``mount`` and unmount it at the end, whatever happened.

    Skips the test, saying why, where a tmpfs cannot be mounted (not root, or no mount(2) in a container).
    """
    mount.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("filling a disk for real needs a small tmpfs, and mounting one needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here to fill a disk for real: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def free_bytes(path: Path) -> int:
    """Bytes a process may still write on the disk of ``path``."""
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(mount: Path, leave: int) -> Path:
    """A filler file that leaves ``leave`` bytes free on the disk."""
    filler = mount / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(free_bytes(mount) - leave, 0))
    return filler
