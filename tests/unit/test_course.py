"""The course day by day (clinical spec v2 §2): rules 1, 4, 5, 6, 7, 9, 10, 11, 12 and 13."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from coachbot.domain.course import (
    Asks,
    Course,
    DayInput,
    advance,
    asks_for,
    begin,
    evolve,
    rescreen,
)
from coachbot.domain.phases import PHASES, Status
from coachbot.domain.triage import Escalation, IntakeFacts, Level
from tests.unit.rules import (
    CATALOGUE,
    EMERGENCY_FLAG,
    RESCREEN_FLAGS,
    ROUTINE_FLAG,
    STRAIN,
    TENDON,
    URGENT_FLAG,
    Day,
    course,
    escalated_for,
    facts,
    good,
    moves,
    plan_ids,
    reasons,
    timeline,
)

SLOW = facts(grade=2)
CRAMP = facts(injury="hamstring_cramp", grade=None)
REFERRED = facts(injury="referred_pain", onset="gradual", grade=None, baseline_pain=3)
AVULSION = facts(injury="hamstring_avulsion", grade=None)
CHILD = facts(age=15)


def fine(pain: int | None = 1, exercise_pain: int = 1, **changes: object) -> DayInput:
    """A day with a fine session and a rating, and no check answered."""
    return good(pain, exercise_pain, **{"checks": (), **changes})


def session(exercise_pain: int, pain: int | None = 1) -> DayInput:
    return DayInput(pain=pain, session="done", exercise_pain=exercise_pain)


def count(c: Course, reason: str) -> int:
    return sum(1 for e in c.escalations if e.reason == reason)


# Days 1.. of a standard strain given good days: protect 0-1, isometric 2-4, mobility 5-8,
# strength 9-15, return 16-22, maintain 23-36, completed at the end of day 36.
ISOMETRIC_FROM, MOBILITY_FROM, STRENGTH_FROM, RETURN_FROM, MAINTAIN_FROM = 2, 5, 9, 16, 23


class TestRedFlagsDuringTheCourse:
    @pytest.mark.parametrize("flag", [EMERGENCY_FLAG, URGENT_FLAG])
    def test_emergency_and_urgent_stop_the_exercises(self, flag: str) -> None:
        """A red flag on day 3 escalates with its level that day; day 4 prescribes nothing."""
        courses = timeline(STRAIN, [good(), good(), good(red_flags=(flag,))])
        assert Escalation(CATALOGUE.levels[flag], flag, 3) in courses[3].escalations
        assert courses[3].status is Status.ESCALATED
        assert plan_ids(courses, 4) == []

    def test_routine_keeps_the_program_with_a_hold(self) -> None:
        """A routine flag keeps the exercises coming and sets a hold."""
        courses = timeline(STRAIN, [good(), good(red_flags=(ROUTINE_FLAG,))])
        assert courses[2].status is Status.ACTIVE and courses[2].held
        assert plan_ids(courses, 3)

    def test_a_red_flag_after_completion_still_escalates(self) -> None:
        """After the program is completed a red flag still escalates (rule 1 always runs)."""
        done = course(STRAIN, [good()] * 36)
        assert done.status is Status.COMPLETED
        after = advance(done, 37, DayInput(red_flags=(URGENT_FLAG,)), CATALOGUE)
        assert after.status is Status.ESCALATED and escalated_for(after, URGENT_FLAG)

    def test_later_red_flags_escalate_a_course_with_no_program(self) -> None:
        """An under-16 course reports a later emergency flag."""
        c = course(CHILD, [DayInput(red_flags=(EMERGENCY_FLAG,))])
        assert Escalation(Level.EMERGENCY, EMERGENCY_FLAG, 1) in c.escalations


class TestNoImprovement:
    @pytest.mark.parametrize(("days", "escalated"), [(6, False), (7, True)])
    def test_never_before_day_7(self, days: int, escalated: bool) -> None:
        """Flat pain at the baseline: nothing on day 6; routine no_improvement on day 7."""
        c = course(STRAIN, [5] * days)
        assert ((7, "no_improvement") in reasons(c)) is escalated
        if escalated:
            assert Escalation(Level.ROUTINE, "no_improvement", 7) in c.escalations
            assert c.held and c.status is Status.ACTIVE

    @pytest.mark.parametrize(("ratings", "escalated"), [(3, False), (4, True)])
    def test_needs_four_ratings_in_the_last_seven_days(self, ratings: int, escalated: bool) -> None:
        """Missing days are not 'no improvement': 3 ratings on days 1-7 are not enough, 4 are."""
        days: list[Day] = [*[None] * (7 - ratings), *[5] * ratings]
        assert escalated_for(course(STRAIN, days), "no_improvement") is escalated

    @pytest.mark.parametrize(("rated", "escalated"), [((1, 2, 3, 8), False), ((2, 3, 4, 8), True)])
    def test_the_window_is_days_n_minus_6_to_n(
        self, rated: tuple[int, ...], escalated: bool
    ) -> None:
        """Flat ratings on days 1, 2, 3 and 8: only three in days 2-8; on days 2, 3, 4 and 8: four,
        so day 8 escalates."""
        days: list[Day] = [5 if day in rated else None for day in range(1, 9)]
        c = course(STRAIN, days)
        assert ((8, "no_improvement") in reasons(c)) is escalated

    # Baseline 7 (a drop of 2 is needed): never improved, but falling over every 7-day window.
    FALLING = [6, 7, 6, 7, 7, 6, 6, 7, 6, 6, 6, 6, 6, 6]

    def test_a_downward_trend_defers_until_day_14(self) -> None:
        """Not improved but trending down: nothing on days 7-13, no_improvement on day 14."""
        courses = timeline(facts(baseline_pain=7), self.FALLING)
        assert not escalated_for(courses[13], "no_improvement")
        assert reasons(courses[14]) == [(14, "no_improvement")]

    def test_a_flat_window_at_day_7_escalates(self) -> None:
        """Baseline 7, ratings of 6 all week: not improved, no downward trend: day 7."""
        assert reasons(course(facts(baseline_pain=7), [6] * 7)) == [(7, "no_improvement")]

    def test_an_improving_course_is_not_referred(self) -> None:
        """Baseline 5, ratings falling to 3 (1.5 points is 30 %): never referred."""
        assert not escalated_for(
            course(STRAIN, [4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]), "no_improvement"
        )

    def test_once_only(self) -> None:
        """Flat for three weeks: one no_improvement."""
        assert count(course(STRAIN, [5] * 21), "no_improvement") == 1

    def test_a_low_baseline_without_function_is_never_judged(self) -> None:
        """Baseline 2 and no activity named: nothing can show improvement, so never referred."""
        assert not escalated_for(course(facts(baseline_pain=2), [2] * 21), "no_improvement")

    def test_a_low_baseline_with_function_is_judged_on_function_alone(self) -> None:
        """Baseline 2 with a function score: pain falling to 0 is not improvement, so day 7
        escalates; a weekly function 2 above the baseline is."""
        low = facts(baseline_pain=2, activity="running", function_baseline=3)
        assert reasons(course(low, [0] * 7)) == [(7, "no_improvement")]
        better = [0] * 6 + [DayInput(pain=0, function=5)]
        assert not escalated_for(course(low, better), "no_improvement")

    @pytest.mark.parametrize(("function", "escalated"), [(4, True), (5, False)])
    def test_function_alone_can_show_improvement(self, function: int, escalated: bool) -> None:
        """Pain flat at 5 but the weekly function 2 above its baseline of 3: no referral."""
        f = facts(activity="running", function_baseline=3)
        days: list[Day] = [5] * 6 + [DayInput(pain=5, function=function)]
        assert escalated_for(course(f, days), "no_improvement") is escalated


class TestWorsening:
    @pytest.mark.parametrize(("worse", "escalated"), [(2, False), (3, True)])
    def test_three_consecutive_ratings_two_above_baseline(
        self, worse: int, escalated: bool
    ) -> None:
        """Baseline 3: two ratings of 5 are not enough; the third escalates routine, that day."""
        c = course(facts(baseline_pain=3), [5] * worse)
        assert (Escalation(Level.ROUTINE, "worsening", 3) in c.escalations) is escalated

    def test_skipped_days_do_not_break_the_run(self) -> None:
        """5, -, 5, -, 5 after a baseline of 3 is three consecutive ratings."""
        assert reasons(course(facts(baseline_pain=3), [5, None, 5, None, 5]))[-1] == (
            5,
            "worsening",
        )

    def test_a_lower_rating_breaks_the_run(self) -> None:
        """5, 5, 4, 5, 5 after a baseline of 3: no three in a row."""
        assert not escalated_for(course(facts(baseline_pain=3), [5, 5, 4, 5, 5]), "worsening")

    @pytest.mark.parametrize(("rating", "escalated"), [(2, False), (3, True)])
    def test_each_rating_must_be_above_the_limit(self, rating: int, escalated: bool) -> None:
        """Baseline 0: three 2s are 2 above it but not above the limit of 2; three 3s are."""
        assert escalated_for(course(facts(baseline_pain=0), [rating] * 3), "worsening") is escalated

    @pytest.mark.parametrize(("rating", "escalated"), [(3, False), (4, True)])
    def test_the_tendon_limit_is_3(self, rating: int, escalated: bool) -> None:
        """Tendon, baseline 1: three 3s are not above its limit of 3; three 4s are."""
        c = course(facts(TENDON, baseline_pain=1), [rating] * 3)
        assert escalated_for(c, "worsening") is escalated

    @pytest.mark.parametrize(
        ("ratings", "escalated"), [([10], False), ([10, 10], True), ([10, 9, 10], False)]
    )
    def test_a_baseline_of_10_and_two_more_tens(self, ratings: list[int], escalated: bool) -> None:
        """Baseline 10: the baseline and the next two ratings of 10 are worsening."""
        c = course(facts(onset="gradual", baseline_pain=10), ratings)
        assert escalated_for(c, "worsening") is escalated

    @pytest.mark.parametrize(
        ("ratings", "escalated"),
        [([10, 10], False), ([10, 10, 10], True), ([10, 9, 10], False), ([9, 9, 9], False)],
    )
    def test_a_baseline_of_9_needs_three_tens(self, ratings: list[int], escalated: bool) -> None:
        """Baseline 9: three consecutive ratings of 10."""
        c = course(facts(onset="gradual", baseline_pain=9), ratings)
        assert escalated_for(c, "worsening") is escalated

    def test_once_only(self) -> None:
        """Worse for six days: one worsening escalation."""
        assert count(course(facts(baseline_pain=3), [5] * 6), "worsening") == 1


class TestFlareUp:
    def test_steps_back_restarts_the_clock_and_re_screens(self) -> None:
        """In isometric, a 4 after ratings of 1 goes back to protect from the next day and re-asks
        the R red flags that day."""
        c = course(STRAIN, [good(), good(), fine(pain=4)])
        assert moves(c) == [(1, "isometric", "progression"), (3, "protect", "flare_up")]
        assert c.phase_since == 4
        assert rescreen(c, 3, CATALOGUE) == RESCREEN_FLAGS

    def test_listed_even_when_the_phase_stays(self) -> None:
        """A flare-up in the first phase stays there, restarts its clock and is listed."""
        c = course(STRAIN, [7])  # 2 above the baseline of 5
        assert moves(c) == [(1, "protect", "flare_up")] and c.phase_since == 2
        t = course(TENDON, [good(pain=3), good(pain=6)])
        assert moves(t) == [(2, "isometric", "flare_up")]

    def test_no_re_screen_without_a_flare(self) -> None:
        """A 3 after ratings of 2 is not a flare-up: nothing is re-asked."""
        c = course(STRAIN, [2, 2, 3])
        assert c.flare_starts == () and rescreen(c, 3, CATALOGUE) == ()

    def test_blocks_progression_until_it_ends(self) -> None:
        """Protect, onset old enough: a flare (4 after a baseline of 1) holds the course while it
        lasts; the first rating that ends it lets it move on."""
        f = facts(baseline_pain=1, onset_days_ago=5)
        courses = timeline(f, [4, 4, 2])
        assert [c.phase for c in courses] == ["protect", "protect", "protect", "isometric"]
        assert courses[2].in_flare and not courses[3].in_flare

    def test_high_ratings_during_a_flare_belong_to_it(self) -> None:
        """5, 6, 7 after a low of 2 is one flare-up: one step back, no recurrence."""
        c = course(facts(baseline_pain=4), [2, 5, 6, 7])
        assert c.flare_starts == (2,)
        assert not escalated_for(c, "recurrent_flare")

    @pytest.mark.parametrize(("gap", "recurrent"), [(21, True), (22, False)])
    def test_a_second_flare_within_21_days_is_recurrent(self, gap: int, recurrent: bool) -> None:
        """Flare-ups starting 21 days apart: routine recurrent_flare with a hold; 22 apart: not."""
        days: list[Day] = [2, 2, 5, *[2] * (gap - 1), 5]
        c = course(STRAIN, days)
        assert c.flare_starts == (3, 3 + gap)
        found = Escalation(Level.ROUTINE, "recurrent_flare", 3 + gap) in c.escalations
        assert found is recurrent
        assert c.held is recurrent

    def test_while_escalated_it_steps_nothing_and_lists_nothing(self) -> None:
        """Escalated on day 3: a flare-up on day 4 still re-screens but keeps phase and clock."""
        escalated = course(STRAIN, [good(), good(), good(red_flags=(URGENT_FLAG,))])
        c = advance(escalated, 4, DayInput(pain=5), CATALOGUE)
        assert c.flare_starts == (4,)
        assert (c.phase, c.phase_since, c.transitions) == (
            escalated.phase,
            escalated.phase_since,
            escalated.transitions,
        )
        assert rescreen(c, 4, CATALOGUE) == RESCREEN_FLAGS

    def test_with_rule_11_the_same_day_only_the_exercise_pain_step_is_listed(self) -> None:
        """Too much twice and a flare-up on day 4: one step back, listed as exercise_pain; the
        flare-up still starts and re-screens."""
        c = course(STRAIN, [good(), good(), session(6), session(6, pain=4)])
        assert moves(c) == [(1, "isometric", "progression"), (4, "protect", "exercise_pain")]
        assert c.flare_starts == (4,)
        assert rescreen(c, 4, CATALOGUE) == RESCREEN_FLAGS


class TestMinimumDaysInPhase:
    @pytest.mark.parametrize(
        ("f", "minimum"),
        [
            (STRAIN, {"isometric": 3, "mobility": 4, "strength": 7, "return": 7}),
            (SLOW, {"isometric": 5, "mobility": 5, "strength": 10, "return": 10}),
            (TENDON, {"isometric": 14, "mobility": 7, "strength": 21, "return": 14}),
            (CRAMP, {"strength": 7, "return": 7}),
        ],
        ids=["standard", "slow", "tendon", "gentle"],
    )
    def test_each_phase_lasts_its_minimum(self, f: IntakeFacts, minimum: dict[str, int]) -> None:
        """With every criterion met from its first day, each phase moves on at the end of its
        minimum-th day, not a day earlier; maintain runs 14 days, then the program completes."""
        c = course(f, [good()] * 80)
        starts = {
            t.phase: (t.day + 1 if t.day else 0) for t in c.transitions if t.reason != "completed"
        }
        ends = {t.phase: t.day for t in c.transitions if t.reason == "completed"}
        for phase, days in minimum.items():
            following = PHASES[PHASES.index(phase) + 1]
            assert starts[following] - starts[phase] == days, phase
        assert ends["maintain"] - starts["maintain"] + 1 == 14
        assert c.status is Status.COMPLETED

    def test_gentle_mobility_lasts_3_days(self) -> None:
        """A cramp cleared on day 1 restarts mobility on day 2 and leaves it at the end of day 4."""
        courses = timeline(CRAMP, [DayInput(cleared=True)] + [good()] * 3, flags=(URGENT_FLAG,))
        assert courses[3].phase == "mobility"
        assert moves(courses[4])[-1] == (4, "strength", "progression")

    def test_a_first_phase_needs_three_ratings_after_day_0(self) -> None:
        """A cramp starts in mobility on day 0; the baseline is not a rating in the phase, so it
        leaves at the end of day 3, not day 2."""
        courses = timeline(CRAMP, [good()] * 3)
        assert courses[2].phase == "mobility" and courses[3].phase == "strength"

    def test_maintain_completes_after_14_days(self) -> None:
        """Maintain from day 23: still active at the end of day 35, completed at the end of 36."""
        courses = timeline(STRAIN, [good()] * 36)
        assert courses[22].phase == "maintain" and courses[22].phase_since == MAINTAIN_FROM
        assert courses[35].status is Status.ACTIVE
        assert courses[36].status is Status.COMPLETED
        assert courses[36].transitions[-1].reason == "completed"
        assert plan_ids(courses, 37) == []

    def test_phases_move_one_step_at_a_time(self) -> None:
        """Every progression is to the next phase."""
        c = course(STRAIN, [good()] * 36)
        assert [t.phase for t in c.transitions if t.reason == "progression"] == list(PHASES[1:])


class TestLeavingProtect:
    @pytest.mark.parametrize(
        ("f", "moved_on"),
        [
            (facts(onset_days_ago=0), 2),
            (facts(onset_days_ago=1), 1),
            (facts(SLOW, onset_days_ago=1), 2),
            (facts(SLOW, onset_days_ago=2), 1),
        ],
        ids=["standard-age-1", "standard-age-2", "slow-age-2", "slow-age-3"],
    )
    def test_onset_age_2_or_3_for_slow(self, f: IntakeFacts, moved_on: int) -> None:
        """Protect ends no earlier than onset age 2 (3 for the slow group)."""
        c = course(f, [good()] * 3)
        assert moves(c)[0] == (moved_on, "isometric", "progression")

    @pytest.mark.parametrize(("rating", "moved"), [(5, True), (6, False)])
    def test_latest_rating_5_or_less(self, rating: int, moved: bool) -> None:
        """Baseline 6: a rating of 5 on day 1 leaves protect; a 6 does not."""
        c = course(facts(baseline_pain=6), [rating])
        assert (c.phase == "isometric") is moved

    @pytest.mark.parametrize(("days", "moved"), [([None, 3, None], True), ([3, None, None], False)])
    def test_latest_rating_on_day_n_or_n_minus_1(self, days: list[Day], moved: bool) -> None:
        """Slow, onset age 3 on day 3: a rating on day 2 moves on at the end of day 3; one on
        day 1 (N-2) does not."""
        c = course(facts(SLOW, onset_days_ago=0), days)
        assert (moves(c) == [(3, "isometric", "progression")]) is moved

    def test_the_baseline_never_counts(self) -> None:
        """Day 1 with no rating stays in protect even with a low baseline and an old onset."""
        c = course(facts(baseline_pain=1, onset_days_ago=10), [None])
        assert c.phase == "protect"


class TestProgressionCriteria:
    """Isometric (standard, from day 2, minimum 3 days) with one criterion changed at a time."""

    def run(self, days: list[Day]) -> Course:
        return course(STRAIN, [good(), *days])

    def test_all_criteria_met(self) -> None:
        """Three good days in isometric move on to mobility at the end of day 4."""
        assert moves(self.run([good()] * 3))[-1] == (4, "mobility", "progression")

    @pytest.mark.parametrize(("rating", "moved"), [(2, True), (3, False)])
    def test_rest_pain_limit_2(self, rating: int, moved: bool) -> None:
        """A 3 among the last three ratings holds a strain in its phase; a 2 does not."""
        c = self.run([good(2), good(2), good(rating)])
        assert (c.phase == "mobility") is moved

    @pytest.mark.parametrize(("rating", "moved"), [(3, True), (4, False)])
    def test_rest_pain_limit_3_for_tendons(self, rating: int, moved: bool) -> None:
        """A tendon moves on with ratings of 3, not 4, after its 14 days."""
        c = course(TENDON, [good(3)] * 12 + [good(rating)])
        assert (c.phase == "mobility") is moved

    def test_ratings_within_n_minus_4(self) -> None:
        """Ratings on days 2, 5, 6 move on at the end of day 6 (day 2 is N-4); ratings on
        days 2, 6, 7 do not at the end of day 7 (day 2 is N-5)."""
        within = self.run([good(), good(None), good(None), good(), good()])
        assert moves(within)[-1] == (6, "mobility", "progression")
        outside = self.run([good(), good(None), good(None), good(None), good(), good()])
        assert outside.phase == "isometric"

    @pytest.mark.parametrize(("exercise_pain", "moved"), [(2, True), (3, False)])
    def test_last_two_sessions_fine(self, exercise_pain: int, moved: bool) -> None:
        """The last two sessions must be fine (2 or less): an acceptable 3 holds the phase."""
        c = self.run([good(), good(), good(exercise_pain=exercise_pain)])
        assert (c.phase == "mobility") is moved

    def test_no_session_no_progress(self) -> None:
        """Ratings and checks but no session reported: the course does not move on."""
        no_session = DayInput(pain=1, checks=(("walk_normal", True),))
        assert self.run([no_session] * 6).phase == "isometric"

    def test_sessions_before_the_phase_started_do_not_count(self) -> None:
        """Only one fine session since isometric started: not enough."""
        no_session = DayInput(pain=1, checks=(("walk_normal", True),))
        assert self.run([no_session, no_session, good()]).phase == "isometric"

    def test_a_no_blocks_until_a_later_yes(self) -> None:
        """walk_normal answered no holds the phase; its latest answer counts."""
        no = fine(checks=(("walk_normal", False),))
        yes = fine(checks=(("walk_normal", True),))
        assert self.run([yes, yes, no]).phase == "isometric"
        assert moves(self.run([no, no, fine(), yes]))[-1] == (5, "mobility", "progression")

    def test_a_yes_before_the_phase_started_does_not_count(self) -> None:
        """walk_normal answered yes in protect is not an answer for leaving isometric."""
        c = course(STRAIN, [fine(checks=(("walk_normal", True),)), fine(), fine(), fine(), fine()])
        assert c.phase == "isometric"

    @pytest.mark.parametrize(
        ("goal", "check", "moved"),
        [
            ("sport", "jog_slow", True),
            ("sport", "walk_brisk", False),
            ("everyday", "walk_brisk", True),
            ("everyday", "jog_slow", False),
        ],
    )
    def test_each_goal_has_its_checks(self, goal: str, check: str, moved: bool) -> None:
        """Leaving mobility needs jog_slow for sport and walk_brisk for everyday life."""
        days = [good()] * 4 + [fine(checks=((check, True),))] * 4
        assert (course(facts(goal=goal), days).phase == "strength") is moved

    @pytest.mark.parametrize("missing", ["strength_match", "stairs"])
    def test_every_check_of_the_phase(self, missing: str) -> None:
        """Leaving strength (everyday) needs both strength_match and stairs."""
        checks = tuple((c, True) for c in ("strength_match", "stairs") if c != missing)
        days = [good()] * 8 + [fine(checks=checks)] * 10
        assert course(facts(goal="everyday"), days).phase == "strength"
        assert course(facts(goal="everyday"), [good()] * 8 + [good()] * 7).phase == "return"


class TestHolds:
    def test_a_hold_lets_the_gentle_phases_go_on(self) -> None:
        """Held from day 0: protect to isometric to mobility as usual, then no strength."""
        c = course(STRAIN, [good()] * 20, flags=(ROUTINE_FLAG,))
        assert moves(c) == [(1, "isometric", "progression"), (4, "mobility", "progression")]
        assert c.phase == "mobility" and c.held

    def test_a_hold_blocks_return(self) -> None:
        """A routine flag on day 10 (in strength): no return after 7 days."""
        days = [good()] * 9 + [good(red_flags=(ROUTINE_FLAG,))] + [good()] * 10
        assert course(STRAIN, days).phase == "strength"

    def test_a_hold_blocks_maintain(self) -> None:
        """A routine flag on day 17 (in return): no maintain."""
        days = [good()] * 16 + [good(red_flags=(ROUTINE_FLAG,))] + [good()] * 10
        assert course(STRAIN, days).phase == "return"

    def test_a_hold_does_not_stop_maintain_completing(self) -> None:
        """A hold set in maintain: the program still completes after its 14 days."""
        days = [good()] * 24 + [good(red_flags=(ROUTINE_FLAG,))] + [good()] * 12
        assert course(STRAIN, days).status is Status.COMPLETED

    def test_seen_lifts_every_hold(self) -> None:
        """Two holds (day 0 and day 3) are both lifted by one `seen`; the course moves on."""
        days = [good(), good(), good(red_flags=(ROUTINE_FLAG,))] + [good()] * 6
        held = course(STRAIN, days, flags=(ROUTINE_FLAG,))
        assert held.phase == "mobility" and len(held.holds) == 2
        c = course(STRAIN, [*days, good(seen=True), good()], flags=(ROUTINE_FLAG,))
        assert not c.held
        assert moves(c)[-1] == (10, "strength", "progression")

    def test_seen_is_asked_7_and_14_days_after_the_hold(self) -> None:
        """A hold set on day 2: "have you seen a professional?" on days 9 and 16 only."""
        courses = timeline(STRAIN, [good(), good(red_flags=(ROUTINE_FLAG,))] + [good()] * 16)
        asked = [day for day in range(1, 18) if asks_for(courses[day - 1], day, CATALOGUE).seen]
        assert asked == [9, 16]

    def test_seen_is_asked_only_on_active_days(self) -> None:
        """Escalated on day 12: not asked on day 14 although a day-0 hold stands."""
        days = [good()] * 11 + [good(red_flags=(URGENT_FLAG,))] + [good()] * 2
        courses = timeline(STRAIN, days, flags=(ROUTINE_FLAG,))
        assert asks_for(courses[6], 7, CATALOGUE).seen
        assert not asks_for(courses[13], 14, CATALOGUE).seen

    def test_seen_is_not_asked_once_the_hold_is_lifted(self) -> None:
        """After `seen`, the question stops."""
        courses = timeline(STRAIN, [good(seen=True)] + [good()] * 7, flags=(ROUTINE_FLAG,))
        assert not asks_for(courses[6], 7, CATALOGUE).seen

    def test_referred_pain_is_asked_seen_from_day_7(self) -> None:
        """Referred pain's day-0 referral sets a hold: seen asked on day 7, not day 6."""
        courses = timeline(REFERRED, [good(2)] * 7)
        assert not asks_for(courses[5], 6, CATALOGUE).seen
        assert asks_for(courses[6], 7, CATALOGUE).seen


