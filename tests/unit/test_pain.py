"""Pain arithmetic (clinical spec v2 §2 definitions, rules 4 and 6): exercise-pain zones,
improvement, trend, flare-ups."""

from __future__ import annotations

from fractions import Fraction

import pytest

from coachbot.domain import pain
from coachbot.domain.pain import Zone


class TestExercisePainZones:
    @pytest.mark.parametrize(
        ("exercise_pain", "expected"),
        [
            (0, Zone.FINE),
            (2, Zone.FINE),
            (3, Zone.ACCEPTABLE),
            (4, Zone.ACCEPTABLE),
            (5, Zone.TOO_MUCH),
            (10, Zone.TOO_MUCH),
        ],
    )
    def test_muscle_zones(self, exercise_pain: int, expected: Zone) -> None:
        """Outside the tendon group: fine up to 2, acceptable 3-4, too much from 5."""
        assert pain.zone(exercise_pain, tendon=False) is expected

    @pytest.mark.parametrize(
        ("exercise_pain", "expected"),
        [
            (0, Zone.FINE),
            (3, Zone.FINE),
            (4, Zone.ACCEPTABLE),
            (5, Zone.ACCEPTABLE),
            (6, Zone.TOO_MUCH),
            (10, Zone.TOO_MUCH),
        ],
    )
    def test_tendon_zones(self, exercise_pain: int, expected: Zone) -> None:
        """Tendons tolerate more (Silbernagel 2007): fine up to 3, acceptable 4-5, too much from 6."""
        assert pain.zone(exercise_pain, tendon=True) is expected


class TestPainImprovement:
    @pytest.mark.parametrize(
        ("baseline", "drop"),
        [
            (10, 2),
            (8, 2),
            (7, 2),
            (6, Fraction(18, 10)),
            (4, Fraction(12, 10)),
            (3, Fraction(9, 10)),
        ],
    )
    def test_the_required_drop_is_the_smaller_of_2_points_and_30_percent(
        self, baseline: int, drop: Fraction
    ) -> None:
        """Farrar 2001: 2 points or 30 %, whichever is the smaller drop."""
        assert pain.required_drop(baseline) == drop

    @pytest.mark.parametrize(
        ("last_three", "improved"),
        [((6, 6, 6), True), ((7, 6, 6), False), ((6, 6, 7), False), ((8, 6, 4), True)],
    )
    def test_baseline_8_needs_a_mean_of_6_or_less(
        self, last_three: tuple[int, int, int], improved: bool
    ) -> None:
        """Baseline 8: a mean 2 points down is improvement; 1.67 down is not."""
        ratings = [(0, 8), *enumerate(last_three, start=5)]
        assert pain.pain_improved(ratings, 8) is improved

    @pytest.mark.parametrize(
        ("last_three", "improved"), [((4, 4, 4), True), ((5, 4, 4), False), ((5, 4, 3), True)]
    )
    def test_baseline_6_needs_a_drop_of_30_percent(
        self, last_three: tuple[int, int, int], improved: bool
    ) -> None:
        """Baseline 6: 30 % is 1.8, smaller than 2; a mean of 4.33 (1.67 down) is not enough."""
        ratings = [(0, 6), *enumerate(last_three, start=5)]
        assert pain.pain_improved(ratings, 6) is improved

    @pytest.mark.parametrize(
        ("baseline", "mean", "improved"),
        [
            (10, Fraction(81, 10), False),
            (10, Fraction(8), True),
            (6, Fraction(43, 10), False),
            (6, Fraction(42, 10), True),
        ],
    )
    def test_exactly_the_required_drop_is_improvement(
        self, baseline: int, mean: Fraction, improved: bool
    ) -> None:
        """Exactly at the required drop is improvement; a tenth short is not."""
        assert pain.mean_is_improvement(mean, baseline) is improved

    @pytest.mark.parametrize("baseline", [0, 1, 2])
    def test_a_baseline_of_2_or_less_cannot_show_improvement(self, baseline: int) -> None:
        """Pain that starts at 2 or less cannot fall meaningfully: the pain part is never met."""
        assert not pain.pain_improved([(0, baseline), (1, 0), (2, 0), (3, 0)], baseline)

    def test_baseline_3_improves_with_a_mean_of_2(self) -> None:
        """Baseline 3: 30 % is 0.9; a mean of 2 is improved, a mean of 2.33 is not."""
        assert pain.pain_improved([(0, 3), (1, 2), (2, 2), (3, 2)], 3)
        assert not pain.pain_improved([(0, 3), (1, 2), (2, 2), (3, 3)], 3)


