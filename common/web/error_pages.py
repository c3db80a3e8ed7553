"""Error pages in the reader's language, for the kiosk and the central server alike.

A browser that asks for a page gets a page (404, 405, 500…) in Vietnamese first, with a way back; the JSON
APIs keep their JSON errors (:mod:`common.web.jsonapi`). A refusal raised with a translatable ``msgid`` in its
detail (see ``kiosk/catalog_edit.py``, ``central/reports/periods.py``) is shown translated.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import render_template
from flask_babel import gettext, lazy_gettext

from common.errors import KioskError

log = logging.getLogger(__name__)

TITLES = {
    404: lazy_gettext("Page not found"),
    405: lazy_gettext("This page cannot be opened this way"),
    500: lazy_gettext("Something went wrong"),
}
MESSAGES = {
    400: lazy_gettext("The request could not be understood. Go back and try again."),
    404: lazy_gettext("There is no such page here. Check the address, or go back to the start."),
    405: lazy_gettext("This page cannot be opened this way. Go back and use the buttons on the page."),
    413: lazy_gettext("What was sent is too large."),
    500: lazy_gettext(
        "Something went wrong here and nothing was changed. Try again, and tell the technician if it happens again."
    ),
}
#: When even the page cannot be drawn (the error is in the templates themselves).
LAST_RESORT = "Đã xảy ra lỗi; chưa có gì thay đổi. Xin thử lại. / Something went wrong; nothing was changed."


def message_of(exc: KioskError) -> str:
    """A refusal in the page's language: its ``msgid`` translated when it carries one, else its message."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    if exc.code == "csrf":
        return gettext("This form is out of date or did not come from this page: reload the page and send it again.")
    if detail.get("msgid"):
        return gettext(detail["msgid"], **detail.get("params", {}))
    return exc.message


def http_message(status: int) -> tuple[str, str]:
    """(title, message) of an HTTP error status."""
    message = MESSAGES.get(status)
    if message is None:
        message = lazy_gettext("This cannot be done (error %(code)s).", code=status)
    return str(TITLES.get(status, lazy_gettext("This cannot be shown"))), str(message)


def error_page(template: str, status: int, message: str | None = None, **context: Any) -> tuple[str, int]:
    """``template`` rendered with ``title``, ``message`` and ``status``; plain text if even that fails."""
    title, default = http_message(status)
    try:
        return render_template(template, title=title, message=message or default, status=status, **context), status
    except Exception:  # noqa: BLE001 - an error page must never raise in turn
        log.exception("the error page %s could not be drawn", template)
        return LAST_RESORT, status
