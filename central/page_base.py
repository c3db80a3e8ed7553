"""What every blueprint of the central server's pages shares: CSRF checks and plain-words error pages."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from common.errors import KioskError
from common.web import csrf
from common.web.error_pages import message_of
from common.web.jsonapi import error_response

#: Paths that answer data (JSON, files): they get 401/403 as JSON, never a redirect or an HTML page.
DATA_SUFFIXES = (".json", ".csv", ".xlsx", ".docx")


def wants_page() -> bool:
    """HTML pages redirect to sign-in and show errors as a page, and so do a browser's form posts (a refused
    "Đã trả lời" shows a page in the reader's language); data, exports and other clients' posts answer JSON."""
    if request.path.endswith(DATA_SUFFIXES):
        return False
    return request.method == "GET" or bool(request.accept_mimetypes.accept_html)


def error_page(exc: KioskError):
    """A refusal on a page, in the page's language (its ``msgid`` translated); JSON for data and posts."""
    if wants_page():
        return render_template("central/error.html", message=message_of(exc), status=exc.status), exc.status
    return error_response(exc.status, exc.message, exc.detail)


def page_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of the pages: CSRF-checked on every unsafe method, errors shown in plain words."""
    bp = Blueprint(name, import_name)
    csrf.protect(bp)
    bp.register_error_handler(KioskError, error_page)
    return bp
