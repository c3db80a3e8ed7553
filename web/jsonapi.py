"""JSON in and out for the API: strict body parsing and plain-words errors, never a 500 for bad input."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from kiosk.errors import KioskError

log = logging.getLogger(__name__)


class BadBody(KioskError, ValueError):
    status = 400
    code = "bad_body"


def error_response(status: int, message: str, detail: Any = None) -> Response:
    response = jsonify({"error": message, "detail": detail})
    response.status_code = status
    return response


def read_json() -> dict[str, Any]:
    """The request body as a JSON object; raises BadBody (400) with a plain reason otherwise."""
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH → 413 from werkzeug
    if not raw:
        raise BadBody("The request has no body; send a JSON object.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody("The body is not valid UTF-8 text.", {"position": exc.start}) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadBody(f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from exc
    if not isinstance(data, dict):
        raise BadBody('The body must be a JSON object such as {"level": "satisfied"}.')
    return data


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path == "/healthz"
        or request.accept_mimetypes.best == "application/json"
    )


def install_error_handlers(app: Flask, html_pages: bool = False) -> None:
    """JSON errors for the API; for a browser, the kiosk's own pages (``html_pages``) or Werkzeug's."""

    @app.errorhandler(KioskError)
    def _kiosk_error(exc: KioskError):
        if exc.status >= 500:
            log.error("%s: %s", type(exc).__name__, exc.message)
        return error_response(exc.status, exc.message, exc.detail)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json():
            return error_page(exc.code or 500) if html_pages else exc
        messages = {
            413: f"The request body is larger than {app.config['MAX_CONTENT_LENGTH'] // 1024} KiB.",
            404: f"There is no {request.path} here.",
            405: f"{request.method} is not allowed on {request.path}.",
        }
        return error_response(exc.code or 500, messages.get(exc.code, exc.description))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        if not wants_json():
            if html_pages:
                return error_page(500)
            return "The kiosk hit an unexpected error. Please tell the clerk.", 500
        return error_response(500, "The kiosk hit an unexpected error; the action was not saved. Try again.")


#: Seconds after which an unexpected-error page tries again (a kiosk screen must not stay on it).
ERROR_RETRY = 30


def error_page(status: int) -> tuple[Any, int]:
    """The HTML error page for a browser, in the screen's language; plain text if even that cannot be drawn."""
    from flask import render_template
    from flask_babel import gettext

    pages = {
        404: (
            gettext("This page does not exist"),
            gettext("There is no page at %(path)s on this kiosk.", path=request.path),
        ),
        405: (gettext("Not allowed here"), gettext("This page cannot be used that way.")),
        413: (gettext("Too much data"), gettext("What was sent is too large for the kiosk.")),
    }
    title, message = pages.get(
        status,
        (gettext("The kiosk hit an unexpected error"), gettext("Nothing was saved. Please tell the clerk.")),
    )
    retry = ERROR_RETRY if status >= 500 else None
    try:
        return render_template("error.html", title=title, message=message, retry=retry), status
    except Exception:
        log.exception("the error page itself failed")
        return "The kiosk hit an unexpected error. Please tell the clerk.", status
