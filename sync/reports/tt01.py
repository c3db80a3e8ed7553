"""Scoring by Thông tư 01/2018/TT-VPCP, Điều 15: indicator scores and the bands for clerks and agencies.

* The score of an indicator = its points summed over the rated case files ÷ the number of those files,
  rounded to one decimal (half up, as people round on paper — not Python's round-half-even).
* An indicator with no answer is *left out*: it gets no score, and it is not counted as zero.
* A clerk is judged over indicators 1, 2, 3, 4, 7 (at most 10 points): ≥ 5 → "hoàn thành 100% nhiệm vụ",
  3.5 to < 5 → 70 to < 100 %, < 3.5 → < 70 %. An agency over nine indicators (at most 18): ≥ 15 xuất sắc,
  12–< 15 tốt, 9–< 12 khá, 6–< 9 trung bình, < 6 yếu.

A kiosk can collect indicators 1, 3, 4 and 7 only (Điều 14), and a clerk may have answers on some of them.
So that a left-out indicator does not weigh like a zero, the total of the indicators that have data is
converted to the regulation's scale in proportion to their number: ``score10 = total × 10 / (2 × k)``
(``score18 = total × 18 / (2 × k)`` for an agency), rounded to one decimal, and the band is read from
that. With all five (nine) indicators present this is exactly the regulation's total.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

#: The indicators a device collects, with their number in TT 01.
INDICATORS: dict[str, int] = {"time": 1, "contacts": 3, "agencies": 4, "attitude": 7}
MAX_POINTS = 2

CLERK_BANDS = (
    (5.0, "full", "Hoàn thành 100% nhiệm vụ"),
    (3.5, "partial", "Hoàn thành từ 70% đến dưới 100% nhiệm vụ"),
    (None, "low", "Hoàn thành dưới 70% nhiệm vụ"),
)
AGENCY_BANDS = (
    (15.0, "excellent", "Xuất sắc"),
    (12.0, "good", "Tốt"),
    (9.0, "fair", "Khá"),
    (6.0, "average", "Trung bình"),
    (None, "weak", "Yếu"),
)


def round1(value: float | Decimal) -> float:
    """One decimal, half up (1.25 → 1.3)."""
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def indicator_scores(sums: Mapping[str, tuple[int, int]]) -> dict[str, float]:
    """indicator → score, from indicator → (answers, points); indicators without answers are left out."""
    return {key: round1(Decimal(points) / Decimal(n)) for key, (n, points) in sums.items() if n}


def _band(value: float, bands: tuple) -> tuple[str, str]:
    for threshold, key, label in bands:
        if threshold is None or value >= threshold:
            return key, label
    raise AssertionError("the last band has no threshold")


def result(scores: Mapping[str, float], scale: int, bands: tuple) -> dict | None:
    """Total, converted score and band of a set of indicator scores; None when no indicator has data."""
    if not scores:
        return None
    total = round1(sum(Decimal(str(v)) for v in scores.values()))
    k = len(scores)
    converted = round1(Decimal(str(total)) * scale / (MAX_POINTS * k))
    band, label = _band(converted, bands)
    ordered = {key: scores[key] for key in INDICATORS if key in scores}
    ordered.update({key: v for key, v in scores.items() if key not in ordered})
    return {
        "scores": ordered,
        "indicators": k,
        "total": total,
        "max": MAX_POINTS * k,
        "converted": converted,
        "scale": scale,
        "band": band,
        "band_label": label,
    }


def clerk_result(scores: Mapping[str, float]) -> dict | None:
    """A clerk's result over the indicators with data, on the 10-point scale."""
    return result(scores, 10, CLERK_BANDS)


def agency_result(scores: Mapping[str, float]) -> dict | None:
    """A commune's (agency's) result over the indicators with data, on the 18-point scale."""
    return result(scores, 18, AGENCY_BANDS)
