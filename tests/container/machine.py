"""A booted Debian bookworm container (systemd-nspawn --boot) to run our units under a real systemd.

The cached root (tests/container/root.py) is the lower layer of an overlay file system, so every test
module starts from the same clean root and leaves it untouched. The container shares the host's network
(pip and apt inside it reach the registries as the host does; its port 8080 is the host's). There is no
systemd on the host, so the container is not registered with machined: its systemd is reached with
``nsenter`` into the namespaces of its PID 1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
#: This machine's CA bundle, copied into the root when it was built (see root.py).
PIP_CONF = "[global]\ncert = /etc/ssl/certs/host-ca-certificates.crt\n"


class Container:
    """One container: an overlay over the cached root in ``work``, booted and powered off on demand."""

    def __init__(self, root: Path, work: Path, name: str = "kiosk-test") -> None:
        self.lower = root
        self.work = Path(work)
        self.name = name
        self.upper = self.work / "upper"
        self.merged = self.work / "merged"
        self.console = self.work / "console.log"
        self.nspawn: subprocess.Popen | None = None
        self.leader: int | None = None
        self.mounted = False
        #: The root file system seen again from the host, for read_only_root() (not covered by nspawn's overlay).
        self.root_again = self.work / "root-again"

    # --- file system ---------------------------------------------------------------------------------

    def mount(self) -> None:
        for folder in (self.upper, self.work / "overlay-work", self.merged):
            folder.mkdir(parents=True, exist_ok=True)
        options = f"lowerdir={self.lower},upperdir={self.upper},workdir={self.work / 'overlay-work'}"
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(self.merged)], check=True)
        self.mounted = True
        (self.merged / "etc/pip.conf").write_text(PIP_CONF)

    def read_only_root(self, data: str = "/var/lib/kiosk") -> tuple[str, ...]:
        """Options for :meth:`boot` that give the container a Pi's read-only overlay root (raspi-config's
        overlayroot): `/` an overlay whose changes are in RAM and lost at power-off, over the container's own
        file system, which is also mounted read-only at /media/root-ro (overlayroot's lower root); ``data`` on a
        writable "partition" of its own (a host folder, its first contents copied from the root, as
        docs/deploy.md §5 says). Writes through :meth:`path` go to the lower root, as if to the SD card."""
        if not os.path.ismount(self.root_again):
            self.root_again.mkdir(exist_ok=True)
            subprocess.run(["mount", "--bind", str(self.merged), str(self.root_again)], check=True)
        partition = self.work / "data-partition"
        if not partition.exists():
            subprocess.run(["cp", "-a", str(self.path(data)), str(partition)], check=True)
        return ("--volatile=overlay", f"--bind-ro={self.root_again}:/media/root-ro", f"--bind={partition}:{data}")

    def path(self, inside: str) -> Path:
        """A path of the container's root file system, seen from the host (not /run or /tmp: those are tmpfs)."""
        return self.merged / inside.lstrip("/")

    # --- boot and power off ----------------------------------------------------------------------------

    def boot(self, *options: str, timeout: float = 120) -> float:
        """Boot the container; seconds until systemd reported the system up (running or degraded)."""
        started = time.monotonic()
        with open(self.console, "ab") as console:
            self.nspawn = subprocess.Popen(
                [
                    "systemd-nspawn",
                    "--boot",
                    "--quiet",
                    "--register=no",
                    "--keep-unit",
                    f"--machine={self.name}",
                    f"--directory={self.merged}",
                    *options,
                ],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + timeout
        while self.leader is None:
            if self.nspawn.poll() is not None:
                raise RuntimeError(f"systemd-nspawn exited with {self.nspawn.returncode}:\n{self.console_tail()}")
            self.leader = self._pid_one()
            if self.leader is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the container did not start:\n{self.console_tail()}")
            else:
                time.sleep(0.1)
        while True:
            state = self.run("systemctl", "is-system-running", check=False, timeout=30).stdout.strip()
            if state in ("running", "degraded"):
                return time.monotonic() - started
            if time.monotonic() > deadline:
                raise RuntimeError(f"the container's systemd is still {state!r}:\n{self.console_tail()}")
            time.sleep(0.2)

    def _pid_one(self) -> int | None:
        """The child of systemd-nspawn that is PID 1 in its own namespace (the container's systemd).

        systemd-nspawn first forks a helper that forks the container's init and exits: only a process whose
        ``NSpid`` ends in 1 is the one to enter.
        """
        children = subprocess.run(["pgrep", "-P", str(self.nspawn.pid)], capture_output=True, text=True).stdout
        for child in children.split():
            try:
                status = Path(f"/proc/{child}/status").read_text()
            except OSError:
                continue
            nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
            if len(nspid) > 1 and nspid[-1] == "1":
                return int(child)
        return None

    def poweroff(self, timeout: float = 60) -> None:
        if self.nspawn is None:
            return
        if self.nspawn.poll() is None:
            self.run("systemctl", "poweroff", check=False, timeout=30)
            try:
                self.nspawn.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.nspawn.pid, signal.SIGKILL)  # our own systemd-nspawn's process group only
                self.nspawn.wait(30)
        self.nspawn = None
        self.leader = None

    def power_cut(self) -> None:
        """As a Pi whose power is cut: every process of the container killed at once (SIGKILL to its PID 1 ends its
        PID namespace), then systemd-nspawn, which throws away the RAM overlay of ``--volatile=overlay``."""
        assert self.nspawn is not None and self.leader is not None
        os.kill(self.leader, signal.SIGKILL)
        os.killpg(self.nspawn.pid, signal.SIGKILL)  # our own systemd-nspawn's process group only
        self.nspawn.wait(60)
        self.nspawn = None
        self.leader = None

    def reboot(self, *options: str) -> float:
        """Power off and boot again (with ``options``); seconds to the system up."""
        self.poweroff()
        return self.boot(*options)

    def destroy(self) -> None:
        self.poweroff()
        if os.path.ismount(self.root_again):
            subprocess.run(["umount", "--lazy", str(self.root_again)], check=False)
        if self.mounted:
            self._unmount()
        shutil.rmtree(self.work, ignore_errors=True)

    def _unmount(self) -> None:
        """Unmount the overlay. A process of the container may hold it a moment after power-off: try for five
        seconds, then detach it lazily (freed once let go) rather than leave it mounted under pytest's temp."""
        for _ in range(50):
            if subprocess.run(["umount", str(self.merged)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "--lazy", str(self.merged)], check=False)
        self.mounted = False

    def console_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.console.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    # --- commands inside ---------------------------------------------------------------------------------

    def run(
        self, *command: str, check: bool = True, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        """A command in every namespace of the container (as root), with a clean environment."""
        assert self.leader is not None, "the container is not running"
        environment = [f"{k}={v}" for k, v in {"PATH": PATH, "LANG": "C.UTF-8", **(env or {})}.items()]
        result = subprocess.run(
            ["nsenter", "--target", str(self.leader), "--all", "env", "-i", *environment, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result

    def systemctl(self, *args: str, check: bool = True) -> str:
        return self.run("systemctl", "--no-pager", *args, check=check).stdout

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        out = self.systemctl("show", unit, *(f"--property={p}" for p in properties))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, unit: str) -> str:
        args = ["journalctl", "--no-pager", "-o", "short-monotonic", "-u", unit]
        return self.run(*args, check=False).stdout

    def read(self, inside: str) -> bytes:
        """A file as the container sees it (also under its /run)."""
        assert self.leader is not None
        return subprocess.run(
            ["nsenter", "--target", str(self.leader), "--all", "cat", inside], capture_output=True, check=True
        ).stdout

    def wait_for(self, what: str, condition, timeout: float, interval: float = 0.1):
        """Poll ``condition()`` until it returns something true; that value (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = condition()
            except (OSError, AssertionError, subprocess.SubprocessError) as exc:
                last = exc
            else:
                if last:
                    return last
            time.sleep(interval)
        raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")