class TestClearance:
    def test_cleared_resumes_one_phase_back_with_holds_lifted(self) -> None:
        """Held and escalated in mobility on day 6; cleared on day 8: isometric from day 9."""
        days = [good()] * 5 + [good(red_flags=(URGENT_FLAG,)), good(), good(cleared=True)]
        c = course(STRAIN, days, flags=(ROUTINE_FLAG,))
        assert (c.status, c.phase, c.phase_since, c.held) == (Status.ACTIVE, "isometric", 9, False)
        assert moves(c)[-1] == (8, "isometric", "cleared")

    def test_never_below_the_first_phase(self) -> None:
        """Escalated at enrolment in protect: cleared stays in protect, clock restarted."""
        c = course(STRAIN, [DayInput(cleared=True)], flags=(URGENT_FLAG,))
        assert (c.status, c.phase, c.phase_since) == (Status.ACTIVE, "protect", 2)

    @pytest.mark.parametrize("f", [AVULSION, CHILD], ids=["avulsion", "under-16"])
    def test_no_program_becomes_completed(self, f: IntakeFacts) -> None:
        """A course with no program is completed when cleared, and never prescribes anything."""
        courses = timeline(f, [DayInput(pain=3, cleared=True), 2])
        assert courses[-1].status is Status.COMPLETED and courses[-1].phase is None
        assert plan_ids(courses, 1) == plan_ids(courses, 2) == plan_ids(courses, 3) == []

    def test_cleared_after_completion_stays_completed(self) -> None:
        """Escalated after the program was completed: cleared makes it completed again."""
        done = course(STRAIN, [good()] * 36)
        flagged = advance(done, 37, DayInput(red_flags=(URGENT_FLAG,)), CATALOGUE)
        c = advance(flagged, 38, DayInput(cleared=True), CATALOGUE)
        assert c.status is Status.COMPLETED

    def test_cleared_when_not_escalated_counts_as_seen(self) -> None:
        """Active with a hold: `cleared` lifts the hold and changes nothing else."""
        held = course(STRAIN, [good()] * 3, flags=(ROUTINE_FLAG,))
        c = advance(held, 4, good(cleared=True), CATALOGUE)
        assert not c.held and c.status is Status.ACTIVE
        assert all(t.reason != "cleared" for t in c.transitions)


