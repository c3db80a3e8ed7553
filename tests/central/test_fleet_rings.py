"""Issue 24, staged rollout on the fleet page: each kiosk's version and last upgrade come with its sync batches
(a rollback is marked "Đã quay lại bản trước" with the version that failed, and the page counts the kiosks on each
version); the province's administrators put kiosks in rings (ring 0 tries a release first), per kiosk or ~5 % at
random spread over communes, and the ring reaches the kiosk as its remote setting ``upgrade_ring``.

Real kiosks sync through the real client with the central app served over loopback (SQLite and PostgreSQL). The
run with both programs as processes is tests/e2e/test_fleet_rings.py; the repository's suites and the sources
line the ring names are tests/deploy/test_province_rings.py.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from central.fleet_rings import pick
from central.registry import add_commune, add_device, add_province, add_user
from central.remote_models import RemoteSettings
from common import settings as settings_mod
from kiosk import __version__
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, TEST_PASSWORD, sign_in, token

ROLLED_BACK = {
    "outcome": "rolled_back",
    "from": "0.1.0",
    "to": "0.1.1",
    "at": "2026-11-20T02:41:07Z",
    "detail": "kiosk.service did not reach READY and answer /healthz within 180 s; back on 0.1.0 in 150 s",
}


def user(central_app, username: str, role: str = "admin", commune: str | None = None, province: str | None = None):
    extra = {"province_code": province} if province else {}
    add_user(central_app.extensions["central"], username, TEST_PASSWORD, role, commune_code=commune, **extra)
    return sign_in(central_app, username)


def fleet_rows(client) -> dict[str, dict]:
    return {d["id"]: d for d in client.get("/fleet.json").json["devices"]}


def put_in_ring(client, device_id: str, ring: str):
    return client.post(f"/fleet/{device_id}/ring", data={"csrf_token": token(client, "/fleet"), "ring": ring})


def versions_saved(central) -> int:
    with central.sessions() as session:
        return session.scalar(select(func.count()).select_from(RemoteSettings))


def test_the_version_and_a_rollback_reach_the_fleet_page_with_a_sync(central_app, device, serve, make_kiosk):
    url = serve(central_app).url
    kiosk = make_kiosk(url, device)
    other = make_kiosk(url, add_device(central_app.extensions["central"], "Quầy 2", COMMUNE), "other")
    (kiosk.settings.data_path / "upgrade.json").write_text(json.dumps(ROLLED_BACK))
    assert SyncClient(kiosk, backoff=0.01).run().ok and SyncClient(other, backoff=0.01).run().ok
    client = user(central_app, "quantri")

    shown = fleet_rows(client)[device[0]]
    assert shown["version"] == __version__
    assert shown["upgrade"]["back"] is True and shown["upgrade"]["to"] == "0.1.1"
    assert shown["upgrade"]["at"] == "20/11/2026 09:41"  # the office's time (Asia/Ho_Chi_Minh)
    page = client.get("/fleet").text
    assert "Đã quay lại bản trước" in page and "bản 0.1.1 lỗi" in page and "back on 0.1.0" in page
    assert f"<b>{__version__}</b>: 2 thiết bị" in page  # the count per version at the top
    assert "1 thiết bị đã quay lại bản trước" in page

    upgraded = {"outcome": "upgraded", "from": "0.1.0", "to": "0.1.2", "at": "2026-11-21T02:10:00Z", "detail": "up"}
    (kiosk.settings.data_path / "upgrade.json").write_text(json.dumps(upgraded))
    assert SyncClient(kiosk, backoff=0.01).run().ok
    shown = fleet_rows(client)[device[0]]
    assert shown["upgrade"]["back"] is False and shown["upgrade"]["detail"] == "up"
    page = client.get("/fleet").text
    assert "Đã quay lại bản trước" not in page and "đã nâng cấp từ bản 0.1.0" in page


def test_an_upgrade_a_power_cut_interrupted_is_shown_apart_from_a_failed_release(
    central_app, device, serve, make_kiosk
):
    kiosk = make_kiosk(serve(central_app).url, device)
    interrupted = {**ROLLED_BACK, "outcome": "interrupted", "detail": "upgrade 0.1.0 -> 0.1.1 interrupted by a restart"}
    (kiosk.settings.data_path / "upgrade.json").write_text(json.dumps(interrupted))
    assert SyncClient(kiosk, backoff=0.01).run().ok
    client = user(central_app, "quantri")
    shown = fleet_rows(client)[device[0]]
    assert shown["upgrade"]["outcome"] == "interrupted" and shown["upgrade"]["back"] is False
    page = client.get("/fleet").text
    assert "Nâng cấp lên bản 0.1.1 bị gián đoạn (mất điện hoặc khởi động lại)" in page
    assert "interrupted by a restart" in page
    # Not a release that failed: not marked or counted as rolled back.
    assert "Đã quay lại bản trước" not in page and "đã quay lại bản trước ở lần nâng cấp" not in page


def test_a_bad_upgrade_status_is_ignored_and_the_batch_stored(central_app, device, serve, make_kiosk):
    kiosk = make_kiosk(serve(central_app).url, device)
    (kiosk.settings.data_path / "upgrade.json").write_text(json.dumps({**ROLLED_BACK, "outcome": "exploded"}))
    assert SyncClient(kiosk, backoff=0.01).run().ok
    assert fleet_rows(user(central_app, "quantri"))[device[0]]["upgrade"] is None


def test_only_the_provinces_administrators_assign_rings(central_app, central, device):
    commune_admin = user(central_app, "canbo.xa", "commune_admin", COMMUNE)
    add_province(central, "42", "Hà Tĩnh")
    viewer = user(central_app, "so.xem", "province_viewer", province="42")
    for client in (commune_admin, viewer):
        assert put_in_ring(client, device[0], "ring0").status_code == 403
        assert client.post("/fleet/rings/pick", data={"csrf_token": token(client, "/fleet")}).status_code == 403
        assert 'id="rings"' not in client.get("/fleet").text
    admin = user(central_app, "quantri")
    refused = admin.post(f"/fleet/{device[0]}/ring", data={"ring": "ring0"})  # no CSRF token
    assert refused.status_code == 400 and refused.json["detail"]["reason"] == "csrf"
    bad = put_in_ring(admin, device[0], "ring9")
    assert bad.status_code == 400 and bad.json["error"] and bad.json["detail"] == {"field": "ring"}
    assert versions_saved(central) == 0  # nothing saved by the refused ones
    assert put_in_ring(admin, device[0], "ring0").status_code == 302
    assert fleet_rows(admin)[device[0]]["ring"] == "ring0"
    assert put_in_ring(admin, device[0], "ring0").status_code == 302 and versions_saved(central) == 1  # no change


def test_the_ring_reaches_the_kiosk_and_the_remote_page_keeps_it(central_app, device, serve, make_kiosk):
    kiosk = make_kiosk(serve(central_app).url, device)
    admin = user(central_app, "quantri")
    assert put_in_ring(admin, device[0], "ring0").status_code == 302
    assert SyncClient(kiosk, backoff=0.01).run().ok
    remote = fleet_rows(admin)[device[0]]["remote"]
    assert (remote["sent"], remote["applied"], remote["restart_pending"]) == (1, 1, False)  # no restart for it
    restarted = settings_mod.load(env={"KIOSK_DATA_DIR": str(kiosk.settings.data_path)})
    assert restarted["upgrade_ring"] == "ring0"  # what kiosk-upgrade-ring.sh reads

    # The commune's administrator saves the kiosk's remote settings: the ring stays, and cannot be set there.
    commune_admin = user(central_app, "canbo.xa", "commune_admin", COMMUNE)
    page = f"/fleet/{device[0]}/remote"
    assert 'name="upgrade_ring"' not in commune_admin.get(page).text
    form = {"csrf_token": token(commune_admin, page), "home_screen": "ticket", "upgrade_ring": "stable"}
    assert commune_admin.post(page, data=form).status_code == 302
    assert SyncClient(kiosk, backoff=0.01).run().ok
    written = json.loads((kiosk.settings.data_path / settings_mod.REMOTE_FILE).read_text())
    assert written["version"] == 2 and written["values"] == {"home_screen": "ticket", "upgrade_ring": "ring0"}
    assert fleet_rows(admin)[device[0]]["ring"] == "ring0"


def test_five_percent_at_random_spread_over_communes_and_stable(central_app, central):
    devices = []
    for c in range(8):
        commune = f"420{c:02d}"
        add_commune(central, commune, f"Xã {c}")
        devices += [add_device(central, f"Quầy {k}", commune)[0] for k in range(5)]
    admin = user(central_app, "quantri")
    answer = admin.post("/fleet/rings/pick", data={"csrf_token": token(admin, "/fleet")})
    assert answer.status_code == 302
    rows = fleet_rows(admin)
    first = {i for i, d in rows.items() if d["ring"] == "ring0"}
    assert len(first) == 2 and len({rows[i]["commune"] for i in first}) == 2  # 5 % of 40, two communes
    assert all(rows[i]["ring"] == "stable" for i in devices if i not in first)
    assert "Vòng 0: 2 thiết bị ở 2 xã; vòng 1: 38 thiết bị (40 thiết bị đổi vòng)" in admin.get("/fleet").text
    saved = versions_saved(central)
    admin.post("/fleet/rings/pick", data={"csrf_token": token(admin, "/fleet")})  # pressed again: the same pick
    assert {i for i, d in fleet_rows(admin).items() if d["ring"] == "ring0"} == first
    assert versions_saved(central) == saved
    too_many = admin.post("/fleet/rings/pick", data={"csrf_token": token(admin, "/fleet"), "share": "80"})
    assert too_many.status_code == 400 and too_many.json["detail"] == {"field": "share"}


def test_the_pick_spreads_before_it_doubles_up_and_moves_little_when_a_kiosk_joins():
    kiosks = [(f"{c:03d}-{k}", f"c{c}") for c in range(30) for k in range(20)]  # 600 kiosks, 30 communes
    chosen = pick(kiosks, 0.05)
    communes = [commune for kiosk, commune in kiosks if kiosk in chosen]
    assert len(chosen) == 30 and len(set(communes)) == 30  # one per commune before any commune has two
    assert len(pick(kiosks, 0.10)) == 60 and all(communes.count(c) == 1 for c in communes)
    assert pick(list(reversed(kiosks)), 0.05) == chosen  # the order they are listed in does not matter
    assert len(pick([*kiosks, ("new", "c7")], 0.05) ^ chosen) <= 2
    assert pick([("only", "c1")], 0.05) == {"only"} and pick([], 0.05) == set()
