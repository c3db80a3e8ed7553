"""The rating scale as configured (levels, wording, points), over the TT 01 rules of :mod:`common.tt01`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from common.errors import ConfigError
from common.tt01 import ANSWER_LEVELS as INDICATOR_LEVELS
from common.tt01 import ANSWER_POINTS as INDICATOR_POINTS
from common.tt01 import DEFAULT_LEVELS, INDICATORS, Indicator

__all__ = ["DEFAULT_LEVELS", "INDICATORS", "INDICATOR_LEVELS", "INDICATOR_POINTS", "Indicator", "Level"]


@dataclass(frozen=True)
class Level:
    key: str
    label: str
    points: int
    position: int


def indicators_for(levels: list[Level], questions: list[Indicator] | None = None) -> list[Indicator]:
    """The questions to ask (default: every TT 01 indicator), the attitude answers in the scale's own wording."""
    labels = {level.key: level.label for level in levels}
    result = []
    for indicator in INDICATORS.values() if questions is None else questions:
        if indicator.key == "attitude":
            answers = tuple(
                labels.get(key, default)
                for key, default in zip(INDICATOR_LEVELS, INDICATORS["attitude"].answers, strict=True)
            )
            indicator = replace(indicator, answers=answers)
        result.append(indicator)
    return result


def three_answers(stored: object, default: tuple[str, str, str]) -> tuple[str, str, str]:
    if isinstance(stored, list | tuple) and len(stored) == 3 and all(isinstance(a, str) and a for a in stored):
        return (stored[0], stored[1], stored[2])
    return default


def levels_from_settings(settings: Mapping) -> list[Level]:
    """The scale as configured: level keys from `rating_levels`, wording/points overridable."""
    keys = list(settings["rating_levels"])
    labels = dict(settings.get("rating_labels") or {})
    points = dict(settings.get("rating_points") or {})
    if not 2 <= len(keys) <= 5 or len(set(keys)) != len(keys):
        raise ConfigError(
            f"Setting rating_levels must list 2 to 5 different levels, not {keys!r}: "
            "the default is very_satisfied, satisfied, unsatisfied."
        )
    levels = []
    for position, key in enumerate(keys):
        if key not in DEFAULT_LEVELS and (key not in labels or key not in points):
            raise ConfigError(
                f"Rating level {key!r} in setting rating_levels is not a known level "
                f"({', '.join(DEFAULT_LEVELS)}): give it a label in rating_labels and points in rating_points."
            )
        label, default_points = DEFAULT_LEVELS.get(key, (key, 0))
        levels.append(Level(key, str(labels.get(key, label)), int(points.get(key, default_points)), position))
    return levels