class TestAfterCompletionAndWithoutAProgram:
    def test_after_completion_only_red_flags_and_severe_pain_run(self) -> None:
        """A completed program rated 7, 7, 7 for a week: no flare-up, worsening or no_improvement."""
        done = course(facts(onset="gradual"), [good()] * 36)
        c = done
        for day in range(37, 45):
            c = advance(c, day, DayInput(pain=7), CATALOGUE)
        assert c.escalations == done.escalations and c.flare_starts == ()
        assert c.status is Status.COMPLETED

    def test_a_course_without_a_program_runs_only_rules_1_and_10(self) -> None:
        """An avulsion rated 5, 7, 7, 7 (gradual, so no single-9 rule): no flare-up, no worsening."""
        c = course(facts(AVULSION, onset="gradual", baseline_pain=4), [5, 7, 7, 7] + [7] * 10)
        assert reasons(c) == [(0, "referral_injury")]
        assert c.flare_starts == () and rescreen(c, 2, CATALOGUE) == ()


class TestSilence:
    @pytest.mark.parametrize(
        ("silent", "nudged", "paused"),
        [(2, False, False), (3, True, False), (6, True, False), (7, True, True)],
    )
    def test_nudge_at_3_pause_at_7(self, silent: int, nudged: bool, paused: bool) -> None:
        """3 days without a rating: one nudge; at the end of the 7th: paused; never escalated."""
        c = course(STRAIN, [4] + [None] * silent)
        nudges = [n.day for n in c.notices if n.kind == "nudge"]
        assert nudges == ([4] if nudged else [])
        assert (c.status is Status.PAUSED) is paused
        assert c.escalations == ()

    def test_nothing_is_prescribed_or_asked_while_paused(self) -> None:
        """Paused on day 8: day 9 has no exercises and no questions, even on a screen day."""
        courses = timeline(STRAIN, [4] + [None] * 12)
        assert courses[8].status is Status.PAUSED
        assert plan_ids(courses, 9) == []
        assert asks_for(courses[13], 14, CATALOGUE).names() == []
        assert asks_for(courses[13], 14, CATALOGUE).screen == ()

    def test_an_escalated_course_is_not_paused(self) -> None:
        """Escalated on day 1, then silent for 10 days: still escalated."""
        c = course(STRAIN, [DayInput(pain=4, red_flags=(URGENT_FLAG,))] + [None] * 10)
        assert c.status is Status.ESCALATED

    def test_coming_back_restarts_the_clock(self) -> None:
        """A rating after a pause makes the course active again, its phase clock from the next day."""
        c = course(STRAIN, [good()] * 3 + [None] * 7 + [good()])
        assert c.status is Status.ACTIVE and c.phase == "isometric"
        assert moves(c)[-2:] == [(10, "isometric", "silence"), (11, "isometric", "returned")]
        assert c.phase_since == 12


