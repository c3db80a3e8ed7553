"""The rating scale and TT 01 indicators in the screen's language.

The Vietnamese wording is data (settings and ``kiosk/scale.py``: a province may say "Chưa hài lòng"), so in
Vietnamese the configured words are shown unchanged. In another language the known levels and indicators are
shown through gettext with English msgids; a level a province added itself keeps its configured label.
The TT 01 bands (:mod:`common.tt01`) likewise: the regulation's words in Vietnamese, gettext otherwise.
"""

from __future__ import annotations

from dataclasses import replace

from flask_babel import get_locale, lazy_gettext

from common import numbers, tt01
from common.scale import Indicator, Level

LEVELS = {
    "very_satisfied": lazy_gettext("Very satisfied"),
    "satisfied": lazy_gettext("Satisfied"),
    "neutral": lazy_gettext("Neutral"),
    "unsatisfied": lazy_gettext("Unsatisfied"),
}

INDICATORS = {
    "time": (
        lazy_gettext("Time taken compared with the time allowed"),
        (lazy_gettext("Shorter than allowed"), lazy_gettext("As allowed"), lazy_gettext("Longer than allowed")),
    ),
    "contacts": (
        lazy_gettext("How many times you had to come back to complete the file"),
        (lazy_gettext("Not once"), lazy_gettext("Once"), lazy_gettext("More than once")),
    ),
    "agencies": (
        lazy_gettext("How many offices you had to contact"),
        (
            lazy_gettext("No office at all"),
            lazy_gettext("Only the one-stop counter"),
            lazy_gettext("More than one office"),
        ),
    ),
    "attitude": (lazy_gettext("The clerk's attitude"), None),
}


#: The ways of rating (``ratings.channel``), as the admin page names them.
CHANNELS = {
    "touch": lazy_gettext("Touch screen"),
    "button": lazy_gettext("Button panel"),
    "phone": lazy_gettext("Phone (ticket's QR code)"),
}


def _translating(default: str) -> bool:
    return str(get_locale() or default) != default


def localise(levels: list[Level], indicators: list[Indicator], default: str) -> tuple[list[Level], list[Indicator]]:
    """``levels`` and ``indicators`` worded for the current locale (unchanged in the default language ``default``)."""
    if not _translating(default):
        return levels, indicators
    labels = {level.key: str(LEVELS[level.key]) if level.key in LEVELS else level.label for level in levels}
    worded_levels = [replace(level, label=labels[level.key]) for level in levels]
    worded_indicators = []
    for indicator in indicators:
        question, answers = INDICATORS.get(indicator.key, (None, None))
        if indicator.key == "attitude":
            keys = ("very_satisfied", "satisfied", "unsatisfied")
            answers = tuple(labels.get(k, str(LEVELS[k])) for k in keys)
        worded_indicators.append(
            replace(
                indicator,
                question=str(question) if question is not None else indicator.question,
                answers=tuple(str(a) for a in answers) if answers else indicator.answers,
            )
        )
    return worded_levels, worded_indicators


#: The TT 01 bands of a clerk (10-point scale) and an agency (18-point scale), for pages not in Vietnamese.
BANDS = {
    "full": lazy_gettext("Completed 100%% of duties"),
    "partial": lazy_gettext("Completed 70%% to under 100%% of duties"),
    "low": lazy_gettext("Completed under 70%% of duties"),
    "excellent": lazy_gettext("Excellent"),
    "good": lazy_gettext("Good"),
    "fair": lazy_gettext("Fair"),
    "average": lazy_gettext("Average"),
    "weak": lazy_gettext("Weak"),
    tt01.INSUFFICIENT: lazy_gettext("Not enough answers yet"),
}


def band_label(result: dict | None) -> str:
    """The band of a :func:`common.tt01.grade` result: the regulation's own words in Vietnamese."""
    if result is None:
        return numbers.DASH
    if str(get_locale() or "vi").startswith("vi"):
        return result["band_label"]
    return str(BANDS.get(result["band"], result["band_label"])).replace("%%", "%")


def grade_text(result: dict | None) -> str:
    """The band with the converted score, "Hoàn thành 100% nhiệm vụ (7,4/10)", or "Chưa đủ số phiếu (3/5)"."""
    if result is None:
        return numbers.DASH
    if result["converted"] is None:
        return f"{band_label(result)} ({result['most_answers']}/{result['min_answers']})"
    return f"{band_label(result)} ({numbers.decimal(result['converted'], get_locale())}/{result['scale']})"


def level_text(key: str | None, label: str | None) -> str:
    """A rating level as the page shows it: the commune's wording in Vietnamese, gettext otherwise."""
    if key is None:
        return numbers.DASH
    if str(get_locale() or "vi").startswith("vi") or key not in LEVELS:
        return label or key
    return str(LEVELS[key])
