"""The rules of Thông tư 01/2018/TT-VPCP, in one place for the kiosk (`/admin`) and the central server (reports).

* The levels and their points (Điều 14): Rất hài lòng 2, Hài lòng 1, Không hài lòng 0; "hài lòng trở lên"
  (satisfied or above) is the share of the first two.
* The indicators a device may collect (Điều 14): 1 time, 3 contacts, 4 agencies, 7 attitude; each answer is
  worth 2 / 1 / 0 points.
* The score of an indicator (Điều 15) = its points summed over the rated case files ÷ the number of those files,
  rounded to one decimal **half up**, as people round on paper (1.25 → 1.3; Python's ``round`` gives 1.2).
  An indicator with no answer is *left out*: it gets no score and does not count as zero.
* A clerk is judged over indicators 1, 2, 3, 4, 7 (at most 10 points): ≥ 5 "hoàn thành 100% nhiệm vụ",
  3.5 to < 5 "từ 70% đến dưới 100%", < 3.5 "dưới 70%". An agency over nine indicators (at most 18): ≥ 15 xuất sắc,
  12–< 15 tốt, 9–< 12 khá, 6–< 9 trung bình, < 6 yếu. A kiosk asks four of them, and a clerk may have answers on
  some only, so the total of the k indicators with data is converted in proportion: ``total × scale / (2k)``,
  rounded to one decimal, and the band is read from that (with every indicator present this is the regulation's
  total).
* A grade needs enough answers: when none of the indicators has at least ``min_answers`` answers (setting
  ``grade_min_answers``, default 5) there is no grade, and every page and document says "Chưa đủ số phiếu".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

#: Official wording and points of the levels (TT 01/2018, Điều 14); ``neutral`` is the optional fourth button.
DEFAULT_LEVELS: dict[str, tuple[str, int]] = {
    "very_satisfied": ("Rất hài lòng", 2),
    "satisfied": ("Hài lòng", 1),
    "neutral": ("Bình thường", 1),
    "unsatisfied": ("Không hài lòng", 0),
}
#: The levels a commune report counts as "hài lòng trở lên" (satisfied or above); ``neutral`` is not one.
SATISFIED_OR_ABOVE = ("very_satisfied", "satisfied")

#: Indicator answers use three levels worth 2 / 1 / 0 points, with wording per indicator.
ANSWER_LEVELS = ("very_satisfied", "satisfied", "unsatisfied")
ANSWER_POINTS = {"very_satisfied": 2, "satisfied": 1, "unsatisfied": 0}
MAX_POINTS = 2


@dataclass(frozen=True)
class Indicator:
    key: str
    number: int
    question: str  # as the kiosk asks it
    answers: tuple[str, str, str]  # wording for 2, 1, 0 points
    title: str = ""  # its name in TT 01, as reports name it
    short: str = ""  # a column header: "CS1 thời gian"


INDICATORS: dict[str, Indicator] = {
    "time": Indicator(
        "time",
        1,
        "Thời gian giải quyết so với quy định",
        ("Ngắn hơn quy định", "Đúng quy định", "Dài hơn quy định"),
        "Tổng thời gian giải quyết thủ tục hành chính so với thời gian cho phép",
        "CS1 thời gian",
    ),
    "contacts": Indicator(
        "contacts",
        3,
        "Số lần phải liên hệ để hoàn thiện hồ sơ",
        ("Không lần nào", "Một lần", "Hơn một lần"),
        "Số lần phải liên hệ với nơi tiếp nhận hồ sơ để hoàn thiện hồ sơ",
        "CS3 số lần liên hệ",
    ),
    "agencies": Indicator(
        "agencies",
        4,
        "Số cơ quan phải liên hệ",
        ("Không cơ quan nào", "Chỉ Bộ phận Một cửa", "Hơn một cơ quan"),
        "Số lượng cơ quan, đơn vị phải liên hệ để hoàn thiện hồ sơ",
        "CS4 số cơ quan",
    ),
    "attitude": Indicator(
        "attitude",
        7,
        "Thái độ của công chức",
        ("Rất hài lòng", "Hài lòng", "Không hài lòng"),
        "Thái độ của cán bộ, công chức khi hướng dẫn, tiếp nhận hồ sơ và giải quyết thủ tục hành chính",
        "CS7 thái độ",
    ),
}

CLERK_SCALE, AGENCY_SCALE = 10, 18
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
#: Default of the setting ``grade_min_answers``.
MIN_ANSWERS = 5
INSUFFICIENT, INSUFFICIENT_LABEL = "insufficient", "Chưa đủ số phiếu"

Sums = Mapping[str, tuple[int, int]]  # indicator → (answers, points)


def round1(value: float | int | Decimal) -> float:
    """One decimal, half up (1.25 → 1.3, 0.35 → 0.4); floats are read as written, not as their binary value."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return float(number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def ratio1(part: int | float, whole: int | float, factor: int = 1) -> float | None:
    """``factor × part ÷ whole`` to one decimal, half up, computed exactly; None when ``whole`` is 0."""
    if not whole:
        return None
    return round1(Decimal(str(part)) * factor / Decimal(str(whole)))