class TestSeverePain:
    @pytest.mark.parametrize(("rating", "rescreened"), [(7, False), (8, True)])
    def test_8_re_screens_the_red_flags(self, rating: int, rescreened: bool) -> None:
        """Baseline 7: a rating of 8 re-asks the R flags that day (no flare-up involved); 7 does not."""
        c = course(facts(baseline_pain=7, onset="gradual"), [rating])
        assert c.flare_starts == ()
        assert rescreen(c, 1, CATALOGUE) == (RESCREEN_FLAGS if rescreened else ())

    @pytest.mark.parametrize(
        ("days", "day"),
        [([8, 8], 2), ([8, None, 8], 3), ([8, None, None, 8], None), ([8, 5, 8], None)],
    )
    def test_two_consecutive_8s_within_2_days(self, days: list[Day], day: int | None) -> None:
        """Gradual onset: two consecutive 8+ ratings, the second within 2 days, are urgent."""
        c = course(facts(onset="gradual"), days)
        expected = [Escalation(Level.URGENT, "severe_pain", day)] if day else []
        assert [e for e in c.escalations if e.reason == "severe_pain"] == expected
        if day:
            assert c.status is Status.ESCALATED

    @pytest.mark.parametrize(("days", "severe"), [([None, 8], True), ([None, None, 8], False)])
    def test_the_baseline_counts_as_a_rating(self, days: list[Day], severe: bool) -> None:
        """Baseline 8 (gradual): an 8 on day 2 is the second within 2 days; on day 3 it is not."""
        assert (
            escalated_for(course(facts(onset="gradual", baseline_pain=8), days), "severe_pain")
            is severe
        )

    @pytest.mark.parametrize(("quiet_days", "severe"), [(5, True), (6, False)])
    def test_one_9_at_onset_age_7_but_not_8(self, quiet_days: int, severe: bool) -> None:
        """A sudden onset a day before enrolment: one 9 on day 6 (onset age 7) is urgent; on
        day 7 (onset age 8) it is not."""
        c = course(STRAIN, [3] * quiet_days + [9])
        assert escalated_for(c, "severe_pain") is severe

    def test_one_8_is_not_enough_early(self) -> None:
        """A single 8 soon after a sudden onset re-screens but does not escalate."""
        assert not escalated_for(course(STRAIN, [3, 8]), "severe_pain")

    def test_one_9_after_a_gradual_onset_is_not_enough(self) -> None:
        """Gradual onset: one 9 is not severe_pain."""
        assert not escalated_for(course(facts(onset="gradual"), [3, 9]), "severe_pain")

    @pytest.mark.parametrize(
        ("injury", "severe"), [("hamstring_contusion", True), ("hamstring_strain", False)]
    )
    def test_a_contusion_at_any_time(self, injury: str, severe: bool) -> None:
        """A blow 100 days ago: one 9 is still urgent for a contusion, not for a strain."""
        c = course(facts(injury=injury, grade=None, onset_days_ago=100), [3, 9])
        assert escalated_for(c, "severe_pain") is severe

    def test_not_raised_again_while_escalated_by_it(self) -> None:
        """Severe pain at enrolment (sudden, 9): more 9s on days 1 and 2 add no escalation."""
        c = course(facts(baseline_pain=9), [9, 9])
        assert reasons(c) == [(0, "severe_pain")]

    def test_not_raised_while_escalated_after_day_0(self) -> None:
        """Escalated by an urgent flag on day 1: two 9s on days 2 and 3 add no severe_pain."""
        c = course(facts(onset="gradual"), [DayInput(pain=3, red_flags=(URGENT_FLAG,)), 9, 9])
        assert not escalated_for(c, "severe_pain")

    def test_raised_again_after_clearance(self) -> None:
        """Cleared after a severe_pain escalation, two more 8s escalate again."""
        c = course(facts(onset="gradual"), [8, 8, DayInput(pain=3, cleared=True), 8, 8])
        assert [e.day for e in c.escalations if e.reason == "severe_pain"] == [2, 5]

    def test_runs_after_completion(self) -> None:
        """A completed program still escalates two 8s and re-screens."""
        done = course(facts(onset="gradual"), [good()] * 36)
        assert done.status is Status.COMPLETED
        c = advance(advance(done, 37, DayInput(pain=8), CATALOGUE), 38, DayInput(pain=8), CATALOGUE)
        assert escalated_for(c, "severe_pain") and c.status is Status.ESCALATED
        assert rescreen(c, 38, CATALOGUE) == RESCREEN_FLAGS

    def test_escalated_at_intake_for_another_reason_does_not_prevent_it(self) -> None:
        """Escalated by an urgent flag at enrolment, two 8s on days 1 and 2 still add severe_pain:
        the spec's "after day 0" is read as the escalation's day (the safer reading)."""
        c = course(facts(onset="gradual"), [8, 8], flags=(URGENT_FLAG,))
        assert (2, "severe_pain") in reasons(c)

    def test_under_16_nothing_is_asked(self) -> None:
        """An under-16 rating of 9: no re-screen (nothing is asked)."""
        c = course(CHILD, [9])
        assert rescreen(c, 1, CATALOGUE) == ()


