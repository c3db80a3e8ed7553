"""A province's signing key (gpg, in its own keyring) and its apt repository made with systemd/province-repo.sh
(reprepro), as the province makes them: used by tests/deploy/test_package_real.py (one suite, served to a booted
container) and tests/deploy/test_province_rings.py (the rollout rings' suites)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Province:
    """A province key (gpg, in its own keyring) and its repository made with systemd/province-repo.sh."""

    def __init__(self, folder: Path, name: str, suites: tuple[str, ...] = ()) -> None:
        self.home = folder / f"gnupg-{name}"
        self.home.mkdir(mode=0o700, parents=True)
        self.dir = folder / f"repo-{name}"
        self.env = {**os.environ, "GNUPGHOME": str(self.home)}
        self.gpg("--quick-generate-key", f"Province {name} <{name}@example.vn>", "ed25519", "sign", "never")
        colons = self.gpg("--with-colons", "--list-secret-keys").stdout
        self.fingerprint = next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr:"))
        self.tool("init", str(self.dir), self.fingerprint, *suites)

    def gpg(self, *args: str) -> subprocess.CompletedProcess:
        command = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=True)

    def tool(self, *args: str) -> str:
        command = [str(REPO / "systemd/province-repo.sh"), *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=True).stdout

    def publish(self, deb: Path) -> None:
        self.tool("publish", str(self.dir), str(deb))

    @property
    def public(self) -> Path:
        return self.dir / "public"

    def close(self) -> None:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=self.env, check=False)
