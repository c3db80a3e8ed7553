"""Vietnamese first, English second, through Flask-Babel.

The catalogues are kept as ``.po`` sources in ``common/web/translations``; at start-up they are compiled into
the data directory (``DATA_DIR/i18n``), so no generated ``.mo`` file is kept in git and the package
directory may be read-only.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel

from common.settings import Settings

SOURCE = Path(__file__).with_name("translations")
LANGUAGES = ("vi", "en")


def compile_catalogues(target: Path) -> Path:
    """Compile every ``.po`` under common/web/translations into ``target`` when missing or older."""
    for po_path in SOURCE.glob("*/LC_MESSAGES/*.po"):
        mo_path = target / po_path.relative_to(SOURCE).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parts[-3])
        tmp = mo_path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo_path)
    return target


def select_locale(default: str) -> str:
    """The screen's language: ``?lang=`` (kept in the session), else the session's, else ``default``."""
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        return lang
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return default


def init_app(app: Flask, settings: Settings) -> None:
    """Flask-Babel for the kiosk's screens: the catalogues compiled under the data directory, the
    `language` setting when neither the query (``?lang=``) nor the session names one."""
    target = compile_catalogues(settings.data_path / "i18n")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    app.config["BABEL_DEFAULT_LOCALE"] = settings["language"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = settings["timezone"]
    Babel(app, locale_selector=lambda: select_locale(settings["language"]))

    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = lambda: str(get_locale() or settings["language"])
    app.jinja_env.globals["default_locale"] = settings["language"]
    app.jinja_env.globals["lang_url"] = lang_url


def lang_url(code: str) -> str:
    """This page in language ``code``, keeping its other query arguments (e.g. ``?counter=2``)."""
    from urllib.parse import urlencode

    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", code)]
    return request.path + "?" + urlencode(args)
