"""Pain arithmetic on the 0-10 numeric rating scale: improvement, trend, flare-ups, zones.

Ratings are (day, pain) pairs in day order; `baseline_pain` counts as the day-0 rating wherever a
rule looks at earlier ratings. Exact fractions, so boundaries such as "2 points or 30 %" are
decided exactly (no float rounding on either side of a threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from fractions import Fraction

Rating = tuple[int, int]  # (day, pain)

IMPROVEMENT_POINTS = 2  # Farrar et al. 2001: about 2 points ...
IMPROVEMENT_SHARE = Fraction(3, 10)  # ... or 30 %, whichever is the smaller drop
IMPROVEMENT_WINDOW = 3  # the mean of the last three ratings
FUNCTION_IMPROVEMENT = 2  # PSFS: 2 points above the baseline (Abbott and Schmitt 2014)
NO_PAIN_SIGNAL_BASELINE = 2  # a baseline of 2 or less cannot show a meaningful fall
FLARE_RISE = 2  # 2 or more above the lowest rating of the previous 7 days ...
FLARE_HIGH = 6  # ... or 6 or more (when the rating before was below 6)
FLARE_LOOKBACK_DAYS = 7
SEVERE = 8  # rule 10: a rating of 8 or more


class Zone(StrEnum):
    """Worst pain during the exercises (Silbernagel 2007; Hickey 2020)."""

    FINE = "fine"
    ACCEPTABLE = "acceptable"
    TOO_MUCH = "too much"


# The highest exercise pain in each zone: others fine <= 2, acceptable 3-4; tendon 3 and 4-5.
ZONE_TOPS = {False: (2, 4), True: (3, 5)}


def zone(exercise_pain: int, tendon: bool) -> Zone:
    fine, acceptable = ZONE_TOPS[tendon]
    if exercise_pain <= fine:
        return Zone.FINE
    return Zone.ACCEPTABLE if exercise_pain <= acceptable else Zone.TOO_MUCH


def required_drop(baseline: int) -> Fraction:
    """The smaller of 2 points and 30 % of the baseline."""
    return min(Fraction(IMPROVEMENT_POINTS), IMPROVEMENT_SHARE * baseline)


def pain_improved(ratings: Sequence[Rating], baseline: int) -> bool:
    """The mean of the last three ratings is at least the required drop below the baseline."""
    if baseline <= NO_PAIN_SIGNAL_BASELINE:
        return False
    values = [pain for _, pain in ratings][-IMPROVEMENT_WINDOW:]
    if len(values) < IMPROVEMENT_WINDOW:
        values = [baseline] * (IMPROVEMENT_WINDOW - len(values)) + values
    return mean_is_improvement(Fraction(sum(values), len(values)), baseline)


def function_improved(latest: int | None, baseline: int | None) -> bool:
    """The latest weekly function score is at least 2 above the enrolment score."""
    return latest is not None and baseline is not None and latest >= baseline + FUNCTION_IMPROVEMENT


def mean_is_improvement(mean: Fraction, baseline: int) -> bool:
    """Whether a mean rating is at least the required drop below the baseline."""
    return mean <= baseline - required_drop(baseline)


def slope(ratings: Sequence[Rating]) -> Fraction:
    """Least-squares slope of pain against day (points a day); 0 for fewer than two days."""
    if len({day for day, _ in ratings}) < 2:
        return Fraction(0)
    n = len(ratings)
    mean_day = Fraction(sum(day for day, _ in ratings), n)
    mean_pain = Fraction(sum(pain for _, pain in ratings), n)
    covariance = sum((day - mean_day) * (pain - mean_pain) for day, pain in ratings)
    variance = sum((day - mean_day) ** 2 for day, _ in ratings)
    return Fraction(covariance) / variance


def has_downward_trend(window: Sequence[Rating]) -> bool:
    """Pain falling over the window: a negative least-squares slope."""
    return slope(window) < 0


def within(ratings: Sequence[Rating], first_day: int, last_day: int) -> list[Rating]:
    return [(day, pain) for day, pain in ratings if first_day <= day <= last_day]


def lowest_before(ratings: Sequence[Rating], day: int) -> int | None:
    """The lowest rating of the 7 days before `day` (None if there was none)."""
    window = within(ratings, day - FLARE_LOOKBACK_DAYS, day - 1)
    return min((pain for _, pain in window), default=None)


def starts_flare(ratings: Sequence[Rating], day: int, pain: int, limit: int) -> bool:
    """Rule 6: above the rest-pain limit and 2+ above the lowest of the previous 7 days, or 6+
    after a rating below 6. `ratings` are the ratings before `day` (the baseline included)."""
    earlier = [(d, p) for d, p in ratings if d < day]
    lowest = lowest_before(earlier, day)
    if pain > limit and lowest is not None and pain >= lowest + FLARE_RISE:
        return True
    before = earlier[-1][1] if earlier else None
    return pain >= FLARE_HIGH and before is not None and before < FLARE_HIGH


def ends_flare(ratings: Sequence[Rating], day: int, pain: int, limit: int) -> bool:
    """A flare lasts until a rating would not start one that day and is below 6."""
    return not starts_flare(ratings, day, pain, limit) and pain < FLARE_HIGH
