"""Dossier codes (mã hồ sơ): what a clerk attaches to the ticket she serves, so the citizen's rating names them.

Thông tư 01/2018/TT-VPCP evaluates each dossier. The provincial one-stop system prints the dossier code on the
receipt (giấy tiếp nhận), often as a barcode; the clerk types it or scans it with a USB scanner, which types like
a keyboard and ends with Enter. A visit may hand in several dossiers: a ticket carries up to
:data:`MAX_CODES` codes. Each attachment (or removal) is a ``dossier`` clerk action — a record, synced and never
changed — and the codes the ticket carries when it is rated are copied into the rating (``dossier_codes``,
separated by spaces), which the central server exports per dossier code (docs/dossiers.md).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from common.errors import ValidationError

#: Codes per ticket, and the length of one code (the rating's field holds them all, separated by spaces).
MAX_CODES = 10
MAX_LENGTH = 50
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]*$")


def clean_code(value: Any) -> str:
    """A dossier code as stored: NFC, trimmed, upper case; ValidationError (with ``detail.reason``) otherwise.

    A Vietnamese input method left on while scanning turns letters into Vietnamese ones ("AA" → "Â"); such a code
    is refused with a reason of its own, so the console can say to switch the input method off.
    """
    if not isinstance(value, str):
        raise ValidationError("code must be text, e.g. 000.00.12.H56-250701-0001.", {"field": "code"})
    code = unicodedata.normalize("NFC", value).strip().upper()
    if not code:
        raise ValidationError("Type or scan the dossier code.", {"field": "code", "reason": "empty"})
    if len(code) > MAX_LENGTH:
        raise ValidationError(
            f"The dossier code has {len(code)} characters; at most {MAX_LENGTH}.", {"field": "code", "reason": "long"}
        )
    if not code.isascii():
        raise ValidationError(
            f"The dossier code {code!r} has Vietnamese letters: switch the Vietnamese input method (Unikey) off "
            "while scanning, then scan again.",
            {"field": "code", "reason": "not_ascii"},
        )
    if not CODE_RE.match(code):
        raise ValidationError(
            f"The dossier code {code!r} may hold only letters, digits and . - _ /.",
            {"field": "code", "reason": "characters"},
        )
    return code


def codes_of(text: str | None) -> list[str]:
    return text.split() if text else []
