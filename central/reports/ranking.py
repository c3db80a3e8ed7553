"""A fair ranking of clerks: the Bayesian average, so that three happy presses do not beat three hundred.

Each clerk's index (0–100) is pulled toward the index of everyone in the report, as if the clerk also
had ``PRIOR_WEIGHT`` presses at that average: ``(C·M + n·x) / (C + n)``. A clerk with few presses ranks
near the middle until the presses add up; with many, the clerk's own index dominates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: How many "average" presses every clerk starts with (the prior's weight).
PRIOR_WEIGHT = 20


def index(points: int, n: int, max_points: int = 2) -> float | None:
    """0–100: the points won as a share of the most that could be won; None without presses."""
    return 100.0 * points / (max_points * n) if n else None


def bayesian(points: int, n: int, mean: float, max_points: int = 2, weight: int = PRIOR_WEIGHT) -> float:
    """The clerk's index, shrunk toward ``mean`` (the report's overall index)."""
    return (weight * mean + 100.0 * points / max_points) / (weight + n)


def rank(clerks: Iterable[dict[str, Any]], mean: float | None, max_points: int = 2) -> list[dict[str, Any]]:
    """Clerks (dicts with ``n``, ``points``, ``name``) with ``bayes`` and ``rank`` added, best first."""
    result = []
    for clerk in clerks:
        if not clerk["n"]:
            continue
        clerk = dict(clerk)
        clerk["bayes"] = bayesian(clerk["points"], clerk["n"], mean if mean is not None else 50.0, max_points)
        result.append(clerk)
    result.sort(key=lambda c: (-c["bayes"], -c["n"], c.get("name") or ""))
    for position, clerk in enumerate(result, 1):
        clerk["rank"] = position
    return result
