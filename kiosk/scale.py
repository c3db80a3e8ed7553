"""The rating scale as configured (levels, wording, points), over the TT 01 rules of :mod:`kiosk.tt01`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.errors import ConfigError
from kiosk.models import Question, ScaleLevel
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


def seed_questions(session: Session) -> list[str]:
    """Add the TT 01 questions the table lacks, in their official wording; returns the keys added."""
    have = set(session.scalars(select(Question.key)))
    added = []
    for position, indicator in enumerate(INDICATORS.values()):
        if indicator.key not in have:
            session.add(
                Question(
                    key=indicator.key,
                    question=indicator.question,
                    answers=list(indicator.answers),
                    position=position,
                    active=True,
                )
            )
            added.append(indicator.key)
    return added


def active_questions(session: Session) -> list[Indicator]:
    """The questions the detailed form asks, in order (every TT 01 indicator when none are stored yet)."""
    rows = list(session.scalars(select(Question).order_by(Question.position, Question.key)))
    if not rows:
        return list(INDICATORS.values())
    return [
        replace(INDICATORS[r.key], question=r.question, answers=_three(r.answers, INDICATORS[r.key].answers))
        for r in rows
        if r.active and r.key in INDICATORS
    ]


def _three(stored: object, default: tuple[str, str, str]) -> tuple[str, str, str]:
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
