"""JSON in and out for the API: strict body parsing and plain-words errors, never a 500 for bad input."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from common.errors import KioskError
from common.fault_log import FaultLog
from common.web.input_guard import BadBody, parse_json

log = logging.getLogger(__name__)

#: Seconds after which an unexpected-error page tries again (a public screen must not stay on it).
ERROR_RETRY = 30

__all__ = ["BadBody", "error_response", "install_error_handlers", "read_json", "storage_message", "wants_json"]


def error_response(status: int, message: str, detail: Any = None) -> Response:
    response = jsonify({"error": message, "detail": detail})
    response.status_code = status
    return response


def read_json() -> dict[str, Any]:
    """The request body as a JSON object; raises BadBody (400) with a plain reason otherwise.

    Every JSON endpoint reads its body here, so hostile JSON (nesting, huge numbers, NaN, lone surrogates,
    control characters) is refused in one place, naming the field (``common.web.input_guard``).
    """
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH → 413 from werkzeug
    if not raw:
        raise BadBody("The request has no body; send a JSON object.")
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise BadBody('The body must be a JSON object such as {"level": "satisfied"}.')
    return data


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path == "/healthz"
        or request.accept_mimetypes.best == "application/json"
    )


def storage_message(code: str) -> str | None:
    """What a citizen or clerk is told when the kiosk's storage fails (in the page's language)."""
    if code == "disk_full":
        return gettext(
            "The kiosk's storage is full: this was not saved. Please tell the technician; nothing saved before is lost."
        )
    if code == "database_damaged":
        return gettext("The kiosk's database is damaged: this was not saved. Please tell the technician.")
    return None


def install_error_handlers(
    app: Flask,
    page_template: str | None = None,
    classify: Callable[[BaseException, str], KioskError | None] | None = None,
    translate: bool = False,
) -> None:
    """JSON errors for the APIs, never a traceback to the client; for a browser asking for a page,
    ``page_template`` (404/405/500…) in the reader's language.

    ``translate``: a refusal that carries its gettext ``msgid`` is answered in the reader's language
    (the kiosk's screens and consoles: Vietnamese first).

    ``classify`` turns a storage fault (a full disk, a damaged database) into its KioskError; repeated
    unexpected errors are logged once a minute with a count (``kiosk.storage_watch.FaultLog``).
    """
    from common.web.error_pages import error_page, message_of

    faults = FaultLog(log)

    def answer(exc: KioskError):
        if exc.status >= 500 and storage_message(exc.code) is None:
            faults.emit(f"{type(exc).__name__}:{exc.message[:80]}", f"{type(exc).__name__}: {exc.message}")
        carries_msgid = isinstance(exc.detail, dict) and exc.detail.get("msgid")
        message = storage_message(exc.code) or (message_of(exc) if translate and carries_msgid else exc.message)
        if not wants_json() and storage_message(exc.code):
            return message, exc.status
        return error_response(exc.status, message, exc.detail)

    @app.errorhandler(KioskError)
    def _kiosk_error(exc: KioskError):
        return answer(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json():
            if page_template is None or exc.code is None or exc.code < 400:
                return exc
            body, status = error_page(page_template, exc.code)
            return body, status, [(k, v) for k, v in exc.get_headers() if k == "Allow"]
        messages = {
            413: f"The request body is larger than {app.config['MAX_CONTENT_LENGTH'] // 1024} KiB.",
            404: f"There is no {request.path} here.",
            405: f"{request.method} is not allowed on {request.path}.",
        }
        return error_response(exc.code or 500, messages.get(exc.code, exc.description))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        known = classify(exc, f"{request.method} {request.path}") if classify else None
        if known is not None:
            return answer(known)
        faults.emit(
            f"unexpected:{type(exc).__name__}:{request.endpoint}",
            f"unexpected error on {request.method} {request.path}",
            exc_info=exc,
        )
        if not wants_json():
            if page_template is None:
                return "The kiosk hit an unexpected error. Please tell the clerk.", 500
            return error_page(page_template, 500, retry=ERROR_RETRY)
        return error_response(500, "The kiosk hit an unexpected error; the action was not saved. Try again.")
