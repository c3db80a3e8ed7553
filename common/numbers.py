"""Numbers as people read them: the decimal comma in Vietnamese (87,5; 10.000), the point in English (87.5; 10,000).

One function for the kiosk's `/admin`, the central server's pages and the Vietnamese documents, so that the same
figure is written the same way everywhere. Values are rounded half up first (:func:`common.tt01.round1` rules),
so Babel's own half-even rounding never changes a digit (1.25 is shown 1,3, never 1,2).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

DASH = "—"


def _locale(locale: object) -> str:
    text = str(locale or "vi")
    return "vi" if text.startswith("vi") else "en"


def decimal(value: float | int | Decimal | None, locale: object = "vi", digits: int = 1, group: bool = True) -> str:
    """``value`` with ``digits`` decimals (half up) in ``locale``; "—" for None. Whole numbers (int) stay whole."""
    if value is None:
        return DASH
    pattern = ("#,##0" if group else "0") + ("." + "0" * digits if digits and not isinstance(value, int) else "")
    number = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    if not isinstance(value, int):
        number = number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    if number == 0:
        number = abs(number)  # never "-0,0"
    return format_decimal(number, format=pattern, locale=_locale(locale))


def percent(value: float | None, locale: object = "vi") -> str:
    """A share already in per cent (87.5) as "87,5%"; "—" for None."""
    return DASH if value is None else decimal(value, locale) + "%"


def signed(value: float | None, locale: object = "vi") -> str:
    """A change, with its sign: "+37,5", "−2,0"."""
    if value is None:
        return DASH
    text = decimal(abs(value), locale)
    return ("+" if value >= 0 else "−") + text


def megabytes(value: float | None, locale: object = "vi") -> str:
    """A size in MB as people read it: "512 MB" below a gigabyte, "76,6 GB" from one ("—" for None); never
    "78395.5 MB" with a point in a Vietnamese page."""
    if value is None:
        return DASH
    if value >= 1024:
        return decimal(value / 1024, locale) + " GB"
    return decimal(int(round(value)), locale) + " MB"
