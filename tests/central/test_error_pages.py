"""Every error a browser sees is a page in the reader's language — the kiosk's and the central server's 404, 405 and
500, refusals on the report page, role names — while the JSON APIs keep their JSON errors.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from lxml import html

from central.registry import add_commune, add_user
from tests.central.helpers import TEST_PASSWORD, sign_in

HTML = {"Accept": "text/html,application/xhtml+xml"}


def visible(response) -> str:
    page = html.fromstring(response.get_data(as_text=True))
    return " ".join(page.xpath("//main")[0].text_content().split())


def assert_vietnamese_page(response, status: int, *phrases: str) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert '<html lang="vi">' in text
    words = visible(response)
    for phrase in phrases:
        assert phrase in words, words
    for english in ("Not Found", "Method Not Allowed", "Internal Server Error", "The requested URL"):
        assert english not in text
    return words


def with_a_bug(app):
    """A page that fails as a bug would (an unexpected exception), to see the 500 page a browser gets."""

    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/boom-for-test", "boom_for_test", boom)
    return app.test_client()


# --- the kiosk ----------------------------------------------------------------------------------------


def test_kiosk_404_405_and_500_pages_are_vietnamese(app):
    client = with_a_bug(app)
    assert_vietnamese_page(client.get("/no-such-page", headers=HTML), 404, "Không tìm thấy trang", "Về màn hình chính")
    not_allowed = client.delete("/", headers=HTML)
    assert_vietnamese_page(not_allowed, 405, "Không mở được trang theo cách này")
    assert "GET" in not_allowed.headers["Allow"]
    assert_vietnamese_page(client.get("/boom-for-test", headers=HTML), 500, "Đã xảy ra lỗi", "chưa có gì bị thay đổi")
    english = client.get("/no-such-page?lang=en", headers=HTML)
    assert english.status_code == 404 and "Page not found" in visible(english)


def test_kiosk_apis_keep_json_errors(client):
    answer = client.get("/api/no-such-thing")
    assert answer.status_code == 404 and answer.is_json and answer.json["error"]
    answer = client.delete("/api/tickets")
    assert answer.status_code == 405 and answer.is_json


# --- the central server ---------------------------------------------------------------------------------


@pytest.fixture
def office(central_app, central):
    add_commune(central, "X", "Xã Tân Hòa", "D1")
    add_user(central, "chutich", TEST_PASSWORD, "admin")
    add_user(central, "xuly-x", TEST_PASSWORD, "handler", "X")
    return central_app


def test_central_404_405_and_500_pages_are_vietnamese(office):
    client = with_a_bug(office)
    assert_vietnamese_page(client.get("/no-such-page", headers=HTML), 404, "Không tìm thấy trang")
    assert_vietnamese_page(client.delete("/login", headers=HTML), 405, "Không mở được trang theo cách này")
    assert_vietnamese_page(client.get("/boom-for-test", headers=HTML), 500, "Đã xảy ra lỗi")
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.is_json


def test_a_refusal_on_the_report_page_speaks_the_pages_language(office):
    client = sign_in(office, "chutich")
    backwards = "period=custom&from=2026-03-01&to=2026-01-01"
    words = assert_vietnamese_page(client.get(f"/reports?{backwards}&lang=vi"), 400)
    assert "Kỳ báo cáo kết thúc (01/01/2026) trước ngày bắt đầu (01/03/2026)" in words
    assert "--from" not in words and "swap" not in words
    english = visible(client.get(f"/reports?{backwards}&lang=en"))
    assert "The period ends (01/01/2026) before it starts (01/03/2026): swap the two dates." in english
    for query, phrase in [
        ("period=month&month=13", "Tháng phải là số nguyên từ 1 đến 12."),
        ("period=decade", "Hãy chọn kỳ báo cáo"),
        ("period=custom&from=2026-02-30&to=2026-03-01", '"Từ ngày" phải là một ngày'),
    ]:
        assert phrase in assert_vietnamese_page(client.get(f"/reports?{query}&lang=vi"), 400)
    data = client.get(f"/reports/data.json?{backwards}")  # the JSON keeps JSON
    assert data.status_code == 400 and data.is_json and "before it starts" in data.json["error"]


def test_role_names_are_words_not_keys(office):
    handler = sign_in(office, "xuly-x")
    words = assert_vietnamese_page(handler.get("/reports?lang=vi"), 403)
    assert "(Xử lý góp ý)" in words and "handler" not in words


def test_the_report_command_names_its_own_options(central_app, central, monkeypatch):
    from central.cli import main

    settings = central.settings
    monkeypatch.setenv("KIOSK_DATA_DIR", settings["data_dir"])
    monkeypatch.setenv("KIOSK_CENTRAL_DATABASE_URL", settings["central_database_url"])
    args = ["report", "--from", "2026-03-31", "--to", "2026-01-01", "--format", "csv", "--out", "x.csv"]
    result = CliRunner().invoke(main, args, obj={})
    assert result.exit_code == 2
    assert "The period ends (2026-01-01) before it starts (2026-03-31): swap --from and --to." in result.output


def test_a_refused_form_in_the_browser_gets_a_vietnamese_page(office):
    client = sign_in(office, "xuly-x")
    stale = client.post("/logout", headers=HTML, data={"csrf_token": "stale"})
    assert "Biểu mẫu đã cũ hoặc không được gửi từ trang này" in assert_vietnamese_page(stale, 400)
    assert client.post("/logout", data={"csrf_token": "stale"}).is_json  # another client: JSON as before
