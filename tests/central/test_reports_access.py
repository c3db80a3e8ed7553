"""Who sees what: sign-in, roles, commune scope on every page, JSON and export; the comments inbox.

A commune viewer of A gets nothing of B — not in pages, not in JSON, not in any export. Contact details
are shown only to the roles that answer comments. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from central.models import Device, User
from central.registry import add_user
from tests.central import report_fixture
from tests.central.helpers import TEST_PASSWORD, sign_in, token

loaded = report_fixture.loaded
B_WORDS = ("Xã Bình Minh", "Lê Văn Cường", "Phải chờ lâu quá", "0987654321", "Kiosk B")
QUARTER = "period=quarter&year=2026&quarter=1"


@pytest.fixture(scope="module")
def site(loaded):
    app, province = loaded
    central = app.extensions["central"]
    add_user(central, "admin", TEST_PASSWORD, "admin")
    add_user(central, "xem-a", TEST_PASSWORD, "commune_viewer", "A")
    add_user(central, "xem-ab", TEST_PASSWORD, "commune_viewer", "A", None, ["B"])  # a former district's communes
    add_user(central, "xuly-a", TEST_PASSWORD, "handler", "A")
    add_user(central, "xuly-b", TEST_PASSWORD, "handler", "B")
    return app, province


def comment_url(app, province, key: str) -> str:
    comment = province.comments[key]
    feed = province.feeds[key[0]]
    return f"/comments/{feed.commune}/{feed.device}/{comment['id']}"


def docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def xlsx_text(data: bytes) -> str:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None)


def test_every_page_needs_a_signed_in_user(site):
    app, _ = site
    client = app.test_client()
    assert client.get("/reports").status_code == 302
    assert "/login" in client.get("/reports").headers["Location"]
    assert client.get("/comments").status_code == 302
    for path in (
        "/reports/data.json",
        "/reports/export.csv",
        "/reports/export.docx",
        "/fleet.json",
        "/comments/export.csv",
    ):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert answer.json["error"]


def test_password_hashed_wrong_password_refused_and_cookie_flags(site):
    app, _ = site
    with app.extensions["central"].sessions() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "xem-a"))
    assert TEST_PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    client = app.test_client()
    wrong = client.post("/login", data={"username": "xem-a", "password": "sai-rồi-nhé", "csrf_token": token(client)})
    assert wrong.status_code == 401
    assert client.get("/reports/data.json").status_code == 401
    no_token = app.test_client().post("/login", data={"username": "xem-a", "password": TEST_PASSWORD})
    assert no_token.status_code == 400
    client = app.test_client()
    answer = client.post("/login", data={"username": "xem-a", "password": TEST_PASSWORD, "csrf_token": token(client)})
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Content-Security-Policy" in client.get("/reports").headers


def test_sign_out_needs_the_form_token(site):
    app, _ = site
    client = sign_in(app, "xem-a")
    assert client.post("/logout").status_code == 400
    assert client.get("/reports/data.json").status_code == 200
    assert client.post("/logout", data={"csrf_token": token(client, "/reports")}).status_code == 302
    assert client.get("/reports/data.json").status_code == 401


def test_a_commune_viewer_of_a_gets_nothing_of_b(site):
    app, province = site
    client = sign_in(app, "xem-a")
    b1 = province.clerks["B1"]
    for path in (
        f"/reports?{QUARTER}&commune=B",
        f"/reports/data.json?{QUARTER}&commune=B",
        f"/reports/export.csv?{QUARTER}&commune=B",
        f"/reports/export.xlsx?{QUARTER}&commune=B",
        f"/reports/export.docx?{QUARTER}&commune=B",
        f"/reports/data.json?{QUARTER}&clerk={b1}",
        f"/reports/export.csv?{QUARTER}&clerk={b1}",
        "/comments?commune=B",
        "/comments/export.csv?commune=B",
        comment_url(app, province, "B_contact"),
    ):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert not any(word in answer.text for word in B_WORDS), path
    data = client.get(f"/reports/data.json?{QUARTER}").json
    assert [c["code"] for c in data["communes"]] == ["A"]
    assert data["summary"]["ratings"] == 8
    assert {c["commune"] for c in data["clerks"]} == {"A"}
    texts = [
        client.get(f"/reports?{QUARTER}").text,
        client.get(f"/reports/export.csv?{QUARTER}").data.decode("utf-8-sig"),
        xlsx_text(client.get(f"/reports/export.xlsx?{QUARTER}").data),
        docx_text(client.get(f"/reports/export.docx?{QUARTER}").data),
        client.get("/comments").text,
        client.get("/comments/export.csv").data.decode("utf-8-sig"),
        client.get("/fleet").text,
        str(client.get("/fleet.json").json),
    ]
    for text in texts:
        assert not any(word in text for word in B_WORDS)
    assert "Xã An Bình" in texts[0] and "Nguyễn Văn An" in texts[2]
    assert [d["commune"] for d in client.get("/fleet.json").json["devices"]] == ["A"]


def test_a_viewer_of_several_communes_sees_those_only(site):
    app, _ = site
    client = sign_in(app, "xem-ab")
    data = client.get(f"/reports/data.json?{QUARTER}").json
    assert [c["code"] for c in data["communes"]] == ["A", "B"]
    assert data["summary"]["ratings"] == 11
    assert client.get(f"/reports/data.json?{QUARTER}&commune=C").status_code == 403
    assert client.get(f"/reports/data.json?{QUARTER}&commune=B").json["summary"]["ratings"] == 3
    # the former district D1 (A and B) as one filter, for the administrator; its two communes, for the viewer
    admin = sign_in(app, "admin")
    d1 = admin.get(f"/reports/data.json?{QUARTER}&district=D1").json
    assert [c["code"] for c in d1["communes"]] == ["A", "B"] and d1["summary"]["ratings"] == 11
    assert [d["code"] for d in admin.get(f"/reports/data.json?{QUARTER}").json["districts"]] == ["D1", "D2"]
    assert [c["code"] for c in client.get(f"/reports/data.json?{QUARTER}&district=D2").json["communes"]] == []


def test_contact_details_only_for_the_roles_that_answer(site):
    app, province = site
    contact = province.comments["A_injection"]["contact"]
    viewer = sign_in(app, "xem-a")
    url = comment_url(app, province, "A_injection")
    for text in (viewer.get("/comments").text, viewer.get(url).text, viewer.get("/comments/export.csv").text):
        assert contact not in text
    assert "HYPERLINK" in viewer.get(url).text  # the text itself is readable
    assert viewer.get(url + "/thanks.docx").status_code == 403
    assert viewer.post(url + "/read", data={"csrf_token": token(viewer, url)}).status_code == 403
    handler = sign_in(app, "xuly-a")
    assert contact in handler.get(url).text
    assert contact in handler.get("/comments/export.csv").data.decode("utf-8-sig")
    assert handler.get(f"/reports?{QUARTER}").status_code == 403  # a handler answers comments, no reports
    other = sign_in(app, "xuly-b")
    assert other.get(url).status_code == 403
    assert contact not in other.get("/comments").text


def test_comment_workflow_and_thank_you_letter(site):
    app, province = site
    handler = sign_in(app, "xuly-a")
    url = comment_url(app, province, "A_injection")
    with app.extensions["central"].sessions() as s:
        me = s.scalar(select(User.id).where(User.username == "xuly-a"))
    assert handler.post(url + "/read").status_code == 400  # no CSRF token
    csrf = token(handler, url)
    assert handler.post(url + "/read", data={"csrf_token": csrf}).status_code == 302
    assert "Đã đọc" in handler.get("/comments?lang=vi").text
    assert handler.post(url + "/assign", data={"csrf_token": csrf, "user": "nobody"}).status_code == 400
    assert handler.post(url + "/assign", data={"csrf_token": csrf, "user": me}).status_code == 302
    assert handler.post(url + "/answer", data={"csrf_token": csrf, "reply_note": "  "}).status_code == 400
    note = "Đã gọi điện giải thích quy trình chứng thực cho công dân."
    assert handler.post(url + "/answer", data={"csrf_token": csrf, "reply_note": note}).status_code == 302
    page = handler.get(url + "?lang=vi").text
    assert note in page and "Đã trả lời" in page
    assert "Đã trả lời" in handler.get("/comments?status=answered&lang=vi").text
    letter = handler.get(url + "/thanks.docx")
    assert letter.status_code == 200
    text = docx_text(letter.data)
    assert "THƯ CẢM ƠN" in text and province.comments["A_injection"]["contact"] in text
    assert note in text and "ỦY BAN NHÂN DÂN XÃ AN BÌNH" in text and "10/02/2026" in text
    plain = comment_url(app, province, "A_plain")
    assert handler.get(plain + "/thanks.docx").status_code == 409  # no contact left: nobody to write to


def test_fleet_shows_silent_kiosks_first(site):
    app, province = site
    devices = sign_in(app, "admin").get("/fleet.json").json["devices"]
    assert [d["commune"] for d in devices] == ["B", "A", "C"]  # B has been silent five days
    b, a = devices[0], devices[1]
    assert b["silent"] and not a["silent"]
    assert (a["unsynced"], a["printer"], a["version"], a["clock_offset"]) == (0, "ok", "1.0.0", 0.0)
    assert b["hours_since_contact"] == 120.0
    # Tuesday 31 March 10:00 → Sunday 5 April 10:00: Tue 7 h + Wed, Thu, Fri 10 h each, weekend none
    assert b["office_hours_since_contact"] == 37.0 and a["office_hours_since_contact"] == 0.0
    page = sign_in(app, "admin").get("/fleet?lang=vi").text
    assert page.index("Kiosk B") < page.index("Kiosk A")
    assert 'class="silent"' in page
    with app.extensions["central"].sessions() as s:
        assert s.scalar(select(Device.id).where(Device.commune_code == "B")) == province.feeds["B"].device


def test_the_dashboard_page_shows_the_figures_and_charts(site):
    app, _ = site
    client = sign_in(app, "xem-a")
    page = client.get(f"/reports?{QUARTER}&lang=vi").text
    assert "quý I năm 2026" in page and "87,5%" in page and "62,5" in page  # the Vietnamese decimal comma
    words = re.sub(r"<[^>]+>", " ", page)  # what a reader sees (SVG coordinates are not figures)
    assert not re.search(r"\d\.\d", words), re.findall(r".{20}\d\.\d.{20}", words)
    assert page.count("<svg") == 4  # levels, trend, two heat maps: drawn on the server, no script
    assert "<script" not in page
    assert "Hoàn thành 100%" in page  # the TT 01 band of Nguyễn Văn An, in the catalogue's wording
    english = client.get(f"/reports?{QUARTER}&lang=en").text
    assert "Satisfied or above" in english and "Completed 100% of duties" in english
    assert "87.5%" in english and "62.5" in english and not re.search(r"\d,\d", re.sub(r"<[^>]+>", " ", english))


@pytest.mark.parametrize(
    "query",
    [
        "period=decade",
        "period=month&month=13",
        "period=custom&from=2026-02-30&to=2026-03-01",
        "period=custom&from=2026-03-01&to=2026-01-01",
        "period=custom&from=2020-01-01&to=2026-01-01",
        "counter=abc",
        "counter=1",  # counters are numbered per commune: without one commune chosen it means nothing
        "site=TT",
        "district=D-1",
        "clerk=not-a-uuid",
        "service=<script>",
        "commune=a;drop",
    ],
)
def test_bad_filters_get_a_plain_400(site, query):
    app, _ = site
    client = sign_in(app, "admin")
    answer = client.get(f"/reports/data.json?{query}")
    assert answer.status_code == 400, answer.text
    assert answer.json["error"]
    page = client.get(f"/reports?{query}")
    assert page.status_code == 400 and "<html" in page.text


def test_an_unknown_clerk_is_404_and_a_handler_lands_on_the_inbox(site):
    app, _ = site
    client = sign_in(app, "admin")
    assert client.get("/reports/data.json?clerk=00000000-0000-4000-8000-000000000000").status_code == 404
    handler = sign_in(app, "xuly-a")
    assert handler.get("/").headers["Location"].endswith("/comments")
