"""The TT 01 rules of common/tt01.py and the way numbers are written (common/numbers.py), against the shared table."""

from __future__ import annotations

import pytest

from common import numbers, tt01
from tests.tt01_cases import CASES, MIN_ANSWERS, Case


def sums(case: Case) -> dict[str, tuple[int, int]]:
    return {key: (len(points), sum(points)) for key, points in case.answers.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_shared_table(case):
    result = tt01.clerk_grade(sums(case), MIN_ANSWERS)
    assert result["scores"] == case.scores
    assert result["total"] == case.total
    assert (result["converted"], result["band"], result["band_label"]) == (case.converted, case.band, case.band_vi)
    assert {key: numbers.decimal(v, "vi") for key, v in result["scores"].items()} == case.vi
    assert {key: numbers.decimal(v, "en") for key, v in result["scores"].items()} == case.en


def test_rounding_is_half_up_on_the_written_value_not_the_binary_one():
    assert round(1.25, 1) == 1.2 and round(0.35, 1) == 0.3  # what Python does, and what the issue saw
    assert tt01.round1(1.25) == 1.3 and tt01.round1(0.35) == 0.4 and tt01.round1(2.45) == 2.5
    assert tt01.indicator_score(4, 5) == 1.3
    assert tt01.share_pct(7, 8) == 87.5 and tt01.share_pct(2, 3) == 66.7 and tt01.share_pct(1, 0) is None
    assert tt01.share_pct(121, 150) == 80.7  # 80.666… %


def test_no_answer_no_score_and_no_grade():
    assert tt01.clerk_grade({}) is None
    assert tt01.agency_grade({"time": (0, 0)}) is None
    assert tt01.indicator_score(0, 0) is None


def test_the_threshold_is_a_setting():
    one = {"attitude": (1, 0)}
    assert tt01.clerk_grade(one, 5)["band_label"] == "Chưa đủ số phiếu"
    low = tt01.clerk_grade(one, 1)
    assert (low["converted"], low["band_label"]) == (0.0, "Hoàn thành dưới 70% nhiệm vụ")
    # the most-answered indicator decides: one with five answers lets the others in
    mixed = tt01.clerk_grade({"attitude": (5, 10), "time": (1, 0)}, 5)
    assert (mixed["total"], mixed["max"], mixed["converted"], mixed["band"]) == (2.0, 4, 5.0, "full")


@pytest.mark.parametrize(
    ("points", "converted", "band"),
    [(17, 15.3, "Xuất sắc"), (16, 14.4, "Tốt"), (14, 12.6, "Tốt"), (13, 11.7, "Khá"), (10, 9.0, "Khá")]
    + [(9, 8.1, "Trung bình"), (7, 6.3, "Trung bình"), (6, 5.4, "Yếu")],
)
def test_agency_bands_on_18_points(points, converted, band):
    # one indicator with ten answers: score points/10, converted in proportion to 18 points = score × 9
    result = tt01.agency_grade({"attitude": (10, points)}, 5)
    assert (result["converted"], result["band_label"]) == (converted, band)


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (87.5, "87,5", "87.5"),
        (10000, "10.000", "10,000"),
        (12345.25, "12.345,3", "12,345.3"),
        (0.0, "0,0", "0.0"),
        (-0.04, "0,0", "0.0"),
        (None, "—", "—"),
    ],
)
def test_numbers_in_each_language(value, vi, en):
    assert numbers.decimal(value, "vi") == vi and numbers.decimal(value, "en") == en


def test_percent_and_signed():
    assert numbers.percent(80.7, "vi") == "80,7%" and numbers.percent(80.7, "en") == "80.7%"
    assert numbers.signed(37.5, "vi") == "+37,5" and numbers.signed(-2.0, "en") == "−2.0"
    assert (
        numbers.decimal(87.5, "vi", group=False) == "87,5" and numbers.decimal(12345.5, "vi", group=False) == "12345,5"
    )
