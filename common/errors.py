"""One error base class; each subclass also inherits the matching builtin.

Messages name the object and the next step, so a clerk or technician knows what to do.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""

    #: HTTP status the web layer answers with.
    status = 500
    #: Short machine-readable code for JSON answers.
    code = "kiosk_error"
    #: Exit status of the `kiosk` command (2 = configuration or input; 4 = damaged or missing database).
    exit_status = 2

    def __init__(self, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class ValidationError(KioskError, ValueError):
    """Input that cannot be accepted as given."""

    status = 400
    code = "invalid"


class NotFoundError(KioskError, LookupError):
    """A referenced object (counter, service, ticket, clerk) does not exist."""

    status = 404
    code = "not_found"


class ConflictError(KioskError, RuntimeError):
    """The request is well-formed but clashes with the current state."""

    status = 409
    code = "conflict"


class AuthError(KioskError, PermissionError):
    """Missing or wrong credentials."""

    status = 401
    code = "unauthorized"


class ConfigError(KioskError, ValueError):
    """A setting has a value the kiosk cannot use."""

    status = 500
    code = "config"


class DatabaseDamagedError(KioskError, OSError):
    """The device database is missing where one existed, empty, truncated or fails its integrity check.

    `kiosk serve` refuses to start (exit status 4, which kiosk.service does not restart): a fresh empty
    database in its place would hide every rating not yet synced. Found while the kiosk runs
    (:mod:`kiosk.storage_watch`), every write is refused (503) until a technician acts.
    """

    status = 503
    code = "database_damaged"
    exit_status = 4


class DiskFull(KioskError, OSError):
    """A write failed, or would, because the kiosk's disk is full. Nothing was saved."""

    status = 507
    code = "disk_full"


class HardwareError(KioskError, OSError):
    """A device at the edge (printer, pins, audio) failed."""

    status = 503
    code = "hardware"


class PrinterError(HardwareError):
    """The ticket printer failed; the ticket itself is never lost."""

    code = "printer"


class SyncError(KioskError, ConnectionError):
    """The central server could not be reached or refused a batch."""

    status = 502
    code = "sync"


class ForbiddenError(KioskError, PermissionError):
    """Known credentials that may not do this (a disabled device, another commune's data, a role)."""

    status = 403
    code = "forbidden"


class TooManyRequests(KioskError, PermissionError):
    """Too many requests, or wrong tries, from one source: refused for about ``retry_after`` seconds (429)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, detail: object = None, retry_after: int | None = None) -> None:
        super().__init__(message, detail)
        self.retry_after = retry_after


class LockedOut(TooManyRequests):
    """Sign-in is locked after too many wrong secrets in a row (clerk PINs, the admin password)."""

    code = "locked"


def refusal(field: str | None, msgid: str, **params: object) -> ValidationError:
    """A 400 whose message a page can show translated: ``msgid`` (English, with %(name)s placeholders) and
    ``params`` travel in the detail; ``common.web.error_pages.message_of`` translates them, the CLI and JSON show the
    English. ``python -m common.web.i18n_catalog`` extracts the msgid (keyword ``refusal``, second argument)."""
    return ValidationError(msgid % params, {"field": field, "msgid": msgid, "params": params})


def refused_as(kind: type[KioskError], field: str | None, msgid: str, **params: object) -> KioskError:
    """Like :func:`refusal`, for any kind of refusal (a 404, a 409): ``msgid`` and ``params`` travel in the detail
    (keyword ``refused_as``, third argument, for ``python -m common.web.i18n_catalog``)."""
    return kind(msgid % params, {"field": field, "msgid": msgid, "params": params})