class TestExercisePain:
    """Isometric from day 2 (standard); too much is 5 or more."""

    @pytest.mark.parametrize(("gap", "stepped"), [(3, True), (4, False)])
    def test_two_too_much_within_3_days(self, gap: int, stepped: bool) -> None:
        """Too much on day 3 and again 3 days later steps back to protect; 4 days later does not."""
        days: list[Day] = [good(), good(), session(5), *[1] * (gap - 1), session(5)]
        c = course(STRAIN, days)
        second = 3 + gap
        assert ((second, "protect", "exercise_pain") in moves(c)) is stepped
        if stepped:
            assert c.phase_since == second + 1

    def test_an_acceptable_session_between_breaks_the_pair(self) -> None:
        """Too much, acceptable, too much: the last two rated sessions are not both too much."""
        c = course(STRAIN, [good(), good(), session(5), session(3), session(5)])
        assert all(reason != "exercise_pain" for _, _, reason in moves(c))

    def test_listed_even_when_the_phase_stays(self) -> None:
        """A cramp (first phase mobility): two too-much sessions restart mobility and are listed."""
        c = course(CRAMP, [session(5), session(6)])
        assert moves(c) == [(2, "mobility", "exercise_pain")] and c.phase_since == 3

    def test_not_a_flare_up(self) -> None:
        """Stepping back for exercise pain re-asks no red flags and starts no flare-up."""
        c = course(STRAIN, [good(), good(), session(5), session(5)])
        assert c.flare_starts == () and rescreen(c, 4, CATALOGUE) == ()

    def test_tendons_tolerate_5(self) -> None:
        """For a tendon, exercise pain of 5 is acceptable: two of them step nothing back."""
        c = course(TENDON, [session(5, pain=3), session(5, pain=3)])
        assert moves(c) == []


