"""JSON in and out for the API: strict body parsing and plain-words errors, never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from kiosk.errors import KioskError
from web.input_guard import BadBody, parse_json

log = logging.getLogger(__name__)

__all__ = ["BadBody", "error_response", "install_error_handlers", "read_json", "wants_json"]


def error_response(status: int, message: str, detail: Any = None) -> Response:
    response = jsonify({"error": message, "detail": detail})
    response.status_code = status
    return response


def read_json() -> dict[str, Any]:
    """The request body as a JSON object; raises BadBody (400) with a plain reason otherwise.

    Every JSON endpoint reads its body here, so hostile JSON (nesting, huge numbers, NaN, lone surrogates,
    control characters) is refused in one place, naming the field (``web.input_guard``).
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


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(KioskError)
    def _kiosk_error(exc: KioskError):
        if exc.status >= 500:
            log.error("%s: %s", type(exc).__name__, exc.message)
        return error_response(exc.status, exc.message, exc.detail)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json():
            return exc
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
            return "The kiosk hit an unexpected error. Please tell the clerk.", 500
        return error_response(500, "The kiosk hit an unexpected error; the action was not saved. Try again.")