class TestFunctionImprovement:
    @pytest.mark.parametrize(
        ("latest", "baseline", "improved"),
        [
            (5, 3, True),
            (4, 3, False),
            (10, 8, True),
            (9, 8, False),
            (None, 3, False),
            (5, None, False),
        ],
    )
    def test_two_points_above_the_enrolment_score(
        self, latest: int | None, baseline: int | None, improved: bool
    ) -> None:
        """PSFS: the latest weekly score at least 2 above the enrolment score is improvement."""
        assert pain.function_improved(latest, baseline) is improved


class TestTrend:
    def test_flat_is_not_downward(self) -> None:
        """The same rating every day has a slope of 0: no downward trend."""
        assert not pain.has_downward_trend([(d, 5) for d in range(1, 8)])

    def test_falling_is_downward(self) -> None:
        """Ratings falling over the days have a negative slope."""
        assert pain.has_downward_trend([(1, 6), (3, 5), (5, 5), (7, 4)])

    def test_rising_is_not_downward(self) -> None:
        """Ratings rising over the days have a positive slope."""
        assert not pain.has_downward_trend([(1, 3), (2, 4), (3, 4), (4, 5)])

    def test_slope_is_least_squares(self) -> None:
        """Pain 6, 5, 4 on days 1, 2, 3 falls 1 point a day."""
        assert pain.slope([(1, 6), (2, 5), (3, 4)]) == -1


class TestFlareStart:
    @pytest.mark.parametrize(
        ("earlier", "rating", "limit", "starts"),
        [
            ([(0, 3), (1, 1)], 3, 2, True),  # 2 above the low of 1, above the limit
            ([(0, 3), (1, 2)], 3, 2, False),  # 1 above the low
            ([(0, 0), (1, 0)], 2, 2, False),  # 2 above the low but not above the limit
            ([(0, 1), (1, 1)], 3, 3, False),  # tendon limit 3: 3 is not above it
            ([(0, 1), (1, 1)], 4, 3, True),  # tendon: 4 is above it and 3 above the low
            ([(0, 3), (1, 3)], 4, 2, False),
            ([(0, 3), (1, 3)], 5, 2, True),
            ([(0, 5), (1, 5)], 6, 2, True),  # 6 after a rating below 6
            ([(0, 6), (1, 6)], 6, 2, False),  # 6 after a 6: not a new start
            ([(0, 5), (1, 5)], 5, 2, False),
        ],
    )
    def test_start(
        self, earlier: list[tuple[int, int]], rating: int, limit: int, starts: bool
    ) -> None:
        """Above the rest-pain limit and 2+ above the 7-day low, or 6+ after a rating below 6."""
        assert pain.starts_flare(earlier, earlier[-1][0] + 1, rating, limit) is starts

    def test_the_window_is_the_seven_days_before(self) -> None:
        """A low on day N-7 counts; one on day N-8 does not."""
        assert pain.starts_flare([(1, 1), (5, 3)], 8, 3, 2)  # day 1 is N-7
        assert not pain.starts_flare([(1, 1), (5, 3)], 9, 3, 2)  # day 1 is N-8

    def test_the_baseline_is_a_day_0_rating(self) -> None:
        """With only the baseline 1 before it, a 3 on day 1 starts a flare-up."""
        assert pain.starts_flare([(0, 1)], 1, 3, 2)

    def test_with_no_rating_in_the_window_only_the_6_rule_applies(self) -> None:
        """After ten silent days a 5 does not start a flare-up; a 6 after a 1 does."""
        assert not pain.starts_flare([(0, 1)], 10, 5, 2)
        assert pain.starts_flare([(0, 1)], 10, 6, 2)


class TestFlareEnd:
    def test_a_flare_ends_below_both_thresholds(self) -> None:
        """It ends on a rating that would not start one and is below 6."""
        earlier = [(1, 2), (2, 5)]
        assert pain.ends_flare(earlier, 3, 3, 2)  # 1 above the low of 2
        assert not pain.ends_flare(earlier, 3, 4, 2)  # 2 above the low: still flaring

    def test_a_6_never_ends_a_flare(self) -> None:
        """A 6 after a 6 would not start a flare-up, but 6 is not below 6: the flare goes on."""
        assert not pain.ends_flare([(1, 6), (2, 6)], 3, 6, 2)
        assert pain.ends_flare([(1, 6), (2, 6)], 3, 5, 2)