class TestQuestionsAsked:
    WEEKLY = (
        "saddle_numbness_or_bladder_bowel",
        "cold_pale_leg",
        "tense_swollen_thigh",
        "breathless_or_chest_pain",
        "calf_swelling_redness",
        "fever_or_unwell",
        "cannot_bear_weight",
        "numbness_tingling_or_weakness",
        "night_pain_or_weight_loss",
    )

    def asks(
        self,
        f: IntakeFacts,
        day: int,
        days: Sequence[Day] | None = None,
        flags: tuple[str, ...] = (),
    ) -> Asks:
        courses = timeline(f, days if days is not None else [fine()] * day, flags)
        return asks_for(courses[day - 1], day, CATALOGUE)

    @pytest.mark.parametrize("day", [6, 7, 8, 13, 14, 21])
    def test_the_weekly_screen_on_days_7_14_21(self, day: int) -> None:
        """The W flags on days 7, 14, 21 (daily activities from day 7), none in between."""
        expected = (*self.WEEKLY, "limits_daily_activities") if day % 7 == 0 else ()
        assert self.asks(STRAIN, day).screen == expected

    def test_the_screen_is_asked_while_escalated(self) -> None:
        """Escalated on day 2: the day-7 prompt still carries the weekly screen."""
        days = [fine(), DayInput(pain=1, red_flags=(URGENT_FLAG,))] + [1] * 5
        assert self.asks(STRAIN, 7, days).screen == (*self.WEEKLY, "limits_daily_activities")

    def test_function_is_asked_while_escalated(self) -> None:
        """Escalated on day 2 with an activity named: day 7 still asks the function score."""
        f = facts(activity="running", function_baseline=3)
        days = [fine(), DayInput(pain=1, red_flags=(URGENT_FLAG,))] + [1] * 5
        assert self.asks(f, 7, days).function

    def test_nothing_is_asked_after_completion(self) -> None:
        """A completed program asks nothing on a screen day."""
        asks = self.asks(STRAIN, 42, [good()] * 41)
        assert asks.screen == () and asks.names() == []

    @pytest.mark.parametrize(("day", "asked"), [(7, False), (14, True)])
    def test_daily_activities_from_day_14_for_slow(self, day: int, asked: bool) -> None:
        """For the slow group `limits_daily_activities` waits for the second week."""
        assert ("limits_daily_activities" in self.asks(SLOW, day).screen) is asked

    @pytest.mark.parametrize(
        ("injury", "onset_days_ago", "asked"),
        [
            ("hamstring_contusion", 6, False),
            ("hamstring_contusion", 7, True),
            ("hamstring_strain", 30, False),
        ],
    )
    def test_hard_lump_only_for_a_contusion_two_weeks_old(
        self, injury: str, onset_days_ago: int, asked: bool
    ) -> None:
        """A hard lump is asked about for a contusion at onset age 14 or more (day 7: 13 vs 14)."""
        f = facts(injury=injury, grade=None, onset_days_ago=onset_days_ago, onset="sudden")
        assert ("hard_lump_after_bruise" in self.asks(f, 7).screen) is asked

    @pytest.mark.parametrize(
        ("activity", "day", "asked"),
        [("running", 7, True), ("running", 8, False), (None, 7, False)],
    )
    def test_function_is_asked_weekly_when_an_activity_was_named(
        self, activity: str | None, day: int, asked: bool
    ) -> None:
        """The function score is asked on screen days, and only of users who named an activity."""
        f = facts(activity=activity, function_baseline=3 if activity else None)
        assert self.asks(f, day).function is asked

    def test_checks_are_asked_once_a_to_d_hold(self) -> None:
        """Isometric from day 2: after three fine days (end of day 4) walk_normal is asked on day 5."""
        courses = timeline(STRAIN, [fine()] * 5)
        assert asks_for(courses[3], 4, CATALOGUE).checks == ()
        assert asks_for(courses[4], 5, CATALOGUE).checks == ("walk_normal",)

    @pytest.mark.parametrize(("goal", "check"), [("sport", "jog_slow"), ("everyday", "walk_brisk")])
    def test_checks_follow_the_goal(self, goal: str, check: str) -> None:
        """In mobility the check asked depends on the goal."""
        assert self.asks(facts(goal=goal), 10, [good()] * 4 + [fine()] * 5).checks == (check,)

    def test_a_no_is_not_asked_again_the_next_day(self) -> None:
        """walk_normal answered no on day 5: not asked on day 6, asked again on day 7."""
        courses = timeline(STRAIN, [fine()] * 4 + [fine(checks=(("walk_normal", False),)), fine()])
        assert asks_for(courses[5], 6, CATALOGUE).checks == ()
        assert asks_for(courses[6], 7, CATALOGUE).checks == ("walk_normal",)

    def test_a_check_answered_yes_is_not_asked(self) -> None:
        """Strength (everyday): strength_match already yes, only stairs is asked."""
        days = [good()] * 8 + [fine(checks=(("strength_match", True),))] + [fine()] * 7
        courses = timeline(facts(goal="everyday"), days)
        assert courses[16].phase == "strength"
        assert asks_for(courses[16], 17, CATALOGUE).checks == ("stairs",)

    def test_no_checks_while_a_hold_blocks_the_move(self) -> None:
        """Held in mobility (strength blocked): its check is never asked."""
        courses = timeline(STRAIN, [good()] * 4 + [fine()] * 8, flags=(ROUTINE_FLAG,))
        assert courses[12].phase == "mobility"
        assert all(asks_for(courses[d - 1], d, CATALOGUE).checks == () for d in range(5, 13))

    def test_checks_are_asked_while_held_below_strength(self) -> None:
        """A hold does not block leaving isometric, so walk_normal is asked."""
        courses = timeline(STRAIN, [fine()] * 4, flags=(ROUTINE_FLAG,))
        assert asks_for(courses[4], 5, CATALOGUE).checks == ("walk_normal",)

    def test_nothing_is_asked_of_an_under_16(self) -> None:
        """Under 16: no screen, no function, no checks, even on day 7."""
        f = facts(CHILD, activity="running", function_baseline=3)
        assert self.asks(f, 7, [3] * 6) == Asks()

    def test_nothing_extra_on_day_0(self) -> None:
        """Day 0 asks nothing besides enrolment."""
        assert asks_for(begin(STRAIN, (), CATALOGUE), 0, CATALOGUE).names() == []


