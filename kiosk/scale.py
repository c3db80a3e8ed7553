"""The device's stored scale and questions (tables ``scale_levels``, ``questions``), over :mod:`common.scale`."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.scale import (
    DEFAULT_LEVELS,
    INDICATOR_LEVELS,
    INDICATOR_POINTS,
    INDICATORS,
    Indicator,
    Level,
    indicators_for,
    levels_from_settings,
    three_answers,
)
from kiosk.models import Question, ScaleLevel

__all__ = [
    "DEFAULT_LEVELS",
    "INDICATORS",
    "INDICATOR_LEVELS",
    "INDICATOR_POINTS",
    "Indicator",
    "Level",
    "indicators_for",
    "levels_from_settings",
]


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
        replace(INDICATORS[r.key], question=r.question, answers=three_answers(r.answers, INDICATORS[r.key].answers))
        for r in rows
        if r.active and r.key in INDICATORS
    ]


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
