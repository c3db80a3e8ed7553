"""The posted documents (niêm yết) at the central pages: a commune_admin posts its commune's rules, fee table and a
form's PDF, hides and removes them; an admin posts to every commune of a province; a file that is not a PDF (by its
bytes, whatever its name and type), one too large, or a form without CSRF is refused with a clear 4xx and changes
nothing; the PDF is served under our name and type only. And the page that hides a province's procedures at one
commune. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from central.posted import build_document
from central.posted_models import PostedDocument, PostedFile
from central.procedures import build_document as procedures_document
from central.procedures import import_procedures
from central.registry import add_commune, add_province, add_user
from common.db import transaction
from common.posted_rules import MAX_PDF_BYTES
from common.procedure_examples import EXAMPLE_PROCEDURES
from kiosk.posted_demo import form_pdf
from tests.central.helpers import COMMUNE, OTHER_COMMUNE, sign_in, token

PAGE = f"/admin/posted/{COMMUNE}"
FEES = "Chứng thực bản sao từ bản chính | 2.000 đ/trang | từ trang thứ ba 1.000 đ/trang\nChứng thực chữ ký | 10.000 đ"


@pytest.fixture
def people(central):
    add_province(central, "79", "Thành phố Hồ Chí Minh")
    add_commune(central, COMMUNE, "Xã Tân Hòa", province="79")
    add_commune(central, OTHER_COMMUNE, "Xã Tân Phú", province="79")
    add_user(central, "quantri", "mật-khẩu-dài", "admin")
    add_user(central, "qt-xa", "mật-khẩu-dài", "commune_admin", COMMUNE)
    add_user(central, "qt-xa-khac", "mật-khẩu-dài", "commune_admin", OTHER_COMMUNE)
    add_user(central, "xem-xa", "mật-khẩu-dài", "commune_viewer", COMMUNE)


def post(client, path, data, page=PAGE, **kw):
    return client.post(path, data={**data, "csrf_token": token(client, page)}, content_type="multipart/form-data", **kw)


def counts(central) -> tuple[int, int]:
    with central.sessions() as s:
        return s.scalar(select(func.count()).select_from(PostedDocument)), s.scalar(
            select(func.count()).select_from(PostedFile)
        )


def test_a_commune_admin_posts_rules_fees_and_a_form_and_they_make_the_kiosks_document(central_app, central, people):
    admin = sign_in(central_app, "qt-xa")
    assert admin.get("/admin/posted").status_code == 302  # one commune: straight to its page
    rules = post(admin, PAGE, {"kind": "rules", "title": "Nội quy", "body": "1. Lấy số thứ tự.\n2. Giữ trật tự."})
    assert rules.status_code == 302, rules.text
    assert post(admin, PAGE, {"kind": "fees", "title": "Bảng phí", "rows": FEES, "position": "2"}).status_code == 302
    pdf = form_pdf()
    made = post(admin, PAGE, {"kind": "form", "title": "Tờ khai", "file": (io.BytesIO(pdf), "to-khai.pdf")})
    assert made.status_code == 302, made.text
    with central.sessions() as s:
        doc = build_document(s, COMMUNE)
    assert [d["title"] for d in doc["documents"]] == ["Nội quy", "Tờ khai", "Bảng phí"]
    assert doc["documents"][0]["body"] == "1. Lấy số thứ tự.\n2. Giữ trật tự."
    assert doc["documents"][2]["rows"] == [
        {"name": "Chứng thực bản sao từ bản chính", "amount": "2.000 đ/trang", "note": "từ trang thứ ba 1.000 đ/trang"},
        {"name": "Chứng thực chữ ký", "amount": "10.000 đ", "note": ""},
    ]
    form = doc["documents"][1]
    assert form["file"]["size"] == len(pdf)
    page = admin.get(PAGE).text
    assert "Tờ khai" in page and "2.000 đ/trang" in page
    served = admin.get(f"{PAGE}/{form['id']}/form.pdf")
    assert served.data == pdf and served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"] == f'inline; filename="{form["id"]}.pdf"'  # never "to-khai.pdf"
    # hidden: kept here, gone from the kiosks' document (a new version); shown again; removed with its PDF
    assert post(admin, f"{PAGE}/{form['id']}/hide", {}).status_code == 302
    with central.sessions() as s:
        hidden = build_document(s, COMMUNE)
    assert [d["title"] for d in hidden["documents"]] == ["Nội quy", "Bảng phí"] and hidden["version"] != doc["version"]
    assert "ẩn" in admin.get(PAGE + "?lang=vi").text
    assert post(admin, f"{PAGE}/{form['id']}/remove", {}).status_code == 302
    assert counts(central) == (2, 0)


@pytest.mark.parametrize(
    "content, name, status",
    [
        (b"MZ\x90\x00 not a pdf at all", "to-khai.pdf", 400),  # a program named .pdf, sent as application/pdf
        (b"<html><script>alert(1)</script></html>", "to-khai.pdf", 400),
        (b"%PDF-1.7\n" + b"0" * 100, "cut.pdf", 400),  # the magic, but not a whole PDF
        (b"%PDF-1.4\n" + b"0" * MAX_PDF_BYTES + b"\n%%EOF\n", "big.pdf", 413),
        (b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024) + b"\n%%EOF\n", "huge.pdf", 413),  # past the body limit
    ],
)
def test_a_forged_or_oversized_upload_is_refused_and_nothing_is_written(
    central_app, central, people, content, name, status
):
    admin = sign_in(central_app, "qt-xa")
    answer = admin.post(
        PAGE,
        data={"kind": "form", "title": "Tờ khai", "csrf_token": token(admin, PAGE),
              "file": (io.BytesIO(content), name, "application/pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == status, answer.text[:300]
    if status == 400:
        assert "PDF" in answer.text
    assert counts(central) == (0, 0)


def test_only_the_communes_own_admin_may_post_and_csrf_is_checked(central_app, central, people):
    other = sign_in(central_app, "qt-xa-khac")
    assert other.get(PAGE).status_code == 403
    refused = post(other, PAGE, {"kind": "notice", "title": "x", "body": "y"}, page=f"/admin/posted/{OTHER_COMMUNE}")
    assert refused.status_code == 403
    viewer = sign_in(central_app, "xem-xa")
    assert viewer.get(PAGE).status_code == 403
    admin = sign_in(central_app, "qt-xa")
    admin.get(PAGE)
    no_token = admin.post(PAGE, data={"kind": "notice", "title": "x", "body": "y"})
    assert no_token.status_code in (400, 403)
    assert admin.get("/admin/posted/province/79").status_code == 403  # a province posts through an admin
    assert counts(central) == (0, 0)


def test_a_province_posts_to_all_its_communes_after_their_own(central_app, central, people):
    admin = sign_in(central_app, "quantri")
    page = "/admin/posted/province/79"
    assert (
        post(
            admin, page, {"kind": "notice", "title": "Lịch tiếp dân", "body": "Thứ Năm hằng tuần."}, page=page
        ).status_code
        == 302
    )
    assert post(admin, PAGE, {"kind": "rules", "title": "Nội quy", "body": "Giữ trật tự."}).status_code == 302
    with central.sessions() as s:
        here, there = build_document(s, COMMUNE), build_document(s, OTHER_COMMUNE)
    assert [d["title"] for d in here["documents"]] == ["Nội quy", "Lịch tiếp dân"]
    assert [d["title"] for d in there["documents"]] == ["Lịch tiếp dân"]
    assert "Posted by the province" in sign_in(central_app, "qt-xa").get(PAGE + "?lang=en").text


def test_a_commune_admin_hides_a_procedure_on_its_page(central_app, central, people):
    with transaction(central.sessions) as s:
        import_procedures(s, "79", EXAMPLE_PROCEDURES, central.clock.now())
    admin = sign_in(central_app, "qt-xa")
    page = admin.get(f"/admin/procedures/{COMMUNE}?lang=vi").text
    assert "Đăng ký khai sinh" in page and re.search(r'id="p-1\.001193"', page)
    path = f"/admin/procedures/{COMMUNE}/1.001193"
    hidden = post(admin, path, {"hidden": "1"}, page=f"/admin/procedures/{COMMUNE}")
    assert hidden.status_code == 302
    with central.sessions() as s:
        assert "1.001193" not in [p["code"] for p in procedures_document(s, COMMUNE)["procedures"]]
        assert "1.001193" in [p["code"] for p in procedures_document(s, OTHER_COMMUNE)["procedures"]]
    assert post(admin, path, {"hidden": "0"}, page=f"/admin/procedures/{COMMUNE}").status_code == 302
    with central.sessions() as s:
        assert "1.001193" in [p["code"] for p in procedures_document(s, COMMUNE)["procedures"]]
    other = sign_in(central_app, "qt-xa-khac")
    assert other.get(f"/admin/procedures/{COMMUNE}").status_code == 403
    assert post(other, path, {"hidden": "1"}, page=f"/admin/procedures/{OTHER_COMMUNE}").status_code == 403
    assert admin.post(path, data={"hidden": "1"}).status_code in (400, 403)  # no CSRF token
    assert (
        post(
            admin, f"/admin/procedures/{COMMUNE}/9.999999", {"hidden": "1"}, page=f"/admin/procedures/{COMMUNE}"
        ).status_code
        == 404
    )


def test_an_admin_chooses_the_commune_or_the_province(central_app, central, people):
    admin = sign_in(central_app, "quantri")
    posted = admin.get("/admin/posted?lang=vi").text
    assert "<h1>Niêm yết</h1>" in posted and f'href="/admin/posted/{OTHER_COMMUNE}"' in posted
    assert 'href="/admin/posted/province/79"' in posted
    procedures = admin.get("/admin/procedures?lang=vi").text
    assert "<h1>Thủ tục</h1>" in procedures and f'href="/admin/procedures/{COMMUNE}"' in procedures
    assert "/admin/posted/province" not in sign_in(central_app, "qt-xa").get(PAGE).text


def test_a_fee_line_without_an_amount_or_a_bad_order_is_refused_naming_it(central_app, central, people):
    admin = sign_in(central_app, "qt-xa")
    bad_line = post(
        admin,
        PAGE + "?lang=vi",
        {"kind": "fees", "title": "Bảng phí", "rows": "Chứng thực | 2.000 đ\nChứng thực chữ ký"},
    )
    assert bad_line.status_code == 400
    assert "Dòng 2 của bảng phí" in bad_line.text
    bad_order = post(admin, PAGE + "?lang=vi", {"kind": "notice", "title": "Thông báo", "body": "x", "position": "-1"})
    assert bad_order.status_code == 400 and "Thứ tự phải là số nguyên từ 0 đến 999" in bad_order.text
    assert counts(central) == (0, 0)