def share_pct(part: int, whole: int) -> float | None:
    """A share in per cent, one decimal half up: "87,5% hài lòng trở lên"."""
    return ratio1(part, whole, 100)


def indicator_score(answers: int, points: int) -> float | None:
    """points ÷ answers, one decimal half up; None (left out) without answers."""
    return ratio1(points, answers)


def indicator_scores(sums: Sums) -> dict[str, float]:
    """indicator → score, in TT 01 order; indicators without answers are left out."""
    ordered = [key for key in INDICATORS if key in sums] + sorted(set(sums) - set(INDICATORS))
    return {key: ratio1(sums[key][1], sums[key][0]) for key in ordered if sums[key][0]}  # type: ignore[misc]


def _band(value: float, bands: tuple) -> tuple[str, str]:
    for threshold, key, label in bands:
        if threshold is None or value >= threshold:
            return key, label
    raise AssertionError("the last band has no threshold")


def grade(sums: Sums, scale: int, bands: tuple, min_answers: int = MIN_ANSWERS) -> dict[str, Any] | None:
    """Scores, total, converted score and band of one clerk or agency; None when no indicator has an answer.

    With fewer than ``min_answers`` answers on every indicator, the scores and total are still given but
    ``converted`` is None and the band is :data:`INSUFFICIENT` ("Chưa đủ số phiếu").
    """
    scores = indicator_scores(sums)
    if not scores:
        return None
    answers = {key: int(sums[key][0]) for key in scores}
    most = max(answers.values())
    total = round1(sum(Decimal(str(v)) for v in scores.values()))
    k = len(scores)
    result: dict[str, Any] = {
        "scores": scores,
        "answers": answers,
        "most_answers": most,
        "min_answers": min_answers,
        "indicators": k,
        "total": total,
        "max": MAX_POINTS * k,
        "scale": scale,
    }
    if most < max(min_answers, 1):
        return {**result, "converted": None, "band": INSUFFICIENT, "band_label": INSUFFICIENT_LABEL}
    converted = round1(Decimal(str(total)) * scale / (MAX_POINTS * k))
    band, label = _band(converted, bands)
    return {**result, "converted": converted, "band": band, "band_label": label}


def clerk_grade(sums: Sums, min_answers: int = MIN_ANSWERS) -> dict[str, Any] | None:
    """A clerk's result on the 10-point scale."""
    return grade(sums, CLERK_SCALE, CLERK_BANDS, min_answers)


def agency_grade(sums: Sums, min_answers: int = MIN_ANSWERS) -> dict[str, Any] | None:
    """A commune's (agency's) result on the 18-point scale."""
    return grade(sums, AGENCY_SCALE, AGENCY_BANDS, min_answers)
