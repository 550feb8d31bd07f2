"""Today's plan: the phase's exercises within its load limit and rule 8 (safety of load)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coachbot.content import default_content
from coachbot.domain.course import Course, DayInput, replay
from coachbot.domain.phases import load_rank
from coachbot.domain.plan import plan_for
from coachbot.domain.triage import IntakeFacts

CONTENT = default_content()
LEVELS = CONTENT.levels
# A strain that reached `strength` (phase since day 10) with low pain all along.
STRAIN = IntakeFacts(
    injury="hamstring_strain",
    age=30,
    onset="sudden",
    onset_days_ago=0,
    location="middle",
    baseline_pain=1,
    grade=1,
)


def course_after(facts: IntakeFacts, ratings: list[int]) -> Course:
    return replay(facts, (), [(n, DayInput(pain=p)) for n, p in enumerate(ratings, 1)], LEVELS)


def plan(course: Course, day: int) -> list[str]:
    avoid = CONTENT.injury(course.facts.injury).avoid
    return [e.load for e in plan_for(course, day, CONTENT.exercises, avoid)]


def ids(course: Course, day: int) -> set[str]:
    avoid = CONTENT.injury(course.facts.injury).avoid
    return {e.id for e in plan_for(course, day, CONTENT.exercises, avoid)}


class TestLoadSafety:
    @pytest.mark.parametrize(("onset_days_ago", "heavy_allowed"), [(2, False), (3, True)])
    def test_no_eccentric_within_14_days_of_a_sudden_onset(
        self, onset_days_ago: int, heavy_allowed: bool
    ) -> None:
        """Day 11 of the program is day 13 after an onset 2 days before enrolment (none), day 14
        after one 3 days before (allowed)."""
        course = course_after(replace(STRAIN, onset_days_ago=onset_days_ago), [1] * 10)
        assert course.phase == "strength"
        assert ("eccentric" in plan(course, 11)) is heavy_allowed

    def test_gradual_onset_has_no_14_day_rule(self) -> None:
        """A gradual problem in strength gets its eccentric work at once."""
        course = course_after(replace(STRAIN, onset="gradual"), [1] * 10)
        assert "eccentric" in plan(course, 11)

    @pytest.mark.parametrize(("rating", "restricted"), [(5, False), (6, True)])
    def test_after_a_rating_of_6_only_rest_isometric_and_mobility(
        self, rating: int, restricted: bool
    ) -> None:
        """The day after a 6 (not a 5) has nothing above mobility, even in return."""
        facts = replace(STRAIN, onset="gradual")
        course = course_after(facts, [1] * 12)
        assert course.phase == "return"
        day = 14
        after = replay(
            facts,
            (),
            [*[(n, DayInput(pain=1)) for n in range(1, 13)], (13, DayInput(pain=rating))],
            LEVELS,
        )
        loads = plan(after, day)
        assert loads, "something to do, even after a bad day"
        highest = max(load_rank(load) for load in loads)
        assert (highest <= load_rank("mobility")) is restricted

    def test_tendon_pain_that_flared_gets_48_hours_of_rest(self) -> None:
        """Tendinopathy that started today: days 0-1 rest only, day 2 isometrics."""
        facts = replace(
            STRAIN,
            injury="hamstring_tendinopathy",
            onset="gradual",
            onset_days_ago=0,
            grade=None,
            baseline_pain=4,
        )
        course = course_after(facts, [])
        assert set(plan(course, 0)) == set(plan(course, 1)) == {"rest"}
        assert "isometric" in plan(course, 2)


class TestWhatIsPrescribed:
    def test_tendinopathy_never_gets_sit_bone_stretches(self) -> None:
        """The injuries' avoid lists hold in every phase."""
        facts = replace(STRAIN, injury="hamstring_tendinopathy", onset="gradual", grade=None)
        avoided = set(CONTENT.injury("hamstring_tendinopathy").avoid)
        seen: set[str] = set()
        phases: set[str | None] = set()
        for ratings in range(0, 30):  # isometric through maintain
            course = course_after(facts, [1] * ratings)
            phases.add(course.phase)
            seen |= ids(course, ratings + 1)
        assert {"mobility", "strength", "return", "maintain"} <= phases
        assert seen and not seen & avoided

    def test_escalated_and_referral_only_get_nothing(self) -> None:
        """No exercise for an urgent red flag or an avulsion."""
        flagged = replay(STRAIN, ("cannot_bear_weight",), [], LEVELS)
        avulsion = replay(replace(STRAIN, injury="hamstring_avulsion", grade=None), (), [], LEVELS)
        assert plan(flagged, 0) == [] and plan(avulsion, 0) == []
