"""The DOCX report counts the suggestion box as `/reports` does: suggestions left at a kiosk reach a real
`kiosk-central`, one is answered in the inbox, and the commune's report says how many came and were answered."""

from __future__ import annotations

import io
import re

import docx
import requests

from tests.central_server import CentralServer, sign_in
from tests.server import KioskServer

COMMUNE = "XTN"


def report_text(web: requests.Session, base: str) -> str:
    answer = web.get(f"{base}/reports/export.docx?commune={COMMUNE}", timeout=60)
    assert answer.status_code == 200, answer.text[:300]
    return "\n".join(p.text for p in docx.Document(io.BytesIO(answer.content)).paragraphs)


def test_the_docx_report_says_how_many_suggestions_came_and_were_answered(tmp_path):
    central = CentralServer(tmp_path / "central")
    central.cli("init")
    device = central.add_device("Kiosk Bộ phận Một cửa", COMMUNE, "UBND xã Thử Nghiệm")
    central.cli("add-user", "chutich", "--role", "admin", "--password", "mat-khau-2026")
    kiosk = KioskServer(tmp_path / "kiosk")
    kiosk.cli("init")
    with central, kiosk:
        web = sign_in(central.base, "chutich", "mat-khau-2026")
        assert "Hòm thư góp ý không nhận được góp ý nào" in report_text(web, central.base)
        made = []
        for text in ("Đề nghị niêm yết rõ lệ phí chứng thực.", "Cần thêm ghế chờ cho người cao tuổi."):
            answer = requests.post(f"{kiosk.base}/api/suggestions", json={"text": text}, timeout=10)
            assert answer.status_code == 201, answer.text
            made.append(answer.json()["id"])
        kiosk.cli("sync", "--once", env={"KIOSK_CENTRAL_URL": central.base, **device})
        inbox = web.get(f"{central.base}/comments?kind=suggestion", timeout=10).text
        link = re.search(rf'href="(/comments/{COMMUNE}/[0-9a-f-]+/{made[0]})"', inbox).group(1)
        token = re.search(r'name="csrf_token" value="([^"]+)"', web.get(central.base + link, timeout=10).text).group(1)
        answered = web.post(
            f"{central.base}{link}/answer",
            data={"reply_note": "Đã niêm yết bảng phí.", "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert answered.status_code == 302, answered.text
        assert "Hòm thư góp ý đã nhận 2 góp ý của công dân, tổ chức (ngoài các lượt đánh giá), đã trả lời 1 góp ý." in (
            report_text(web, central.base)
        )
