"""Pain arithmetic: improvement (2 points or 30 %), trend, flare-up thresholds."""

from __future__ import annotations

from fractions import Fraction

import pytest

from coachbot.domain import pain


class TestImprovement:
    @pytest.mark.parametrize(
        ("baseline", "drop"),
        [
            (10, 2),
            (8, 2),
            (7, Fraction(21, 10)),
            (6, Fraction(18, 10)),
            (3, Fraction(9, 10)),
            (0, 0),
        ],
    )
    def test_required_drop_is_the_smaller_of_2_points_and_30_percent(
        self, baseline: int, drop: Fraction
    ) -> None:
        """Farrar 2001: 2 points or 30 %, whichever is the smaller drop."""
        assert pain.required_drop(baseline) == min(drop, 2)

    @pytest.mark.parametrize(
        ("last_three", "improved"),
        [
            ((6, 6, 6), True),  # mean 6.0: a drop of exactly 2
            ((7, 6, 6), False),  # mean 6.33: a drop of 1.67
            ((6, 6, 7), False),
        ],
    )
    def test_baseline_8_needs_a_mean_of_6_or_less(
        self, last_three: tuple[int, int, int], improved: bool
    ) -> None:
        """Baseline 8: a drop of 2 is improvement, less is not."""
        ratings = [(day, p) for day, p in enumerate(last_three, start=5)]
        assert pain.is_improved(ratings, 8) is improved

    @pytest.mark.parametrize(
        ("baseline", "mean", "improved"),
        [
            (10, Fraction(81, 10), False),
            (10, Fraction(8), True),  # drop 1.9 vs 2
            (6, Fraction(43, 10), False),
            (6, Fraction(42, 10), True),
        ],  # drop 1.7 vs 1.8 (30 %)
    )
    def test_a_drop_just_short_of_the_threshold_is_not_improvement(
        self, baseline: int, mean: Fraction, improved: bool
    ) -> None:
        """Exactly at the required drop is improvement; a tenth short is not."""
        assert pain.mean_is_improvement(mean, baseline) is improved

    def test_baseline_fills_in_when_there_are_fewer_than_three_ratings(self) -> None:
        """With one rating of 0 after a baseline of 6, the mean is (6 + 6 + 0) / 3 = 4: improved."""
        assert pain.is_improved([(0, 6), (1, 0)], 6) is True
        assert pain.is_improved([(1, 5)], 6) is False


class TestTrend:
    def test_flat_is_not_downward(self) -> None:
        assert not pain.has_downward_trend([(d, 5) for d in range(1, 8)])

    def test_falling_is_downward(self) -> None:
        assert pain.has_downward_trend([(1, 6), (3, 5), (5, 5), (7, 4)])

    def test_rising_is_not_downward(self) -> None:
        assert not pain.has_downward_trend([(1, 3), (2, 4), (3, 4), (4, 5)])


class TestFlare:
    @pytest.mark.parametrize(
        ("earlier", "rating", "starts"),
        [
            ([(0, 3), (1, 2)], 4, True),  # 2 above the lowest (2)
            ([(0, 3), (1, 2)], 3, False),  # 1 above
            ([(0, 5), (1, 5)], 6, True),  # 6 after a 5
            ([(0, 6), (1, 6)], 6, False),  # 6 after a 6: not a new flare by the 6-rule
            ([(0, 5), (1, 5)], 5, False),
            ([(0, 1), (8, 3)], 3, False),  # the 1 is 8 days back: outside the 7-day window
            ([(0, 1), (7, 3)], 3, False),
        ],
    )
    def test_start(self, earlier: list[tuple[int, int]], rating: int, starts: bool) -> None:
        """2 or more above the 7-day low, or 6+ after a rating below 6."""
        day = earlier[-1][0] + 1
        assert pain.starts_flare(earlier, day, rating) is starts

    def test_window_is_seven_days_back(self) -> None:
        """A low 7 days before counts; 8 days before does not."""
        assert pain.starts_flare([(1, 1), (5, 3)], 8, 3)  # day 1 is 7 days before day 8
        assert not pain.starts_flare([(1, 1), (5, 3)], 9, 3)  # 8 days before day 9

    def test_end_needs_both_thresholds(self) -> None:
        """A flare ends on a rating below the 7-day low + 2 and below 6."""
        earlier = [(1, 2), (2, 5)]
        assert pain.ends_flare(earlier, 3, 3)
        assert not pain.ends_flare(earlier, 3, 4)
        assert not pain.ends_flare([(1, 5), (2, 6)], 3, 6)