class TestDays:
    def test_days_must_move_forward(self) -> None:
        """Applying a day twice is a programming error, not a silent overwrite."""
        c = advance(begin(STRAIN, (), CATALOGUE), 1, DayInput(pain=3), CATALOGUE)
        with pytest.raises(ValueError, match="not after day 1"):
            advance(c, 1, DayInput(pain=3), CATALOGUE)


class TestTheNumbersBehindAnEscalation:
    """Each escalation of the course rules carries the numbers that triggered it (the sandbox's
    inspector and the course log show them); they take no part in comparing escalations."""

    @pytest.mark.parametrize(
        ("c", "why"),
        [
            (course(facts(baseline_pain=3), [5, None, 5, 5]),
             "ratings 5, 5, 5: 3 in a row >= 5 (baseline 3 + 2) and > 2"),
            (course(facts(baseline_pain=5, onset_days_ago=30), [8, 9]),
             "pain 8 on day 1 and 9 on day 2: 8+ twice within 2 days"),
            (course(facts(baseline_pain=5, onset_days_ago=2), [9]),
             "pain 9 >= 9, sudden onset 3 days ago <= 7"),
            (course(facts(baseline_pain=2), [2, 6, *[2] * 9, 6]),
             "flare-up on day 12, 10 days after the one on day 2 <= 21"),
            (course(facts(baseline_pain=6), [6] * 7),
             "day 7 >= 7, last ratings 6, 6, 6 not down to 4.2 (baseline 6), "
             "no downward trend over days 1-7"),
        ],
    )  # fmt: skip
    def test_the_why_names_the_numbers(self, c: Course, why: str) -> None:
        assert c.escalations[-1].why == why

    def test_the_why_does_not_change_what_an_escalation_is(self) -> None:
        escalation = course(facts(baseline_pain=3), [5, 5, 5]).escalations[-1]
        assert escalation == Escalation(Level.ROUTINE, "worsening", 3)


