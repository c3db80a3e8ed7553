"""The posted documents travel from a real `kiosk-central` process to a kiosk at `kiosk sync --once`: posted at the
central pages by the commune's admin (rules, a fee table, a form's PDF), the PDF fetched once, signed, and kept
under DATA_DIR/posted by its checksum; the kiosk shows them offline; a hidden form leaves the kiosk with its PDF;
a procedure hidden on the central page leaves the kiosk's lookup."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3

import requests

from common.procedure_examples import EXAMPLE_PROCEDURES
from kiosk.posted_demo import form_pdf
from tests.central.helpers import TEST_PASSWORD
from tests.central_server import CentralServer, sign_in
from tests.server import KioskServer

COMMUNE = "XTN"
FEES = "Chứng thực bản sao từ bản chính | 2.000 đ/trang | từ trang thứ ba 1.000 đ/trang\nChứng thực chữ ký | 10.000 đ"


def posted(web: requests.Session, base: str, path: str, data: dict, files: dict | None = None) -> requests.Response:
    page = web.get(f"{base}/admin/posted/{COMMUNE}", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return web.post(base + path, data={**data, "csrf_token": token}, files=files, allow_redirects=False, timeout=30)


def test_posted_documents_reach_the_kiosk_with_their_pdf_and_work_offline(tmp_path):
    central = CentralServer(tmp_path / "central")
    central.cli("init")
    central.cli("add-province", "79", "Thành phố Hồ Chí Minh")
    central.cli("add-commune", COMMUNE, "UBND xã Thử Nghiệm", "--province", "79")
    device = central.add_device("Kiosk Bộ phận Một cửa", COMMUNE, "UBND xã Thử Nghiệm")
    central.cli("add-user", "qt-xa", "--role", "commune_admin", "--commune", COMMUNE, "--password", TEST_PASSWORD)
    listing = tmp_path / "thu-tuc.json"
    listing.write_text(json.dumps(EXAMPLE_PROCEDURES, ensure_ascii=False), encoding="utf-8")
    central.cli("import-procedures", str(listing), "--province", "79")
    pdf = form_pdf()
    sha = hashlib.sha256(pdf).hexdigest()

    kiosk = KioskServer(tmp_path / "kiosk")
    kiosk.cli("init")
    sync_env = {"KIOSK_CENTRAL_URL": central.base, **device}
    kept = kiosk.data_dir / "posted" / f"{sha}.pdf"
    with central:
        web = sign_in(central.base, "qt-xa", TEST_PASSWORD)
        here = f"/admin/posted/{COMMUNE}"
        assert (
            posted(web, central.base, here, {"kind": "rules", "title": "Nội quy", "body": "Giữ trật tự."}).status_code
            == 302
        )
        assert posted(web, central.base, here, {"kind": "fees", "title": "Bảng phí", "rows": FEES}).status_code == 302
        form = posted(web, central.base, here, {"kind": "form", "title": "Tờ khai khai sinh"},
                      files={"file": ("to-khai.pdf", pdf, "application/pdf")})  # fmt: skip
        assert form.status_code == 302, form.text
        fake = posted(web, central.base, here, {"kind": "form", "title": "Giả"},
                      files={"file": ("x.pdf", b"<script>alert(1)</script>", "application/pdf")})  # fmt: skip
        assert fake.status_code == 400
        switch = posted(web, central.base, f"/admin/procedures/{COMMUNE}/1.001193", {"hidden": "1"})
        assert switch.status_code == 302

        kiosk.cli("sync", "--once", env=sync_env)
        assert kept.read_bytes() == pdf
        with sqlite3.connect(kiosk.data_dir / "kiosk.db") as conn:
            first = conn.execute("SELECT version FROM posted_list").fetchone()[0]
            titles = [r[0] for r in conn.execute("SELECT title FROM posted_documents ORDER BY position")]
            assert "1.001193" not in [r[0] for r in conn.execute("SELECT code FROM procedures")]
        assert sorted(titles) == ["Bảng phí", "Nội quy", "Tờ khai khai sinh"]
        kiosk.cli("sync", "--once", env=sync_env)  # nothing changed: unchanged, nothing fetched again
        with sqlite3.connect(kiosk.data_dir / "kiosk.db") as conn:
            assert conn.execute("SELECT version FROM posted_list").fetchone()[0] == first
    # the central server is gone: the kiosk answers from its own copy
    with kiosk:
        listed = requests.get(f"{kiosk.base}/api/posted", timeout=10).json()
        form_doc = next(d for d in listed if d["kind"] == "form")
        fees = next(d for d in listed if d["kind"] == "fees")
        assert fees["rows"][0]["amount"] == "2.000 đ/trang"
        served = requests.get(kiosk.base + form_doc["pdf"], timeout=10)
        assert served.content == pdf and served.headers["Content-Type"] == "application/pdf"
        assert "Bảng phí" in requests.get(f"{kiosk.base}/niem-yet", timeout=10).text
        assert "Đăng ký khai sinh" not in [
            p["name"] for p in requests.get(f"{kiosk.base}/api/procedures?service=HT", timeout=10).json()
        ]
    # hidden at the central page: gone from the kiosk at the next sync, and its PDF off the SD card
    with central:
        web = sign_in(central.base, "qt-xa", TEST_PASSWORD)
        assert posted(web, central.base, f"/admin/posted/{COMMUNE}/{form_doc['id']}/hide", {}).status_code == 302
        kiosk.cli("sync", "--once", env=sync_env)
    assert not kept.exists()
    with sqlite3.connect(kiosk.data_dir / "kiosk.db") as conn:
        assert conn.execute("SELECT count(*) FROM posted_documents WHERE kind = 'form'").fetchone()[0] == 0
