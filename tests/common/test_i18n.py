"""Two languages: every visible string goes through Flask-Babel, Vietnamese (default) and English are complete.

When this fails after you added text: wrap it in ``_()`` (templates) or ``gettext``/``lazy_gettext`` (Python),
run ``python -m common.web.i18n_catalog`` (rewrites the English catalogue, lists what Vietnamese lacks) and append the
Vietnamese translations at the end of ``common/web/translations/vi/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from common.web import i18n_catalog
from common.web.i18n import compile_catalogues
from tests.i18n_scan import attribute_blocks, untranslated

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "web" / "templates").glob("**/*.html")) + sorted(
    (ROOT / "sync").glob("**/templates/**/*.html")
)


@pytest.fixture(scope="module")
def messages():
    return i18n_catalog.extract()


def test_templates_hold_no_text_outside_gettext():
    skip = attribute_blocks([p.read_text(encoding="utf-8") for p in TEMPLATES])
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in TEMPLATES
        for line, text in untranslated(path.read_text(encoding="utf-8"), skip)
    ]
    assert not found, "user-visible text not wrapped in _():\n" + "\n".join(found)


def test_the_scan_sees_text_attributes_and_layout_blocks():
    """The checker itself: it must catch what it is there to catch, and not flag what is not text."""
    layout = '<html><body class="{% block cls %}{% endblock %}"><title>{% block title %}{% endblock %}</title>'
    page = (
        '{% extends "x" %}{% block cls %}wide{% endblock %}{% block title %}Hello{% endblock %}\n'
        '<p>{{ _("Fine") }} – {{ name }}</p>\n'
        '<button aria-label="Close" title="{{ _(\'x\') }}">×</button>\n'
        '<img alt="Logo"><input type="submit" value="Send"><input value="typed">\n'
        "<kbd>N</kbd> <a>English</a> <p>{# a note #}{% if x %}Hi{% endif %}</p>"
    )
    skip = attribute_blocks([layout])
    assert skip == {"cls"}
    assert [text for _line, text in untranslated(page, skip)] == [
        "Hello",
        'button aria-label="Close"',
        'img alt="Logo"',
        'input value="Send"',
        "Hi",
    ]
    assert [line for line, _text in untranslated(page, skip)] == [1, 3, 4, 4, 5]


def test_extraction_finds_templates_python_and_refusal_msgids(messages):
    places = {path for message in messages.values() for path, _line in message.locations}
    assert any(p.startswith("web/templates/") for p in places)
    assert any(p.endswith(".py") for p in places)
    assert "Thank you for your rating!" in messages  # template
    assert "Enter a whole number from %(low)s to %(high)s." in messages  # kiosk/catalog_edit.py invalid(...)
    assert "Fill in the service name." in messages  # kiosk/catalog_edit.py _text(...)


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_catalogue_has_a_translation_for_every_msgid(messages, locale):
    problems = i18n_catalog.problems(locale, messages)
    hint = "run `python -m common.web.i18n_catalog`" + (
        " and translate at the end of the .po" if locale == "vi" else ""
    )
    assert not problems, f"{locale} catalogue incomplete ({hint}):\n" + "\n".join(problems)


def test_a_missing_empty_or_fuzzy_entry_is_reported(tmp_path, monkeypatch):
    po = tmp_path / "xx" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Done"\nmsgstr "Xong"\n\nmsgid "Back"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Skip"\nmsgstr "Bỏ qua"\n\nmsgid "Counter %(n)s"\nmsgstr "Quầy"\n\n'
        'msgid "Done"\nmsgstr "Xong"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n_catalog, "TRANSLATIONS", tmp_path)
    wanted = {m: i18n_catalog.Message(m, locations=[("t.html", 1)]) for m in ("Done", "Back", "Skip", "Send")}
    wanted["Counter %(n)s"] = i18n_catalog.Message("Counter %(n)s", locations=[("t.html", 2)])
    problems = "\n".join(i18n_catalog.problems("xx", wanted))
    for kind, msgid in [("empty", "Back"), ("fuzzy", "Skip"), ("missing", "Send"), ("placeholders differ", "Counter")]:
        assert re.search(rf"^{kind}: '{msgid}", problems, re.M), problems
    assert "written twice: 'Done'" in problems


def test_catalogues_compile(tmp_path):
    target = compile_catalogues(tmp_path)
    for locale in ("vi", "en"):
        assert (target / locale / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000


PAGES = ["/", "/rate", "/ticket", "/display", "/clerk", "/admin/login"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_vietnamese_first_and_offers_english(client, path):
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert re.search(r'href="[^"]*lang=en"[^>]*>English</a>', html), "no visible switch to English"
    english = client.get(path + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert re.search(r'href="[^"]*lang=vi"[^>]*>Tiếng Việt</a>', english), "no switch back to Vietnamese"


def test_the_citizen_screen_in_english_has_no_vietnamese_left(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    for english in (
        "Very satisfied",
        "Satisfied",
        "Unsatisfied",
        "Time taken compared with the time allowed",
        "Thank you for your rating!",
    ):
        assert english in html
    # The on-screen keyboard's letter keys (ă â đ ê ô ơ ư) are letters to type, not Vietnamese text to translate.
    html = re.sub(r'<button[^>]*data-vk="[^"]*"[^>]*>[^<]*</button>', " ", html)
    text = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
    text = text.replace("Tiếng Việt", "")
    commune = client.application.extensions["kiosk"].settings["commune_name"]
    vietnamese = [
        w for w in text.replace(commune, "").split() if re.search(r"[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]", w, re.I)
    ]
    assert vietnamese == []


def test_the_switch_keeps_the_counter_and_the_choice_sticks(client):
    html = client.get("/?counter=2").get_data(as_text=True)
    assert re.search(r'href="/\?counter=2&amp;lang=en"', html)
    client.get("/?counter=2&lang=en")
    assert '<html lang="en">' in client.get("/ticket").get_data(as_text=True)


def test_the_central_server_is_vietnamese_first_and_offers_english(tmp_path):
    from central.app import create_central_app

    app = create_central_app({"data_dir": str(tmp_path / "central"), "TESTING": True})
    try:
        client = app.test_client()
        html = client.get("/login").get_data(as_text=True)
        assert '<html lang="vi">' in html
        assert re.search(r'href="[^"]*lang=en"[^>]*>English</a>', html)
        english = client.get("/login?lang=en").get_data(as_text=True)
        assert '<html lang="en">' in english and ">Sign in<" in english
    finally:
        app.extensions["central"].close()


def test_public_screens_go_back_to_vietnamese_by_themselves(client):
    """A citizen who chose English must not leave the kiosk in English: lang.js returns to the default."""
    for path in ("/", "/ticket"):
        english = client.get(path + "?lang=en").get_data(as_text=True)
        assert f'data-reset-url="{path}?lang=vi"' in english and "/static/lang.js" in english
        assert "/static/lang.js" not in client.get(path + "?lang=vi").get_data(as_text=True)
    assert "/static/lang.js" not in client.get("/clerk?lang=en").get_data(as_text=True)  # staff choose for themselves


def test_the_kiosks_own_error_pages_speak_the_screens_language(client):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.content_type
    html = missing.get_data(as_text=True)
    assert "<h1>Không tìm thấy trang</h1>" in html and 'href="/"' in html and "Not Found" not in html
    wrong = client.post("/display")
    assert wrong.status_code == 405 and "Không mở được trang theo cách này" in wrong.get_data(as_text=True)
    assert "Page not found" in client.get("/no-such-page?lang=en").get_data(as_text=True)
    client.get("/?lang=vi")
    assert client.get("/api/no-such-call").get_json()["error"] == "There is no /api/no-such-call here."  # API: JSON
