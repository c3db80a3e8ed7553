"""The kiosk package's upgrades in a booted container (tests/container/machine.py), as the package tests on x86-64
and arm64 drive them: the installed version, a run of kiosk-upgrade.service (what kiosk-upgrade.timer starts in
its window) and the health-check deadline an operator sets in a drop-in."""

from __future__ import annotations

import subprocess
import time

from tests.container.machine import Container

#: The drop-in that sets the seconds kiosk-upgrade.sh gives a new version to come up (KIOSK_UPGRADE_DEADLINE).
DEADLINE_DROPIN = "/etc/systemd/system/kiosk-upgrade.service.d/deadline.conf"


def version(box: Container, admindir: str = "/var/lib/dpkg") -> str:
    """The kiosk package's installed version (in the dpkg database at ``admindir``)."""
    return box.run("dpkg-query", f"--admindir={admindir}", "-W", "-f=${Version}", "kiosk").stdout


def upgrade(box: Container, timeout: float = 900) -> tuple[subprocess.CompletedProcess, float]:
    """What kiosk-upgrade.timer starts in its window, started now; its result and the seconds it took."""
    started = time.monotonic()
    result = box.run("systemctl", "start", "kiosk-upgrade.service", check=False, timeout=timeout)
    return result, time.monotonic() - started


def deadline_dropin(seconds: int) -> tuple[str, str]:
    """The drop-in's path and text for a deadline of ``seconds`` (written before boot, or followed by
    ``systemctl daemon-reload``)."""
    return DEADLINE_DROPIN, f"[Service]\nEnvironment=KIOSK_UPGRADE_DEADLINE={seconds}\n"


def set_deadline(box: Container, seconds: int) -> None:
    """Give a new version ``seconds`` to come up, in the running container."""
    path, text = deadline_dropin(seconds)
    box.path(path).parent.mkdir(parents=True, exist_ok=True)
    box.path(path).write_text(text)
    box.systemctl("daemon-reload")


def upgrade_offered_by(box: Container, stranger) -> tuple[subprocess.CompletedProcess, float]:
    """An upgrade run while the province's address (``box.server``) serves the repository of ``stranger``, a
    Province whose key the kiosk does not trust; the province's repository served there again afterwards."""
    box.server.root = stranger.public
    try:
        return upgrade(box)
    finally:
        box.server.root = box.province.public


def check_refused(report: dict) -> None:
    """/healthz's ``report`` says the last upgrade was refused for the repository's signature."""
    assert report["upgrade"]["outcome"] == "refused" and "upgrade refused" in report["warnings"]
    assert "NO_PUBKEY" in report["upgrade"]["detail"] or "not signed" in report["upgrade"]["detail"]
