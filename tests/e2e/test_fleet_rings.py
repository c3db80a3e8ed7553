"""Issue 24, staged rollout with both programs as processes: a real `kiosk-central serve` and a real `kiosk serve`
(its sync interval an hour: what reaches it after its first sync comes through its open watch;
tests/e2e/test_remote_settings.py's pair).

The kiosk's first sync tells the fleet page its version and that its last upgrade was rolled back; the province's
administrator puts it in ring 0 on the fleet page; the ring is in the kiosk's remote settings within seconds, the
kiosk keeps serving (no restart for it), and systemd/kiosk-upgrade-ring.sh, run as kiosk-upgrade runs it with the
kiosk's own settings, names suite ``ring0`` in the apt sources line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from kiosk import __version__
from tests.central_server import CentralServer
from tests.e2e.test_remote_settings import csrf, running_pair, until
from tests.server import KioskServer

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
REPO_LINE = "deb [signed-by=/etc/apt/keyrings/kiosk-province.gpg] http://central.example.vn/kiosk {} main\n"
ROLLED_BACK = {
    "outcome": "rolled_back",
    "from": __version__,
    "to": "9.9.9",
    "at": "2026-12-06T19:40:00Z",
    "detail": "kiosk.service did not reach READY and answer /healthz within 180 s",
}


@pytest.fixture
def pair(tmp_path):
    def rolled_back(kiosk: KioskServer) -> None:  # as kiosk-upgrade.sh left it
        (kiosk.data_dir / "upgrade.json").write_text(json.dumps(ROLLED_BACK))

    with running_pair(tmp_path, rolled_back) as running:
        yield running


def fleet_row(web: requests.Session, central: CentralServer) -> dict:
    (device,) = web.get(f"{central.base}/fleet.json", timeout=10).json()["devices"]
    return device


def test_a_ring_set_on_the_fleet_page_reaches_the_kiosk_and_names_its_suite(pair, tmp_path):
    central, kiosk, web, device_id = pair
    row = until(lambda: (r := fleet_row(web, central))["upgrade"] and r, 40, "the first sync did not tell the upgrade")
    assert row["version"] == __version__ and row["upgrade"]["back"] and row["upgrade"]["to"] == "9.9.9"
    page = web.get(f"{central.base}/fleet", timeout=10).text
    assert "Đã quay lại bản trước" in page and "bản 9.9.9 lỗi" in page

    started = time.monotonic()
    answer = web.post(
        f"{central.base}/fleet/{device_id}/ring",
        data={"csrf_token": csrf(web, f"{central.base}/fleet"), "ring": "ring0"},
        timeout=10,
    )
    assert answer.status_code == 200 and "Vòng 0 — thử trước" in answer.text  # back on the fleet page
    remote = kiosk.data_dir / "remote-settings.json"
    until(
        lambda: remote.exists() and json.loads(remote.read_text())["values"].get("upgrade_ring") == "ring0",
        15,
        "the ring did not reach the kiosk",
    )
    taken = time.monotonic() - started
    until(lambda: fleet_row(web, central)["remote"]["applied"] == 1, 10, "the fleet page does not show it applied")
    assert fleet_row(web, central)["remote"]["restart_pending"] is False
    assert requests.get(f"{kiosk.base}/healthz", timeout=10).json()["upgrade"]["outcome"] == "rolled_back"

    sources = tmp_path / "kiosk-province.list"
    sources.write_text(REPO_LINE.format("stable"))
    helper = [str(REPO / "systemd/kiosk-upgrade-ring.sh"), str(sources)]
    named = subprocess.run(helper, env={**kiosk.env, "KIOSK_PYTHON": sys.executable}, capture_output=True, text=True)
    assert named.returncode == 0, named.stderr
    assert sources.read_text() == REPO_LINE.format("ring0")
    print(f"ring on the kiosk {taken:.1f} s after the assignment")
