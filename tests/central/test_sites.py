"""Reception points (điểm tiếp nhận): a merged commune's kiosks stand at its centre and in a former commune; each
signed batch is stored with its kiosk's site; the reports compare the sites and filter by one (rollups and
records agree); moving a kiosk changes the site of its later records only; the pages and commands that manage
sites. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from central.cli import main
from central.models import Device
from central.registry import add_device, add_site, add_user, move_device
from central.reports import figures, periods
from central.reports.query import Scope
from central.reports.rebuild import rebuild
from tests.central.helpers import COMMUNE, OTHER_COMMUNE, TEST_PASSWORD, Signer, envelope, sign_in, token, wire_record
from tests.central.test_reports_rollups import snapshot

MONTH = "period=month&year=2026&month=11"
T0 = datetime(2026, 11, 18, 2, 0)  # 09:00 local


def send(client, device, records, counter=None):
    signer = Signer(client, device)
    signer.counter = counter or 0
    answer = signer.post(envelope(device[0], records, T0 + timedelta(days=1)))
    assert answer.status_code == 200 and not answer.json["rejected"], answer.json
    return signer


def ratings(levels, start_seq=1, when=T0):
    points = {"very_satisfied": 2, "satisfied": 1, "unsatisfied": 0}
    return [
        wire_record("rating", start_seq + i, when + timedelta(minutes=i), level=lv, points=points[lv])
        for i, lv in enumerate(levels)
    ]


@pytest.fixture
def merged(central_app, central):
    """Commune 26734 with its centre (TT) and a reception point in the former commune Tân Phú (S2)."""
    centre = add_device(central, "Quầy Trung tâm", COMMUNE, "Xã Tân Hòa")
    assert add_site(central, COMMUNE, "s2", "Điểm tiếp nhận Tân Phú", "Xã Tân Phú") == "S2"
    point = add_device(central, "Quầy Tân Phú", COMMUNE, None, "S2")
    client = central_app.test_client()
    send(client, centre, ratings(["very_satisfied", "very_satisfied", "satisfied"]))
    send(client, point, ratings(["unsatisfied", "satisfied"]))
    add_user(central, "quantri", TEST_PASSWORD, "admin")
    add_user(central, "qt-xa", TEST_PASSWORD, "commune_admin", COMMUNE)
    add_user(central, "xem-xa", TEST_PASSWORD, "commune_viewer", COMMUNE)
    return centre, point


def test_batches_are_stored_with_their_kiosks_site_and_reported_per_site(central_app, central, merged):
    with central.engine.connect() as conn:
        stored = conn.execute(text("SELECT site_code, count(*) FROM ratings GROUP BY site_code ORDER BY 1")).all()
    assert [tuple(r) for r in stored] == [("S2", 2), ("TT", 3)]
    admin = sign_in(central_app, "quantri")
    data = admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}").json
    sites = {s["code"]: s for s in data["sites"]}
    assert (sites["TT"]["ratings"], sites["TT"]["satisfied_plus_pct"]) == (3, 100.0)
    assert (sites["S2"]["ratings"], sites["S2"]["satisfied_plus_pct"], sites["S2"]["name"]) == (
        2,
        50.0,
        "Điểm tiếp nhận Tân Phú",
    )
    one = admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}&site=S2").json
    assert one["summary"]["ratings"] == 2 and [s["code"] for s in one["sites"]] == ["S2"]
    assert {lv["key"]: lv["n"] for lv in one["levels"]}["unsatisfied"] == 1
    page = admin.get(f"/reports?{MONTH}&commune={COMMUNE}&lang=vi").text
    assert "Theo điểm tiếp nhận" in page and "Điểm tiếp nhận Tân Phú" in page
    assert admin.get(f"/reports/data.json?{MONTH}&site=S2").status_code == 400  # which commune's S2?
    assert admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}&site=S9").status_code == 404
    csv_text = admin.get(f"/reports/export.csv?{MONTH}&commune={COMMUNE}").data.decode("utf-8-sig")
    assert "Theo điểm tiếp nhận" in csv_text and "Điểm tiếp nhận Tân Phú" in csv_text
    with central.engine.connect() as conn:
        for site in (None, "TT", "S2"):
            scope = Scope(communes=(COMMUNE,), site=site)
            for period in (periods.month(2026, 11), periods.from_range(T0.date(), T0.date() + timedelta(days=3))):
                fast = figures.build(conn, period, scope)
                assert fast == figures.build(conn, period, scope, use_rollups=False)


def test_a_moved_kiosk_keeps_its_earlier_records_at_the_old_site(central_app, central, merged):
    _centre, point = merged
    assert move_device(central, point[0], "TT") == "TT"
    send(central_app.test_client(), point, ratings(["satisfied"], 100, T0 + timedelta(hours=3)), counter=10)
    with central.engine.connect() as conn:
        report = figures.build(conn, periods.month(2026, 11), Scope(communes=(COMMUNE,)))
    assert {s["code"]: s["ratings"] for s in report["sites"]} == {"TT": 4, "S2": 2}
    before = snapshot(central)
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == before  # the rollups of both sites stay exact: a rebuild agrees


def test_the_sites_pages_for_a_commune_administrator(central_app, central, merged):
    _centre, point = merged
    client = sign_in(central_app, "qt-xa")
    assert client.get("/admin/sites").headers["Location"].endswith(f"/admin/sites/{COMMUNE}")
    page = client.get(f"/admin/sites/{COMMUNE}?lang=vi").text
    assert "Điểm tiếp nhận Tân Phú" in page and "Quầy Tân Phú" in page
    csrf = token(client, f"/admin/sites/{COMMUNE}")
    base = f"/admin/sites/{COMMUNE}"
    assert client.post(base, data={"code": "S3", "name": "Điểm Tân Lập"}).status_code == 400  # no CSRF token
    added = client.post(base, data={"csrf_token": csrf, "code": "s3", "name": " Điểm  Tân Lập ", "former_commune": ""})
    assert added.status_code == 302
    again = client.post(base + "?lang=vi", data={"csrf_token": csrf, "code": "S3", "name": "Trùng"})
    assert again.status_code == 400 and "Xã này đã có điểm tiếp nhận S3" in again.text
    closing = client.post(base + "/S2?lang=vi", data={"csrf_token": csrf, "name": "Điểm tiếp nhận Tân Phú"})
    assert closing.status_code == 400 and "vẫn còn thiết bị" in closing.text  # a kiosk stands there
    moved = client.post(f"{base}/kiosks/{point[0]}", data={"csrf_token": csrf, "site": "S3"})
    assert moved.status_code == 302
    with central.sessions() as s:
        assert s.get(Device, point[0]).site_code == "S3"
    closed = client.post(base + "/S2", data={"csrf_token": csrf, "name": "Điểm tiếp nhận Tân Phú"})
    assert closed.status_code == 302  # no kiosk left there: it may close
    assert client.post(f"{base}/kiosks/{point[0]}", data={"csrf_token": csrf, "site": "S2"}).status_code == 400
    assert client.get(f"/admin/sites/{OTHER_COMMUNE}").status_code in (403, 404)
    viewer = sign_in(central_app, "xem-xa")
    assert viewer.get(f"/admin/sites/{COMMUNE}").status_code == 403


def test_site_commands(central_app, central, tmp_path):
    settings = central.settings
    env = {"KIOSK_DATA_DIR": str(settings["data_dir"]), "KIOSK_CENTRAL_DATABASE_URL": settings["central_database_url"]}

    def run(*args):
        return CliRunner().invoke(main, list(args), env=env, obj={})

    assert run("add-province", "P9", "Tỉnh Chín").exit_code == 0
    assert run("add-commune", "30001", "Xã Mới", "--province", "P9", "--former-district", "H07").exit_code == 0
    assert run("add-site", "30001", "xc", "Điểm xã cũ", "--former-commune", "Xã Cũ").exit_code == 0
    bad = run("add-site", "30001", "x c", "Điểm")
    assert bad.exit_code == 2 and "capital letters or digits" in bad.output
    added = run("add-device", "Quầy xã cũ", "--commune", "30001", "--site", "XC")
    assert added.exit_code == 0, added.output
    device = re.search(r"KIOSK_DEVICE_ID=(\S+)", added.output).group(1)
    missing = run("add-device", "Quầy", "--commune", "30001", "--site", "ZZ")
    assert missing.exit_code != 0 and "add-site" in missing.output
    assert run("move-device", device, "--site", "TT").exit_code == 0
    with central.sessions() as s:
        assert s.scalar(select(Device.site_code).where(Device.id == device)) == "TT"
    assert (
        run("add-user", "tinh9", "--role", "province_viewer", "--province", "P9", "--password", TEST_PASSWORD).exit_code
        == 0
    )
    listing = run("users")
    assert listing.exit_code == 0 and "tinh9: province_viewer, sees province P9 (1 communes)" in listing.output
