"""Today's plan (clinical spec v2 rule 8): the phase's exercises within the ceiling, on their days,
capped at 5 exercises and 30 minutes above `rest`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coachbot.domain.course import Course, DayInput, begin
from coachbot.domain.phases import load_rank
from coachbot.domain.plan import plan_for
from coachbot.domain.triage import IntakeFacts
from tests.unit.rules import (
    CATALOGUE,
    STRAIN,
    TENDON,
    TENDON_AVOID,
    URGENT_FLAG,
    Exercise,
    catalogue,
    facts,
    good,
    plan_ids,
    plan_loads,
    timeline,
)

SPORT = facts(goal="sport")
# A standard strain given good days: isometric from day 2, mobility from 5, strength from 9,
# return from 16, maintain from 23.
STRENGTH_FROM, RETURN_FROM = 9, 16


def fine(pain: int | None = 1, exercise_pain: int = 1) -> DayInput:
    """A fine session and a rating, no check answered: the phase does not move on."""
    return DayInput(pain=pain, session="done", exercise_pain=exercise_pain)


def highest(loads: set[str]) -> str:
    return max(loads, key=load_rank)


def with_rating(c: Course, day: int, pain: int) -> Course:
    """The same course with one more rating on `day` (plan rules only, no other rule applied)."""
    return replace(c, ratings=(*c.ratings, (day, pain)), day=day)


class TestDaysOfAnExercise:
    EVERY = catalogue(
        isometric=[
            Exercise("daily", "isometric", 1),
            Exercise("every_other", "isometric", 2),
            Exercise("every_third", "isometric", 3),
        ]
    )

    def test_every_k_days_from_the_phases_first_day(self) -> None:
        """Isometric from day 2: every-2 on days 2, 4, 6, 8; every-3 on days 2, 5, 8."""
        courses = timeline(STRAIN, [good(), *[fine()] * 7], cat=self.EVERY)
        plans = {day: plan_ids(courses, day, self.EVERY) for day in range(2, 9)}
        assert plans == {
            2: ["daily", "every_other", "every_third"],
            3: ["daily"],
            4: ["daily", "every_other"],
            5: ["daily", "every_third"],
            6: ["daily", "every_other"],
            7: ["daily"],
            8: ["daily", "every_other", "every_third"],
        }

    def test_a_clock_restart_starts_the_count_again(self) -> None:
        """A tendon flare-up on day 3 restarts isometric on day 4: everything is due that day."""
        calm = timeline(TENDON, [fine(3)] * 3, cat=self.EVERY)
        flared = timeline(TENDON, [fine(3), fine(3), fine(5)], cat=self.EVERY)
        assert flared[3].phase_since == 4
        assert plan_ids(calm, 4, self.EVERY) == ["daily", "every_other"]  # day 5 of the phase
        assert plan_ids(flared, 4, self.EVERY) == ["daily", "every_other", "every_third"]


class TestTheCap:
    def test_at_most_30_minutes_in_priority_order(self) -> None:
        """Each exercise that still fits is kept: 10 + 10 (+15 no) + 5 + 5 (+1 no) = 30 minutes."""
        cat = catalogue(
            isometric=[
                Exercise("i1", "isometric", 1, 10),
                Exercise("i2", "isometric", 1, 10),
                Exercise("i3", "isometric", 1, 15),
                Exercise("i4", "isometric", 1, 5),
                Exercise("i5", "isometric", 1, 5),
                Exercise("i6", "isometric", 1, 1),
            ]
        )
        courses = timeline(STRAIN, [good()], cat=cat)
        assert plan_ids(courses, 2, cat) == ["i1", "i2", "i4", "i5"]

    def test_at_most_5_exercises_above_rest(self) -> None:
        """Seven one-minute isometrics: the first five are kept."""
        cat = catalogue(isometric=[Exercise(f"i{n}", "isometric", 1, 1) for n in range(7)])
        courses = timeline(STRAIN, [good()], cat=cat)
        assert plan_ids(courses, 2, cat) == [f"i{n}" for n in range(5)]

    def test_rest_is_always_kept_and_not_counted(self) -> None:
        """Rest exercises (even long ones) are kept beside a full plan and take no minutes."""
        cat = catalogue(
            isometric=[
                Exercise("ice", "rest", 1, 20),
                *[Exercise(f"i{n}", "isometric", 1, 6) for n in range(6)],
                Exercise("sitting", "rest", 1, 30),
            ]
        )
        courses = timeline(STRAIN, [good()], cat=cat)
        assert plan_ids(courses, 2, cat) == ["ice", "i0", "i1", "i2", "i3", "i4", "sitting"]


class TestCeiling:
    def test_a_phase_never_prescribes_above_its_class(self) -> None:
        """An eccentric exercise listed under isometric is never given there."""
        cat = catalogue(
            isometric=[
                Exercise("misfiled_nordic", "eccentric"),
                Exercise("bridge_hold", "isometric"),
            ]
        )
        courses = timeline(STRAIN, [good()], cat=cat)
        assert plan_ids(courses, 2, cat) == ["bridge_hold"]

    @pytest.mark.parametrize(
        ("rating", "ceiling"), [(5, "plyometric"), (6, "mobility"), (7, "mobility"), (8, "rest")]
    )
    def test_the_most_recent_rating(self, rating: int, ceiling: str) -> None:
        """In return (sport): the day after a 5 anything; after 6-7 nothing above mobility;
        after 8 or more rest only."""
        courses = timeline(SPORT, [good()] * 16)
        assert courses[16].phase == "return"
        c = with_rating(courses[16], 17, rating)
        assert highest({e.load for e in plan_for(c, 18, CATALOGUE)}) == ceiling

    def test_the_most_recent_rating_may_be_days_old(self) -> None:
        """An 8 on day 3 and silence after: day 5 is still rest only."""
        courses = timeline(TENDON, [fine(3), fine(3), 8, None])
        assert plan_loads(courses, 5) == {"rest"}

    @pytest.mark.parametrize(("baseline", "loads"), [(5, {"mobility", "isometric"}), (8, set())])
    def test_day_0_uses_the_baseline(self, baseline: int, loads: set[str]) -> None:
        """A cramp starts in mobility: day 0 has mobility work at baseline 5, none at 8."""
        f = facts(injury="hamstring_cramp", grade=None, baseline_pain=baseline)
        assert {e.load for e in plan_for(begin(f, (), CATALOGUE), 0, CATALOGUE)} == loads

    def test_day_0_after_baseline_6_caps_at_mobility(self) -> None:
        """An `unsure` sudden onset 5 days old starts in isometric: baseline 6 still allows it."""
        f = facts(injury="unsure", grade=None, onset_days_ago=5, baseline_pain=6)
        assert {e.load for e in plan_for(begin(f, (), CATALOGUE), 0, CATALOGUE)} == {
            "isometric",
            "rest",
        }

    @pytest.mark.parametrize(("day", "eccentric"), [(12, False), (13, True)])
    def test_no_eccentric_before_onset_age_14(self, day: int, eccentric: bool) -> None:
        """A sudden strain a day old at enrolment, in strength from day 9: no eccentric work on
        day 12 (onset age 13); Diver on day 13 (onset age 14)."""
        courses = timeline(STRAIN, [good()] * day)
        assert courses[day - 1].phase == "strength"
        assert ("eccentric" in plan_loads(courses, day)) is eccentric

    def test_a_gradual_onset_has_no_14_day_wait(self) -> None:
        """A gradual problem in strength gets eccentric work on its first day there."""
        courses = timeline(facts(onset="gradual"), [good()] * STRENGTH_FROM)
        assert "eccentric" in plan_loads(courses, STRENGTH_FROM)

    @pytest.mark.parametrize(("goal", "plyometric"), [("sport", True), ("everyday", False)])
    def test_no_plyometric_for_everyday_life(self, goal: str, plyometric: bool) -> None:
        """Return: running build-up for sport, never for everyday life (eccentric is still given)."""
        courses = timeline(facts(goal=goal), [good()] * RETURN_FROM)
        loads = plan_loads(courses, RETURN_FROM)
        assert ("plyometric" in loads) is plyometric
        assert "eccentric" in loads

    @pytest.mark.parametrize(("onset_days_ago", "first_working_day"), [(0, 2), (1, 1)])
    def test_a_fresh_tendon_rests_under_onset_age_2(
        self, onset_days_ago: int, first_working_day: int
    ) -> None:
        """Tendinopathy: rest only while the onset age is under 2, isometrics from then."""
        courses = timeline(facts(TENDON, onset_days_ago=onset_days_ago), [fine(3)] * 3)
        for day in range(4):
            loads = {
                e.load for e in plan_for(courses[day - 1] if day else courses[0], day, CATALOGUE)
            }
            assert ("isometric" in loads) is (day >= first_working_day), day
            assert loads <= {"rest", "isometric"}

    def test_after_too_much_one_class_below_until_the_next_rated_session(self) -> None:
        """Isometric: too much on day 3 makes days 4 and 5 rest only (no session on day 4); a
        fine session on day 5 brings the isometrics back on day 6."""
        courses = timeline(
            STRAIN, [good(), fine(), fine(exercise_pain=5), DayInput(pain=1), fine()]
        )
        assert plan_loads(courses, 3) == {"isometric", "rest"}
        assert plan_loads(courses, 4) == {"rest"}
        assert plan_loads(courses, 5) == {"rest"}
        assert plan_loads(courses, 6) == {"isometric", "rest"}

    def test_too_much_lowers_from_the_highest_class_prescribed_that_day(self) -> None:
        """Return (sport): too much on a plyometric day leaves eccentric as the next day's top."""
        courses = timeline(SPORT, [good()] * 16 + [fine(exercise_pain=5)])
        assert courses[17].phase == "return"
        assert highest(plan_loads(courses, RETURN_FROM)) == "plyometric"
        assert highest(plan_loads(courses, 18)) == "eccentric"


