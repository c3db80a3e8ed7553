"""ONE table of TT 01 cases, computed by hand, that the kiosk's `/admin` and the central server's reports must both
show the same way (tests/common/test_tt01.py for the rules, tests/e2e/test_tt01_shared.py for both programs).

Each case is one clerk's day: the indicator answers (points 2 / 1 / 0, one rating per position: rating j answers
indicator k when j < len(points[k])), the scores as the pages write them in Vietnamese and in English, and the
clerk's grade with the default ``grade_min_answers`` of 5.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_ANSWERS = 5


@dataclass(frozen=True)
class Case:
    name: str
    answers: dict[str, list[int]]
    scores: dict[str, float]  # what the JSON holds
    vi: dict[str, str]  # what Vietnamese pages and documents write
    en: dict[str, str]  # what English pages write
    total: float
    converted: float | None  # on the clerk's 10-point scale; None: not enough answers
    band: str
    band_vi: str

    @property
    def ratings(self) -> int:
        return max(len(points) for points in self.answers.values())


CASES = [
    Case(
        "1.25 rounds half up to 1.3, and four answers are not enough for a grade",
        {"attitude": [2, 1, 1, 1]},
        {"attitude": 1.3},
        {"attitude": "1,3"},
        {"attitude": "1.3"},
        1.3,
        None,
        "insufficient",
        "Chưa đủ số phiếu",
    ),
    Case(
        "five answers give a grade",
        {"attitude": [2, 2, 1, 1, 1]},
        {"attitude": 1.4},
        {"attitude": "1,4"},
        {"attitude": "1.4"},
        1.4,
        7.0,
        "full",
        "Hoàn thành 100% nhiệm vụ",
    ),
    Case(
        "0.35 rounds half up to 0.4 (Python's round gives 0.3)",
        {"time": [1] * 7 + [0] * 13},
        {"time": 0.4},
        {"time": "0,4"},
        {"time": "0.4"},
        0.4,
        2.0,
        "low",
        "Hoàn thành dưới 70% nhiệm vụ",
    ),
    Case(
        "exactly 3.5 of 10 is 70 %",
        {"attitude": [1] * 7 + [0] * 3},
        {"attitude": 0.7},
        {"attitude": "0,7"},
        {"attitude": "0.7"},
        0.7,
        3.5,
        "partial",
        "Hoàn thành từ 70% đến dưới 100% nhiệm vụ",
    ),
    Case(
        "an indicator without answers is left out; 7.75 of 10 rounds up to 7.8",
        {"time": [2, 1, 2, 0], "attitude": [2, 2, 2, 2, 1]},
        {"time": 1.3, "attitude": 1.8},
        {"time": "1,3", "attitude": "1,8"},
        {"time": "1.3", "attitude": "1.8"},
        3.1,
        7.8,
        "full",
        "Hoàn thành 100% nhiệm vụ",
    ),
    Case(
        "1.15 rounds half up to 1.2 (Python's round gives 1.1)",
        {"agencies": [2] * 3 + [1] * 17},
        {"agencies": 1.2},
        {"agencies": "1,2"},
        {"agencies": "1.2"},
        1.2,
        6.0,
        "full",
        "Hoàn thành 100% nhiệm vụ",
    ),
]


def grade_vi(case: Case) -> str:
    """The grade as a Vietnamese page writes it beside the clerk."""
    if case.converted is None:
        most = max(len(p) for p in case.answers.values())
        return f"{case.band_vi} ({most}/{MIN_ANSWERS})"
    return f"{case.band_vi} ({case.converted:.1f}/10)".replace(".", ",")
