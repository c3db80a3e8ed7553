"""The kiosk's and kiosk-central's Debian packages, built once with dpkg-buildpackage (debian/) and cached, and
the versions a test derives from the kiosk's: the same files under a newer version, or a broken one whose
``kiosk serve`` exits at start.

The cache sits beside the container roots (tests/container/root.py), keyed by a hash of the checkout's files
that go into the packages, so a second run reuses them: building both took 11–14 min on a loaded 2-core
machine (the kiosk's alone 1–8 min), reusing them none.

    python -m tests.container.packages      # build (or find) both packages and print their paths
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.container.root import cache_dir, locked

REPO = Path(__file__).resolve().parents[2]
#: What goes into the package (the rest of the checkout does not change it).
SOURCES = ("setup.py", "pyproject.toml", "README.md", "debian", "systemd", "docs/deploy.md", "kiosk", "web",
           "hardware", "sync", "common", "central")  # fmt: skip
SKIPPED = ("__pycache__", ".egg-info", ".pyc")


def _files() -> list[Path]:
    found = []
    for name in SOURCES:
        path = REPO / name
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [p for p in found if not any(part.endswith(SKIPPED) for part in p.parts)]


def key() -> str:
    digest = hashlib.sha256()
    for path in _files():
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_debs(log_path: Path | None = None) -> dict[str, Path]:
    """The kiosk and kiosk-central packages of this checkout (``dpkg-buildpackage -b``), built first if needed."""
    target = cache_dir() / f"debs-{key()}"
    if _complete(target):
        os.utime(target)  # in use: kept by another checkout's cleanup below for an hour
        return _complete(target)
    with locked("deb.lock"):  # one build at a time (another pytest run); a second caller reuses it
        return _complete(target) or _build(target, log_path)


def _complete(target: Path) -> dict[str, Path]:
    """The two packages built into ``target``, or an empty dict when they are not both there."""
    built = {deb.name.split("_")[0]: deb for deb in target.glob("*.deb")}
    return built if {"kiosk", "kiosk-central"} <= set(built) else {}


def _build(target: Path, log_path: Path | None) -> dict[str, Path]:
    """Build the package into ``target`` (whole or not at all), then drop other checkouts' idle packages."""
    with open(log_path or target.parent / f"debs-{key()}.log", "w") as log:
        build_into(target, "kiosk*.deb", lambda source: subprocess.run(
            ["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=source, stdout=log, stderr=subprocess.STDOUT, check=True,
            timeout=2400))  # fmt: skip
    for older in target.parent.glob("debs-*"):  # packages of earlier checkouts: 50 MB each
        if older.is_dir() and older != target and time.time() - older.stat().st_mtime > 3600:
            shutil.rmtree(older, ignore_errors=True)
    return {deb.name.split("_")[0]: deb for deb in target.glob("*.deb")}


def build_into(target: Path, pattern: str, build: Callable[[Path], object]) -> None:
    """``build(source)`` in a copy of the checkout's packaged files (:func:`_files`), then the files matching
    ``pattern`` it left beside ``source`` (dpkg-buildpackage's output) moved into ``target`` whole or not at all:
    a reader finds every package there or none."""
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        source = Path(work) / "src"
        for path in _files():
            copy = source / path.relative_to(REPO)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        build(source)
        staged = Path(work) / "out"
        staged.mkdir()
        for deb in Path(work).glob(pattern):
            shutil.move(deb, staged / deb.name)
        staged.rename(target)


def field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


#: The revision of the migration a derived package adds (``derive(migration=True)``).
NEWER_REVISION = "9000_derived"


def add_migration(tree: Path) -> None:
    """A no-op migration after the package's newest, in its extracted ``tree``."""
    from kiosk.db import head_revision

    (versions,) = tree.glob("opt/kiosk/venv/lib/python3*/site-packages/kiosk/migrations/versions")
    (versions / f"{NEWER_REVISION}.py").write_text(
        f'"""A derived package\'s migration (tests/container/packages.py): nothing but a new revision."""\n\n'
        f'revision = "{NEWER_REVISION}"\ndown_revision = "{head_revision(versions)}"\nbranch_labels = None\n'
        "depends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n"
    )


def derive(deb: Path, version: str, out: Path, *, broken: bool = False, migration: bool = False) -> Path:
    """The package ``deb`` as version ``version`` in ``out``; ``broken``: its ``kiosk serve`` exits at start
    (every other command works, so it installs and migrates like a real bad release); ``migration``: one more
    database migration (it changes nothing but the revision: a version before it cannot read the database after
    it, :data:`NEWER_REVISION`). Compressed lightly:
    xz takes a minute and a half for the 90 MB of the virtual environment on a busy machine."""
    tree = out / f"tree-{version}"
    shutil.rmtree(tree, ignore_errors=True)
    subprocess.run(["dpkg-deb", "--raw-extract", str(deb), str(tree)], check=True)
    control = tree / "DEBIAN/control"
    lines = control.read_text().splitlines()
    control.write_text("\n".join(f"Version: {version}" if x.startswith("Version:") else x for x in lines) + "\n")
    if migration:
        add_migration(tree)
    if broken:
        program = tree / "opt/kiosk/venv/bin/kiosk"
        program.rename(program.with_name("kiosk-real"))
        program.write_text(
            "#!/bin/sh\n# A deliberately broken release (tests/container/packages.py): serve exits at start.\n"
            'if [ "$1" = serve ]; then echo "kiosk serve: broken release" >&2; exit 1; fi\n'
            'exec /opt/kiosk/venv/bin/kiosk-real "$@"\n'
        )
        program.chmod(0o755)
        sums = tree / "DEBIAN/md5sums"
        lines = [x for x in sums.read_text().splitlines() if not x.endswith("opt/kiosk/venv/bin/kiosk")]
        sums.write_text("\n".join(lines) + "\n")
    result = out / f"kiosk_{version}_{field(deb, 'Architecture')}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(tree), str(result)], check=True,
                   capture_output=True)  # fmt: skip
    shutil.rmtree(tree)
    return result


if __name__ == "__main__":
    for built in ensure_debs(Path(sys.argv[1]) if len(sys.argv) > 1 else None).values():
        print(built)