class TestWhatIsPrescribed:
    def test_tendons_never_get_the_avoid_list(self) -> None:
        """A tendon in mobility gets no windmill, Extender or knee hug."""
        courses = timeline(TENDON, [good(3)] * 16)
        assert courses[15].phase == "mobility"
        given = set(plan_ids(courses, 16))
        assert given and not given & TENDON_AVOID

    def test_referred_pain_gets_no_nerve_tension_stretches(self) -> None:
        """Referred pain: the windmill but not the Extender or the knee hug."""
        f = facts(injury="referred_pain", onset="gradual", grade=None, baseline_pain=3)
        given = plan_ids([begin(f, (), CATALOGUE)], 1)
        assert "windmill" in given and not {"extender", "knee_hug"} & set(given)

    def test_the_day_0_plan_is_sent_at_enrolment(self) -> None:
        """A fresh strain's day 0 plan is protect's rest exercises."""
        assert [e.id for e in plan_for(begin(STRAIN, (), CATALOGUE), 0, CATALOGUE)] == [
            "price",
            "gentle_walk",
        ]

    @pytest.mark.parametrize(
        "f", [facts(injury="hamstring_avulsion", grade=None), facts(age=15), STRAIN]
    )
    def test_nothing_while_escalated_or_without_a_program(self, f: IntakeFacts) -> None:
        """No exercise for an avulsion, an under-16 or an urgent red flag."""
        c = begin(f, (URGENT_FLAG,) if f is STRAIN else (), CATALOGUE)
        assert plan_for(c, 0, CATALOGUE) == () and plan_for(c, 1, CATALOGUE) == ()
