"""The phase state machine and the day-by-day rules (clinical spec §2 rules 1, 4-7, 9)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coachbot.content import default_content
from coachbot.domain.course import Course, DayInput, replay
from coachbot.domain.phases import Status
from coachbot.domain.triage import Escalation, IntakeFacts, Level

LEVELS = default_content().levels
STRAIN = IntakeFacts(
    injury="hamstring_strain",
    age=30,
    onset="sudden",
    onset_days_ago=1,
    location="middle",
    baseline_pain=5,
    grade=1,
)
Day = int | None | DayInput


def run(facts: IntakeFacts, days: list[Day], flags: tuple[str, ...] = ()) -> Course:
    """Replay day 1.. from a list of ratings (None: no answer) or full DayInputs."""
    inputs = [
        (n, d if isinstance(d, DayInput) else DayInput(pain=d)) for n, d in enumerate(days, 1)
    ]
    return replay(facts, flags, inputs, LEVELS)


def reasons(course: Course) -> list[tuple[int, str]]:
    return [(e.day, e.reason) for e in course.escalations]


def phases_by_day(course: Course) -> list[tuple[int, str | None, str]]:
    return [(t.day, t.phase, t.reason) for t in course.transitions]


class TestNoImprovement:
    @pytest.mark.parametrize(("days", "escalated"), [(6, False), (7, True)])
    def test_never_before_day_7(self, days: int, escalated: bool) -> None:
        """A flat course is not escalated on day 6, and is on day 7."""
        course = run(STRAIN, [5] * days)
        assert ((7, "no_improvement") in reasons(course)) is escalated
        assert all(reason != "no_improvement" or day == 7 for day, reason in reasons(course))

    def test_a_downward_trend_at_day_7_defers(self) -> None:
        """Not improved at day 7 but falling over the last 7 days: not yet."""
        assert reasons(run(replace(STRAIN, baseline_pain=6), [6, 6, 6, 5, 5, 5, 5])) == []

    @pytest.mark.parametrize(("day", "escalated"), [(13, False), (14, True)])
    def test_day_14_escalates_whenever_not_improved(self, day: int, escalated: bool) -> None:
        """Falling every week but never 2 points below a baseline of 8: referred on day 14."""
        ratings = [9, 9, 9, 9, 8, 8, 8, 8, 8, 7, 7, 7, 7, 7][:day]
        course = run(replace(STRAIN, baseline_pain=8), ratings)
        assert reasons(course) == ([(14, "no_improvement")] if escalated else [])

    @pytest.mark.parametrize(("ratings_in_window", "escalated"), [(3, False), (4, True)])
    def test_needs_four_ratings_in_the_window(
        self, ratings_in_window: int, escalated: bool
    ) -> None:
        """Missing days are not 'no improvement': 3 ratings in days 1-7 are not enough, 4 are."""
        days: list[Day] = [None] * (7 - ratings_in_window) + [5] * ratings_in_window
        course = run(STRAIN, days)
        assert ("no_improvement" in [r for _, r in reasons(course)]) is escalated

    def test_an_improving_course_is_never_referred(self) -> None:
        """Improved by day 7 and still improving: no escalation."""
        assert reasons(run(STRAIN, [4, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1])) == []


class TestWorsening:
    @pytest.mark.parametrize(("worse", "escalated"), [(2, False), (3, True)])
    def test_three_consecutive_ratings_two_above_baseline(
        self, worse: int, escalated: bool
    ) -> None:
        """Two ratings at baseline + 2 are not enough; the third escalates, on its day."""
        facts = replace(STRAIN, baseline_pain=3)
        course = run(facts, [5] * worse)
        assert ((3, "worsening") in reasons(course)) is escalated

    def test_one_point_less_does_not_count(self) -> None:
        """Baseline + 1 three times is not worsening."""
        assert "worsening" not in [
            r for _, r in reasons(run(replace(STRAIN, baseline_pain=3), [4, 4, 4]))
        ]

    @pytest.mark.parametrize(("ratings", "escalated"), [([10, 10, 10], True), ([10, 9, 10], False)])
    def test_a_baseline_of_9_needs_three_tens(self, ratings: list[int], escalated: bool) -> None:
        """For a 9-10 baseline the bar is 10 on three consecutive ratings."""
        course = run(replace(STRAIN, baseline_pain=9), ratings)
        assert ("worsening" in [r for _, r in reasons(course)]) is escalated

    def test_a_broken_streak_starts_again(self) -> None:
        """5, 5, 3, 5, 5 after a baseline of 3: no three in a row."""
        course = run(replace(STRAIN, baseline_pain=3), [5, 5, 3, 5, 5])
        assert "worsening" not in [r for _, r in reasons(course)]


class TestFlareUps:
    def test_a_flare_steps_back_one_phase_and_asks_the_red_flags_again(self) -> None:
        """After moving to isometric, a rating of 6 goes back to protect and re-screens."""
        course = run(replace(STRAIN, baseline_pain=3), [2, 2, 2, 6])
        assert phases_by_day(course)[-2:] == [
            (3, "isometric", "progression"),
            (4, "protect", "flare_up"),
        ]
        assert [(n.day, n.kind) for n in course.notices] == [(4, "rescreen")]
        assert course.phase_since == 5

    def test_never_below_the_first_phase(self) -> None:
        """A tendinopathy flare in isometric stays in isometric (its first phase)."""
        facts = replace(
            STRAIN,
            injury="hamstring_tendinopathy",
            onset="gradual",
            grade=None,
            onset_days_ago=30,
            baseline_pain=3,
        )
        course = run(facts, [3, 6])
        assert course.phase == "isometric"

    @pytest.mark.parametrize(("gap", "recurrent"), [(21, True), (22, False)])
    def test_a_second_flare_within_21_days_is_recurrent(self, gap: int, recurrent: bool) -> None:
        """Flare-ups 21 days apart are recurrent reinjury; 22 days apart are not."""
        days: list[Day] = [2, 2, 5] + [2] * (gap - 1) + [5]
        course = run(replace(STRAIN, baseline_pain=4), days)
        assert course.flare_starts == (3, 3 + gap)
        assert ("recurrent_flare" in [r for _, r in reasons(course)]) is recurrent

    def test_high_ratings_during_a_flare_belong_to_it(self) -> None:
        """5, 6, 7 after a low of 2 is one flare-up: one step back, no recurrence."""
        course = run(replace(STRAIN, baseline_pain=4), [2, 5, 6, 7])
        assert course.flare_starts == (2,)
        assert "recurrent_flare" not in [r for _, r in reasons(course)]


class TestProgression:
    @pytest.mark.parametrize(("ratings", "moved"), [([2, 2], False), ([2, 2, 2], True)])
    def test_three_days_and_three_low_ratings(self, ratings: list[int], moved: bool) -> None:
        """Three check-in ratings of 2 in the phase move on; two are not enough (the baseline
        is not a rating given in the phase)."""
        course = run(replace(STRAIN, baseline_pain=2), ratings)
        assert (course.phase == "isometric") is moved

    @pytest.mark.parametrize(("rating", "moved"), [(2, True), (3, False)])
    def test_pain_limit_is_2(self, rating: int, moved: bool) -> None:
        """A 3 among the last three ratings holds a strain in its phase."""
        course = run(replace(STRAIN, baseline_pain=2), [2, 2, rating])
        assert (course.phase == "isometric") is moved

    @pytest.mark.parametrize(("rating", "moved"), [(3, True), (4, False)])
    def test_pain_limit_is_3_for_tendon_pain(self, rating: int, moved: bool) -> None:
        """Tendinopathy moves on with ratings of 3, not 4."""
        facts = replace(
            STRAIN,
            injury="hamstring_tendinopathy",
            onset="gradual",
            grade=None,
            onset_days_ago=30,
            baseline_pain=3,
        )
        course = run(facts, [3, 3, rating])
        assert (course.phase == "mobility") is moved

    def test_return_needs_seven_days_and_maintain_completes_after_fourteen(self) -> None:
        """return: 6 days are not enough, 7 are; maintain: completed after its 14th day."""
        facts = replace(STRAIN, baseline_pain=1)
        # protect 0-3, isometric 4-6, mobility 7-9, strength 10-12, return from 13.
        course = run(facts, [1] * 12)
        assert course.phase == "return" and course.phase_since == 13
        assert run(facts, [1] * 18).phase == "return"  # day 18 is its 6th day
        assert run(facts, [1] * 19).phase == "maintain"  # day 19 is its 7th day
        assert run(facts, [1] * 32).status is Status.ACTIVE  # maintain days 20-32: 13
        done = run(facts, [1] * 33)
        assert done.status is Status.COMPLETED and done.transitions[-1].reason == "completed"

    def test_phases_move_one_step_at_a_time(self) -> None:
        """Every progression is to the next phase."""
        from coachbot.domain.phases import PHASES

        course = run(replace(STRAIN, baseline_pain=1), [1] * 33)
        moves = [t.phase for t in course.transitions if t.reason == "progression"]
        assert moves == list(PHASES[1:])


class TestRedFlagsDuringTheCourse:
    def test_urgent_stops_and_clearance_resumes(self) -> None:
        """An urgent flag escalates and stops; 'cleared' brings the same phase back."""
        course = run(STRAIN, [4, DayInput(pain=4, red_flags=("fever_or_unwell",)), 3])
        assert course.status is Status.ESCALATED
        assert Escalation(Level.URGENT, "fever_or_unwell", 2) in course.escalations
        cleared = run(
            STRAIN,
            [4, DayInput(pain=4, red_flags=("fever_or_unwell",)), DayInput(pain=3, cleared=True)],
        )
        assert cleared.status is Status.ACTIVE and cleared.phase == "protect"

    def test_routine_holds_progression(self) -> None:
        """A routine flag keeps the program but holds the phase."""
        course = run(
            replace(STRAIN, baseline_pain=1),
            [DayInput(pain=1, red_flags=("hard_lump_after_bruise",)), 1, 1, 1, 1],
        )
        assert course.status is Status.ACTIVE and course.phase == "protect"

    def test_referral_only_injury_is_never_given_a_program(self) -> None:
        """An avulsion cleared by a professional completes; the bot never prescribes for it."""
        facts = replace(STRAIN, injury="hamstring_avulsion", grade=None)
        course = run(facts, [DayInput(pain=3, cleared=True), 2])
        assert course.phase is None and course.status is Status.COMPLETED


class TestSilence:
    @pytest.mark.parametrize(
        ("silent", "nudged", "paused"),
        [(2, False, False), (3, True, False), (6, True, False), (7, True, True)],
    )
    def test_nudge_at_3_pause_at_7(self, silent: int, nudged: bool, paused: bool) -> None:
        """3 days without a rating: one nudge; 7: paused; never an escalation."""
        course = run(STRAIN, [4] + [None] * silent)
        assert (any(n.kind == "nudge" for n in course.notices)) is nudged
        assert (course.status is Status.PAUSED) is paused
        assert course.escalations == ()

    def test_a_rating_brings_a_paused_user_back(self) -> None:
        course = run(STRAIN, [4] + [None] * 7 + [3])
        assert course.status is Status.ACTIVE
        assert course.transitions[-1].reason == "returned"


class TestDays:
    def test_days_must_move_forward(self) -> None:
        """Applying a day twice is a programming error, not a silent overwrite."""
        from coachbot.domain.course import advance, begin

        course = advance(begin(STRAIN, (), LEVELS), 1, DayInput(pain=3), LEVELS)
        with pytest.raises(ValueError, match="not after day 1"):
            advance(course, 1, DayInput(pain=3), LEVELS)
