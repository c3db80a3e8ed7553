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


def active_levels(session: Session) -> list[Level]:
    rows = session.scalars(select(ScaleLevel).where(ScaleLevel.active).order_by(ScaleLevel.position))
    return [Level(r.key, r.label, r.points, r.position) for r in rows]
