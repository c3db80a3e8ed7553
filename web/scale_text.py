"""The rating scale and TT 01 indicators in the screen's language.

The Vietnamese wording is data (settings and ``kiosk/scale.py``: a province may say "Chưa hài lòng"), so in
Vietnamese the configured words are shown unchanged. In another language the known levels and indicators are
shown through gettext with English msgids; a level a province added itself keeps its configured label.
"""

from __future__ import annotations

from dataclasses import replace

from flask_babel import get_locale, lazy_gettext

from kiosk.scale import Indicator, Level

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
