"""The province's procedures travel from a real `kiosk-central` process to a kiosk at `kiosk sync --once`, apart
from the catalogue, and the kiosk shows them offline; a commune's hidden procedures never reach its kiosks."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import docx
import requests

from common.procedure_examples import EXAMPLE_PROCEDURES
from tests.central_server import CentralServer
from tests.server import KioskServer

COMMUNE = "XTN"


def names(kiosk: KioskServer, **query) -> list[str]:
    answer = requests.get(f"{kiosk.base}/api/procedures", params=query, timeout=10)
    assert answer.status_code == 200, answer.text
    return [p["name"] for p in answer.json()]


def test_the_list_reaches_the_kiosk_at_sync_and_works_offline(tmp_path):
    central = CentralServer(tmp_path / "central")
    central.cli("init")
    central.cli("add-province", "79", "Thành phố Hồ Chí Minh")
    central.cli("add-commune", COMMUNE, "UBND xã Thử Nghiệm", "--province", "79")
    device = central.add_device("Kiosk Bộ phận Một cửa", COMMUNE, "UBND xã Thử Nghiệm")
    listing = tmp_path / "thu-tuc.json"
    listing.write_text(json.dumps(EXAMPLE_PROCEDURES, ensure_ascii=False), encoding="utf-8")
    central.cli("import-procedures", str(listing), "--province", "79")
    central.cli("hide-procedures", "1.001776", "--commune", COMMUNE)  # this commune leaves social allowances out

    kiosk = KioskServer(tmp_path / "kiosk")
    kiosk.cli("init")
    sync_env = {"KIOSK_CENTRAL_URL": central.base, **device}
    with central:
        kiosk.cli("sync", "--once", env=sync_env)
        db = kiosk.data_dir / "kiosk.db"
        with sqlite3.connect(db) as conn:
            first = conn.execute("SELECT version FROM procedure_list").fetchone()[0]
            assert conn.execute("SELECT count(*) FROM procedures").fetchone()[0] == len(EXAMPLE_PROCEDURES) - 1
        kiosk.cli("sync", "--once", env=sync_env)  # nothing changed: the kiosk keeps its list
        changed = [{**EXAMPLE_PROCEDURES[0], "fee": "Miễn lệ phí"}, *EXAMPLE_PROCEDURES[1:]]
        listing.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
        central.cli("import-procedures", str(listing), "--province", "79")
        kiosk.cli("sync", "--once", env=sync_env)
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT version FROM procedure_list").fetchone()[0] != first
    # the central server is gone: the kiosk answers from its own copy
    with kiosk:
        assert names(kiosk, q="dang ky khai sinh") == ["Đăng ký khai sinh"]
        birth = requests.get(f"{kiosk.base}/api/procedures/1.001193", timeout=10).json()
        assert birth["fee"] == "Miễn lệ phí"
        assert "Thực hiện trợ cấp xã hội hằng tháng" not in names(kiosk, service="BT")
        assert len(names(kiosk, service="HT")) == 4


def test_a_suggestion_left_at_the_kiosk_reaches_the_central_inbox_and_the_report(tmp_path):
    import re

    central = CentralServer(tmp_path / "central")
    central.cli("init")
    device = central.add_device("Kiosk Bộ phận Một cửa", COMMUNE, "UBND xã Thử Nghiệm")
    central.cli("add-user", "chutich", "--role", "admin", "--password", "mat-khau-2026")
    kiosk = KioskServer(tmp_path / "kiosk")
    kiosk.cli("init")
    with central, kiosk:
        text = "Đề nghị niêm yết rõ lệ phí chứng thực ở cửa ra vào."
        made = requests.post(f"{kiosk.base}/api/suggestions", json={"text": text, "contact": "0912345678"}, timeout=10)
        assert made.status_code == 201, made.text
        kiosk.cli("sync", "--once", env={"KIOSK_CENTRAL_URL": central.base, **device})

        web = requests.Session()
        login = web.get(f"{central.base}/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        signed = web.post(
            f"{central.base}/login",
            data={"username": "chutich", "password": "mat-khau-2026", "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert signed.status_code == 302
        inbox = web.get(f"{central.base}/comments?kind=suggestion", timeout=10).text
        assert text in inbox and '<span class="badge suggestion">Góp ý</span>' in inbox
        assert "0912345678" in inbox  # the admin answers, so the contact is shown to her
        assert text not in web.get(f"{central.base}/comments?kind=comment", timeout=10).text

        def counted() -> str:
            page = web.get(f"{central.base}/reports", timeout=10).text
            return " ".join(page.split('id="suggestions"', 1)[1].split("</div></div>", 1)[0].split())

        assert '<div class="value">1</div>' in counted() and "đã trả lời 0" in counted()
        link = re.search(rf'href="(/comments/{COMMUNE}/[0-9a-f-]+/{made.json()["id"]})"', inbox).group(1)
        page = web.get(central.base + link, timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        answered = web.post(
            f"{central.base}{link}/answer",
            data={"reply_note": "Đã niêm yết bảng phí tại cửa.", "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert answered.status_code == 302, answered.text
        assert "đã trả lời 1" in counted()
        # the DOCX report says the same (central/exports/suggestion_text.py)
        report = web.get(f"{central.base}/reports/export.docx?commune={COMMUNE}", timeout=60)
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(report.content)).paragraphs)
        assert (
            "Hòm thư góp ý đã nhận 1 góp ý của công dân, tổ chức (ngoài các lượt đánh giá), đã trả lời 1 góp ý." in text
        )
        # ...and the CSV summary (every way of reading a report gives the same figures)
        summary = web.get(f"{central.base}/reports/export.csv?commune={COMMUNE}", timeout=60).content.decode(
            "utf-8-sig"
        )
        rows = list(csv.reader(io.StringIO(summary)))
        assert ["Góp ý nhận qua hòm thư góp ý", "1"] in rows and ["Góp ý đã trả lời", "1"] in rows