class TestADayStillGoingOn:
    """The bot applies each answer as it comes (`advance(day_open=True)`): until the day's
    rating is given, the rules judged at the end of the day wait; with it, they all run."""

    @staticmethod
    def on_day(c: Course, entry: DayInput, *, day_open: bool) -> Course:
        return advance(c, c.day + 1, entry, CATALOGUE, day_open=day_open)

    @pytest.mark.parametrize(("day_open", "paused"), [(True, False), (False, True)])
    def test_coming_back_after_a_silent_week_is_not_a_pause(
        self, day_open: bool, paused: bool
    ) -> None:
        """Rated day 1, silent days 2-7: "Done" on day 8, before the pain question, does not
        pause the course (at the end of day 8 with no rating it would)."""
        c = self.on_day(course(STRAIN, [4] + [None] * 6), DayInput(session="done",
                        exercise_pain=1), day_open=day_open)  # fmt: skip
        assert (c.status is Status.PAUSED) is paused

    @pytest.mark.parametrize(("day_open", "escalated"), [(True, False), (False, True)])
    def test_no_improvement_waits_for_the_days_rating(
        self, day_open: bool, escalated: bool
    ) -> None:
        """Baseline 6, ratings of 6 on days 1-6: a session answered on day 7 with no rating
        yet decides nothing (rule 4 is judged on day 7 once its rating is in, or at its end)."""
        c = self.on_day(course(facts(baseline_pain=6), [6] * 6),
                        DayInput(session="done", exercise_pain=1), day_open=day_open)  # fmt: skip
        assert escalated_for(c, "no_improvement") is escalated

    def test_with_the_rating_the_end_of_day_rules_run(self) -> None:
        """The same day 7 with its rating given: rule 4 escalates while the day is going on."""
        c = self.on_day(course(facts(baseline_pain=6), [6] * 6),
                        DayInput(pain=6, session="done", exercise_pain=1), day_open=True)  # fmt: skip
        assert escalated_for(c, "no_improvement")

    @pytest.mark.parametrize(("day_open", "moved"), [(True, False), (False, True)])
    def test_progression_waits_for_the_days_rating(self, day_open: bool, moved: bool) -> None:
        """Protect, a fresh grade 2 strain (group slow, onset on day 0) rated 1 on day 2: on
        day 3 (onset 3 days ago) a session alone does not move the course on while the day goes
        on (day 2's rating would allow it at the day's end)."""
        fresh = facts(onset_days_ago=0, grade=2)
        assert course(fresh, [4, 1]).phase == "protect"
        c = self.on_day(course(fresh, [4, 1]), DayInput(session="done", exercise_pain=1),
                        day_open=day_open)  # fmt: skip
        assert (c.phase == "isometric") is moved

    def test_red_flags_and_a_too_much_session_do_not_wait(self) -> None:
        """What is decided at once still is: a red flag escalates before the rating."""
        c = self.on_day(course(STRAIN, [4]), DayInput(red_flags=(URGENT_FLAG,)), day_open=True)
        assert c.status is Status.ESCALATED


class TestEvolve:
    """The course's cheap `replace` (a replay makes dozens of copies) makes the same value."""

    def test_a_copy_with_changes_equals_dataclasses_replace(self) -> None:
        c = course(STRAIN, [4, 3, good(), 2])
        changes: dict[str, object] = {"day": 9, "holds": (3,), "in_flare": True}
        copy = evolve(c, **changes)  # type: ignore[arg-type]
        assert copy == dataclasses.replace(c, **changes)  # type: ignore[arg-type]
        assert hash(copy) == hash(dataclasses.replace(c, **changes))  # type: ignore[arg-type]
        assert (c.day, c.holds, c.in_flare) != (9, (3,), True)  # the original is untouched
        with pytest.raises(dataclasses.FrozenInstanceError):
            copy.day = 10  # type: ignore[misc]

    def test_an_unknown_field_is_an_error(self) -> None:
        with pytest.raises(TypeError, match="no field"):
            evolve(course(STRAIN, [4]), dayz=3)  # type: ignore[call-arg]
