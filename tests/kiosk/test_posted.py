"""The posted documents (niêm yết) on the kiosk: the list taken whole or refused whole (the old one kept), a form's
PDF kept under DATA_DIR/posted only when its bytes match the checksum, the from/to dates in local time, the screens
and `GET /api/posted`, and the `--demo` documents (a real fee table, a PDF drawn at start)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest

from common.posted_examples import EXAMPLE_POSTED, FEES_ID, FORM_ID, RULES_ID
from common.posted_rules import MAX_PDF_TOTAL, is_pdf
from kiosk.posted import PostedRefused, current_version, folder, store_document
from kiosk.posted_demo import form_pdf, seed_demo_posted
from sync.posted_document import version

NOW = datetime(2026, 12, 6, 1, 0)


def doc(items) -> dict:
    return {"v": 1, "version": version(items), "documents": items}


def form(pdf: bytes, ident: str = FORM_ID, **extra) -> dict:
    sha = hashlib.sha256(pdf).hexdigest()
    return {"id": ident, "kind": "form", "title": "Tờ khai", "body": "", "rows": [],
            "file": {"sha256": sha, "size": len(pdf)}, "shown_from": None, "shown_to": None, **extra}  # fmt: skip


def never(_sha, _size):
    raise AssertionError("nothing to fetch")


def test_the_demo_shows_real_rules_fees_and_a_pdf_form(kiosk, client):
    seed_demo_posted(kiosk)
    listed = client.get("/api/posted").get_json()
    assert [d["id"] for d in listed] == [RULES_ID, FEES_ID, FORM_ID]
    fees = client.get("/api/posted?kind=fees").get_json()
    assert fees[0]["rows"][0] == {
        "name": "Chứng thực bản sao từ bản chính",
        "amount": "2.000 đ/trang",
        "note": "từ trang thứ ba: 1.000 đ/trang, tối đa 200.000 đ/bản",
    }
    page = client.get("/niem-yet").get_data(as_text=True)
    assert "Nội quy Bộ phận Một cửa" in page and "Bảng phí, lệ phí (cấp xã)" in page
    fee_page = client.get(f"/niem-yet/{FEES_ID}").get_data(as_text=True)
    assert "2.000 đ/trang" in fee_page and "Chứng thực chữ ký" in fee_page
    pdf = client.get(f"/niem-yet/{FORM_ID}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and is_pdf(pdf.data)
    assert pdf.headers["Content-Disposition"] == f'inline; filename="{FORM_ID}.pdf"'
    assert client.get(f"/niem-yet/{FORM_ID}/qr.png").mimetype == "image/png"
    # No phone can open the kiosk's loopback: with no address for phones the form offers no QR, only the clerk.
    form_page = client.get(f"/niem-yet/{FORM_ID}").get_data(as_text=True)
    assert "qr.png" not in form_page and "Công chức có thể in biểu mẫu này giúp bạn." in form_page
    assert f'src="/niem-yet/{FORM_ID}.pdf' in client.get(f"/niem-yet/{FORM_ID}").get_data(as_text=True)
    assert "/niem-yet" in client.get("/ticket").get_data(as_text=True)  # the ticket screen offers it
    assert client.get("/api/posted?kind=menu").status_code == 400


def test_a_form_is_kept_by_its_checksum_and_dropped_when_no_longer_posted(kiosk, client):
    where, pdf = folder(kiosk.settings.data_path), form_pdf()
    fetched = []
    assert store_document(kiosk.sessions, doc([*EXAMPLE_POSTED, form(pdf)]), NOW, where,
                          lambda sha, size: fetched.append(sha) or pdf) is True  # fmt: skip
    kept = where / f"{hashlib.sha256(pdf).hexdigest()}.pdf"
    assert kept.read_bytes() == pdf and len(fetched) == 1
    # a new version naming the same PDF: not fetched again
    renamed = form(pdf, title="Tờ khai đăng ký khai sinh (mẫu mới)")
    assert store_document(kiosk.sessions, doc([renamed]), NOW, where, never) is True
    assert store_document(kiosk.sessions, doc(EXAMPLE_POSTED), NOW, where, never) is True
    assert not kept.exists() and list(where.iterdir()) == []
    assert client.get(f"/niem-yet/{FORM_ID}.pdf").status_code == 404


def test_a_pdf_that_does_not_match_its_checksum_leaves_the_old_list(kiosk, client):
    where = folder(kiosk.settings.data_path)
    store_document(kiosk.sessions, doc(EXAMPLE_POSTED), NOW, where, never)
    with kiosk.sessions() as session:
        before = current_version(session)
    with pytest.raises(PostedRefused, match="checksum"):
        store_document(kiosk.sessions, doc([form(form_pdf())]), NOW, where, lambda sha, size: b"%PDF-1.4 forged %%EOF")
    with kiosk.sessions() as session:
        assert current_version(session) == before
    assert list(where.glob("*")) == []  # nothing half-written under the name
    assert [d["id"] for d in client.get("/api/posted").get_json()] == [RULES_ID, FEES_ID]


def test_a_list_too_large_for_the_kiosks_disk_or_malformed_is_refused_whole(kiosk):
    where = folder(kiosk.settings.data_path)
    big = [form(b"x", ident=f"{i:032x}") for i in range(11)]
    for i, item in enumerate(big):
        item["file"] = {"sha256": f"{i:064x}", "size": 3 * 1024 * 1024}
    assert 11 * 3 * 1024 * 1024 > MAX_PDF_TOTAL
    with pytest.raises(PostedRefused, match="at most"):
        store_document(kiosk.sessions, doc(big), NOW, where, never)
    with pytest.raises(PostedRefused, match="rows"):
        store_document(kiosk.sessions, doc([{**EXAMPLE_POSTED[1], "rows": []}]), NOW, where, never)
    with kiosk.sessions() as session:
        assert current_version(session) is None


def test_dates_are_the_communes_local_days(kiosk, client, clock):
    today = clock.local().date().isoformat()
    notice = {"id": "b" * 32, "kind": "notice", "title": "Nghỉ lễ", "body": "Bộ phận Một cửa nghỉ ngày 1/1.",
              "rows": [], "file": None, "shown_from": today, "shown_to": today}  # fmt: skip
    later = {**notice, "id": "c" * 32, "title": "Sau này", "shown_from": "2099-01-01", "shown_to": None}
    store_document(kiosk.sessions, doc([notice, later]), NOW, folder(kiosk.settings.data_path), never)
    assert [d["title"] for d in client.get("/api/posted").get_json()] == ["Nghỉ lễ"]
    assert client.get("/niem-yet/" + "c" * 32).status_code == 404
    clock.advance(24 * 3600)
    assert client.get("/api/posted").get_json() == []
