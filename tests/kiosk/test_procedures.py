"""The procedures on the kiosk: the list taken whole (or refused whole), a field's procedures, a search with or
without diacritics, and the checklist printed on the ticket printer, read back from the ESC/POS bytes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PIL import ImageChops

from common.procedure_examples import EXAMPLE_PROCEDURES
from hardware.checklist_image import _ListCanvas
from hardware.ticket_image import TicketFonts
from kiosk.app import create_app
from kiosk.procedures import ProceduresRefused, current_version, store_document
from kiosk.serve import seed_demo_procedures
from sync.procedures_document import version
from tests.escpos_raster import cut_after_image, decode

FONTS_DIR = Path(__file__).resolve().parents[2] / "web" / "static" / "fonts"
FONTS = TicketFonts(FONTS_DIR / "DejaVuSans.ttf", FONTS_DIR / "DejaVuSans-Bold.ttf")
NOW = datetime(2026, 12, 6, 1, 0)


def doc(items=EXAMPLE_PROCEDURES) -> dict:
    return {"v": 1, "version": version(items), "procedures": items}


@pytest.fixture
def spool_app(tmp_path, clock):
    app = create_app(
        {"data_dir": str(tmp_path / "var"), "gpio": "mock", "printer": f"spool:{tmp_path / 'spool'}", "TESTING": True},
        clock=clock,
    )
    yield app
    app.extensions["kiosk"].close()


def names(answer) -> list[str]:
    assert answer.status_code == 200, answer.get_json()
    return [p["name"] for p in answer.get_json()]


def test_a_field_lists_its_procedures_and_search_needs_no_diacritics(kiosk, client):
    assert store_document(kiosk.sessions, doc(), NOW) is True
    assert store_document(kiosk.sessions, doc(), NOW) is False  # the same version again: nothing to do
    ht = client.get("/api/procedures?service=HT").get_json()
    assert [p["name"] for p in ht][:2] == ["Đăng ký khai sinh", "Đăng ký kết hôn"]
    birth = ht[0]
    assert birth["papers"][1] == {"name": "Giấy chứng sinh (hoặc văn bản của người làm chứng)", "copies": 1}
    assert birth["fee"] == "Miễn lệ phí (đăng ký đúng hạn)" and birth["time"] == "Trong ngày làm việc"
    assert birth["service_name"] == "Hộ tịch"
    for typed in ("khai sinh", "dang ky khai sinh", "ĐĂNG KÝ KHAI SINH", "Đăng ký khai sinh", "  khai   sinh "):
        assert names(client.get("/api/procedures", query_string={"q": typed})) == ["Đăng ký khai sinh"], typed
    assert names(client.get("/api/procedures?q=chung thuc")) == [
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "Chứng thực chữ ký trong giấy tờ, văn bản",
    ]
    assert names(client.get("/api/procedures?q=ket hon")) == ["Đăng ký kết hôn"]
    assert names(client.get("/api/procedures?q=100%")) == []  # a wildcard is a character, not "anything"
    assert names(client.get("/api/procedures?q=hon nhan&service=CT")) == []
    nothing = client.get("/api/procedures")
    assert nothing.status_code == 400 and nothing.get_json()["error"]
    assert client.get("/api/procedures?q=" + "a" * 101).status_code == 400
    assert client.post("/api/procedures/9.999999/print").status_code == 404


def test_a_malformed_list_is_refused_whole_and_the_old_one_stays(kiosk, client):
    store_document(kiosk.sessions, doc(EXAMPLE_PROCEDURES[:2]), NOW)
    broken = [*EXAMPLE_PROCEDURES[2:], {**EXAMPLE_PROCEDURES[0], "papers": [{"name": "Tờ khai", "copies": 0}]}]
    with pytest.raises(ProceduresRefused, match="papers\\[1\\].copies"):
        store_document(kiosk.sessions, doc(broken), NOW)
    twice = [EXAMPLE_PROCEDURES[0], EXAMPLE_PROCEDURES[0]]
    with pytest.raises(ProceduresRefused, match="repeats the code"):
        store_document(kiosk.sessions, doc(twice), NOW)
    with kiosk.sessions() as session:
        assert current_version(session) == version(EXAMPLE_PROCEDURES[:2])
    assert names(client.get("/api/procedures?service=HT")) == ["Đăng ký khai sinh", "Đăng ký kết hôn"]


def test_the_demo_carries_real_procedures_and_the_ticket_screen_offers_the_lookup(kiosk, client):
    assert "Tra cứu thủ tục" not in client.get("/ticket").get_data(as_text=True)  # nothing to look up yet
    seed_demo_procedures(kiosk)
    seed_demo_procedures(kiosk)  # safe twice
    assert "Đăng ký khai sinh" in names(client.get("/api/procedures?q=khai sinh"))
    page = client.get("/ticket").get_data(as_text=True)
    assert "Tra cứu thủ tục" in page and 'href="/thu-tuc"' in page
    lookup = client.get("/thu-tuc").get_data(as_text=True)
    assert "Tra cứu thủ tục" in lookup and "Hộ tịch" in lookup and "Chứng thực" in lookup


def _band(text: str, size: int, bold: bool, dots: int, indent: int = 0):
    """The (first) line of ``text`` as the checklist draws it: the rows the printer burns for it."""
    canvas = _ListCanvas(dots, FONTS)
    canvas.left(text, size, bold, indent)
    return canvas.blocks[0][1]


def _holds(printed, band) -> bool:
    target = band.convert("L")
    return any(
        ImageChops.difference(printed.crop((0, y, printed.width, y + band.height)).convert("L"), target).getbbox()
        is None
        for y in range(printed.height - band.height + 1)
    )


def test_the_printed_checklist_reads_back_with_the_papers_the_fee_and_the_time(spool_app, tmp_path):
    kiosk = spool_app.extensions["kiosk"]
    store_document(kiosk.sessions, doc(), NOW)
    answer = spool_app.test_client().post("/api/procedures/1.001193/print")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["printed"] is True
    jobs = sorted((tmp_path / "spool").glob("checklist-*-1.001193.bin"))
    assert len(jobs) == 1
    data = jobs[0].read_bytes()
    printed = decode(data)
    dots = printed.width
    assert dots == 384 and cut_after_image(data)
    unit = dots / 384
    for text, size, bold, indent in [
        ("1. Tờ khai đăng ký khai sinh (theo mẫu) – 1 bản", int(21 * unit), False, int(24 * unit)),
        ("3. Giấy tờ tùy thân của người đi đăng ký (xuất trình) – 1 bản", int(21 * unit), False, int(24 * unit)),
        ("Lệ phí: Miễn lệ phí (đăng ký đúng hạn)", int(21 * unit), True, 0),
        ("Thời hạn: Trong ngày làm việc", int(21 * unit), True, 0),
    ]:
        assert _holds(printed, _band(text, size, bold, dots, indent)), f"not printed: {text}"
    assert not _holds(printed, _band("Lệ phí: 50.000 đồng", int(21 * unit), True, dots))  # the check can fail


def test_read_aloud_says_only_procedures_on_the_list(kiosk, client):
    from web.procedures import spoken_text

    store_document(kiosk.sessions, doc(), NOW)
    birth = client.get("/api/procedures/1.001193").get_json()
    words = spoken_text(birth)
    assert words.startswith("Thủ tục Đăng ký khai sinh. Giấy tờ cần mang: Tờ khai đăng ký khai sinh (theo mẫu), 1 bản.")
    assert "Lệ phí: Miễn lệ phí (đăng ký đúng hạn). Thời hạn: Trong ngày làm việc." in words
    assert client.get("/voice/vi/procedure/9.999999.wav").status_code == 404
    clip = client.get("/voice/vi/procedure/1.001193.wav")  # espeak-ng (a Debian package the project relies on)
    assert clip.status_code == 200 and clip.mimetype == "audio/wav"
    assert clip.data[:4] == b"RIFF" and len(clip.data) > 20_000  # seconds of speech, not an empty file


def test_a_field_lists_all_its_procedures_a_search_its_first_fifty(kiosk, client):
    many = [
        {"code": f"1.{i:06d}", "service": "DD", "name": f"Thủ tục đất đai số {i}", "papers": ["Đơn đề nghị"]}
        for i in range(80)
    ]
    store_document(kiosk.sessions, doc(many), NOW)
    listed = names(client.get("/api/procedures?service=DD"))
    assert len(listed) == 80 and listed[79] == "Thủ tục đất đai số 79"
    assert len(names(client.get("/api/procedures?q=dat dai"))) == 50
