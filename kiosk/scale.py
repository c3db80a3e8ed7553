"""The rating scale as configured (levels, wording, points), over the TT 01 rules of :mod:`kiosk.tt01`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.errors import ConfigError
from kiosk.models import ScaleLevel
from kiosk.tt01 import ANSWER_LEVELS as INDICATOR_LEVELS
from kiosk.tt01 import ANSWER_POINTS as INDICATOR_POINTS
from kiosk.tt01 import DEFAULT_LEVELS, INDICATORS, Indicator

__all__ = ["DEFAULT_LEVELS", "INDICATORS", "INDICATOR_LEVELS", "INDICATOR_POINTS", "Indicator", "Level"]


@dataclass(frozen=True)
class Level:
    key: str
    label: str
    points: int
    position: int


def indicators_for(levels: list[Level]) -> list[Indicator]:
    """The indicators with the attitude answers in the scale's own wording (e.g. "Chưa hài lòng")."""
    labels = {level.key: level.label for level in levels}
    result = []
    for indicator in INDICATORS.values():
        if indicator.key == "attitude":
            answers = tuple(
                labels.get(key, default) for key, default in zip(INDICATOR_LEVELS, indicator.answers, strict=True)
            )
            indicator = replace(indicator, answers=answers)
        result.append(indicator)
    return result


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


def seed_levels(session: Session, levels: list[Level]) -> None:
    """Make the scale_levels table match the configured scale (levels not configured are deactivated)."""
    existing = {row.key: row for row in session.scalars(select(ScaleLevel))}
    wanted = {level.key for level in levels}
    for level in levels:
        row = existing.get(level.key) or ScaleLevel(key=level.key)
        row.label, row.points, row.position, row.active = level.label, level.points, level.position, True
        session.add(row)
    for key, row in existing.items():
        if key not in wanted:
            row.active = False


def active_levels(session: Session) -> list[Level]:
    rows = session.scalars(select(ScaleLevel).where(ScaleLevel.active).order_by(ScaleLevel.position))
    return [Level(r.key, r.label, r.points, r.position) for r in rows]
