"""Properties of the rules over random injuries, intake facts and day sequences (hypothesis).

Each property is a safety promise of clinical spec v2 that must hold for every course, not just
for the worked examples of the other test files.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from coachbot.domain.catalogue import ExerciseLike
from coachbot.domain.course import Course, DayInput, asks_for, replay
from coachbot.domain.phases import PHASE_MAX_LOAD, PHASES, Group, Status, load_rank
from coachbot.domain.plan import plan_for
from coachbot.domain.triage import IntakeFacts, has_program
from coachbot.domain.vocabulary import INJURIES
from tests.unit.rules import (
    AVOID,
    CATALOGUE,
    CHECK_IDS,
    FLAG_IDS,
    FLAGS,
    ROUTINE_FLAG,
    good,
    timeline,
)

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
HEAVY = ("eccentric", "plyometric")


@st.composite
def intake_facts(draw: st.DrawFn, adults: bool = False) -> IntakeFacts:
    activity = draw(st.sampled_from([None, "running"]))
    return IntakeFacts(
        injury=draw(st.sampled_from(INJURIES)),
        age=draw(st.integers(16, 90) if adults else st.sampled_from([15, 16, 24, 42, 42, 70])),
        onset=draw(st.sampled_from(["sudden", "gradual"])),
        onset_days_ago=draw(st.integers(0, 30)),
        location=draw(st.sampled_from(["upper", "middle", "lower"])),
        baseline_pain=draw(st.integers(0, 10)),
        grade=draw(st.sampled_from([None, 1, 2, 3])),
        mechanism=draw(st.sampled_from(["sprint", "stretch", "blow", "other"])),
        walking=draw(st.sampled_from(["normal"] * 4 + ["limp", "cannot"])),
        previous_injury=draw(st.booleans()),
        goal=draw(st.sampled_from(["sport", "everyday"])),
        activity=activity,
        function_baseline=draw(st.integers(0, 10)) if activity else None,
    )


@st.composite
def any_day(draw: st.DrawFn) -> DayInput:
    kind = draw(st.sampled_from([None, None, "done", "partly", "skipped"]))
    exercise_pain = draw(st.none() | st.integers(0, 10)) if kind in ("done", "partly") else None
    checks = draw(st.lists(st.sampled_from(CHECK_IDS), max_size=3, unique=True))
    rare = st.sampled_from([False] * 12 + [True])
    return DayInput(
        pain=draw(st.none() | st.integers(0, 10)),
        session=kind,
        exercise_pain=exercise_pain,
        checks=tuple((check, draw(st.booleans())) for check in checks),
        function=draw(st.none() | st.integers(0, 10)),
        red_flags=(draw(st.sampled_from(FLAG_IDS)),) if draw(rare) else (),
        cleared=draw(rare),
        seen=draw(rare),
    )


@st.composite
def mostly_good_day(draw: st.DrawFn) -> DayInput:
    """Mostly good days, so that courses reach the later phases; the rest anything at all."""
    pick = draw(st.integers(0, 9))
    if pick < 6:
        return good()
    if pick == 6:
        return good(2, 2)
    if pick == 7:
        return DayInput()
    return draw(any_day())


days_strategy = st.lists(mostly_good_day(), min_size=20, max_size=40)


def numbered(days: Sequence[DayInput]) -> list[tuple[int, DayInput]]:
    return list(enumerate(days, start=1))


def plans(courses: Sequence[Course]) -> list[tuple[int, Course, tuple[ExerciseLike, ...]]]:
    """(day, the course its plan is made from, the plan) for day 0 and every day after it."""
    made = [(0, courses[0], plan_for(courses[0], 0, CATALOGUE))]
    for day in range(1, len(courses) + 1):
        made.append((day, courses[day - 1], plan_for(courses[day - 1], day, CATALOGUE)))
    return made


@PROPERTY
@given(facts=intake_facts(), days=days_strategy)
def test_no_plan_breaks_a_ceiling_or_the_cap(facts: IntakeFacts, days: list[DayInput]) -> None:
    """Every day's plan stays within its phase's class, after 8+ is rest only, after 6+ nothing
    above mobility, never holds the injury's avoid-list and never more than 5 exercises or 30
    minutes above rest; nothing is prescribed unless the course is active."""
    courses = timeline(facts, days)
    for day, course, plan in plans(courses):
        if course.status is not Status.ACTIVE or course.phase is None:
            assert plan == ()
            continue
        latest = [pain for rating_day, pain in course.ratings if rating_day < day]
        latest_pain = latest[-1] if latest else facts.baseline_pain
        working = [e for e in plan if e.load != "rest"]
        assert len(working) <= 5 and sum(e.minutes for e in working) <= 30
        for exercise in plan:
            assert load_rank(exercise.load) <= load_rank(PHASE_MAX_LOAD[course.phase])
            assert exercise.id not in AVOID.get(facts.injury, frozenset())
            if latest_pain >= 8:
                assert exercise.load == "rest"
            if latest_pain >= 6:
                assert load_rank(exercise.load) <= load_rank("mobility")
            if facts.goal == "everyday":
                assert exercise.load != "plyometric"


@PROPERTY
@given(facts=intake_facts(), days=days_strategy)
def test_a_rating_of_8_is_followed_by_a_rest_only_day(
    facts: IntakeFacts, days: list[DayInput]
) -> None:
    """After a rating of 8 or more (the baseline counts on day 0) the next day is rest only."""
    courses = timeline(facts, days)
    severe = [0] if facts.baseline_pain >= 8 else []
    severe += [n for n, d in enumerate(days, 1) if d.pain is not None and d.pain >= 8]
    if severe[:1] == [0]:
        assert all(e.load == "rest" for e in plan_for(courses[0], 0, CATALOGUE))
    for day in severe:
        assert all(e.load == "rest" for e in plan_for(courses[day], day + 1, CATALOGUE))


@PROPERTY
@given(facts=intake_facts(), days=days_strategy)
def test_no_heavy_loading_too_early(facts: IntakeFacts, days: list[DayInput]) -> None:
    """No eccentric or plyometric work while a sudden onset is under 14 days old, nor before day 21
    for tendons."""
    courses = timeline(facts, days)
    for day, course, plan in plans(courses):
        heavy = [e for e in plan if e.load in HEAVY]
        if facts.onset == "sudden" and facts.onset_days_ago + day < 14:
            assert heavy == []
        if course.group is Group.TENDON and day < 21:
            assert heavy == []


@st.composite
def fresh_sudden_injury(draw: st.DrawFn) -> IntakeFacts:
    """A fresh sudden injury with a program and nothing that holds it back."""
    return IntakeFacts(
        injury=draw(st.sampled_from(["hamstring_strain", "hamstring_contusion", "unsure"])),
        age=draw(st.integers(16, 60)), onset="sudden", onset_days_ago=draw(st.integers(0, 3)),
        location="middle", baseline_pain=draw(st.integers(1, 5)), grade=1,
        mechanism=draw(st.sampled_from(["sprint", "blow", "other"])),
        goal=draw(st.sampled_from(["sport", "everyday"])),
    )  # fmt: skip


@PROPERTY
@given(facts=fresh_sudden_injury(), pains=st.lists(st.integers(0, 2), min_size=20, max_size=20))
def test_no_eccentric_work_within_14_days_of_a_sudden_onset_even_on_the_fastest_course(
    facts: IntakeFacts, pains: list[int]
) -> None:
    """Days that move the course on as fast as the rules allow reach strength before the onset is
    14 days old; its eccentric exercises still wait (and then do come)."""
    courses = timeline(facts, [good(pain=p) for p in pains])
    made = plans(courses)
    assert any(course.phase == "strength" for _, course, _ in made)
    for day, _, plan in made:
        heavy = [e.id for e in plan if e.load in HEAVY]
        assert heavy == [] or facts.onset_days_ago + day >= 14, (day, heavy)


@PROPERTY
@given(facts=intake_facts(adults=True), days=days_strategy)
def test_a_hold_never_blocks_a_phase_below_strength(
    facts: IntakeFacts, days: list[DayInput]
) -> None:
    """The same course with a routine flag at enrolment (a hold) moves exactly as the one without
    it until that one first enters strength."""
    free = timeline(facts, days)
    held = timeline(facts, days, flags=(ROUTINE_FLAG,))
    if not has_program(facts):
        return
    assert held[0].held
    for without, with_hold in zip(free, held, strict=True):
        if without.phase in ("strength", "return", "maintain"):
            break
        assert (with_hold.phase, with_hold.status, with_hold.phase_since) == (
            without.phase,
            without.status,
            without.phase_since,
        )


@PROPERTY
@given(facts=intake_facts(), days=days_strategy)
def test_seen_or_cleared_lifts_every_hold(facts: IntakeFacts, days: list[DayInput]) -> None:
    """At the end of a day with `seen` or `cleared`, the only holds left are ones set later that
    day (red flags and the day's rules run after them)."""
    courses = timeline(facts, days, flags=(ROUTINE_FLAG,))
    for day, entry in enumerate(days, 1):
        if entry.seen or entry.cleared:
            assert all(hold == day for hold in courses[day].holds)


def weekly_flags(course: Course, day: int) -> tuple[str, ...]:
    """The W flags that apply on `day`, written from §1.3 and rule 13."""
    facts = course.facts
    expected = []
    for flag in FLAGS:
        if "W" not in flag.asked:
            continue
        if flag.id == "hard_lump_after_bruise" and (
            facts.injury != "hamstring_contusion" or facts.onset_days_ago + day < 14
        ):
            continue
        if flag.id == "limits_daily_activities" and day < (14 if course.group is Group.SLOW else 7):
            continue
        expected.append(flag.id)
    return tuple(expected)


@PROPERTY
@given(
    facts=intake_facts(),
    days=st.lists(mostly_good_day(), min_size=14, max_size=45),
)
def test_every_weekly_flag_is_asked_every_7th_day(facts: IntakeFacts, days: list[DayInput]) -> None:
    """On days 7, 14, ... of a course with a program that is active or escalated, the prompt
    carries every W flag that applies that day, in content order; other days carry none."""
    courses = timeline(facts, days)
    for day in (d for d in range(1, len(courses)) if d % 7 in (0, 1, 6)):
        course = courses[day - 1]
        screen = asks_for(course, day, CATALOGUE).screen
        live = course.phase is not None and course.status in (Status.ACTIVE, Status.ESCALATED)
        if day % 7 == 0 and live:
            assert screen == weekly_flags(course, day)
        else:
            assert screen == ()


@PROPERTY
@given(facts=intake_facts(), days=days_strategy)
def test_phases_move_one_step_at_a_time(facts: IntakeFacts, days: list[DayInput]) -> None:
    """At most one change of phase a day, always to a neighbouring phase, never below the first."""
    courses = timeline(facts, days)
    first = courses[0].phase
    for yesterday, today in zip(courses, courses[1:], strict=False):
        if yesterday.phase is None or today.phase is None:
            assert yesterday.phase == today.phase
            continue
        assert abs(PHASES.index(today.phase) - PHASES.index(yesterday.phase)) <= 1
        assert first is not None and PHASES.index(today.phase) >= PHASES.index(first)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(facts=intake_facts(adults=True), days=st.integers(7, 20))
def test_a_flat_course_is_referred_on_day_7(facts: IntakeFacts, days: int) -> None:
    """Rated every day at its baseline (3 or more): no_improvement once, on day 7."""
    if facts.baseline_pain < 3 or not has_program(facts):
        return
    ratings = [DayInput(pain=facts.baseline_pain)] * days
    course = replay(facts, (), numbered(ratings), CATALOGUE)
    assert [e.day for e in course.escalations if e.reason == "no_improvement"] == [7]


@PROPERTY
@given(facts=intake_facts(), days=days_strategy)
def test_the_course_is_deterministic(facts: IntakeFacts, days: list[DayInput]) -> None:
    """Replaying the same answers twice gives the same course, day by day as in one go."""
    first = replay(facts, (), numbered(days), CATALOGUE)
    assert replay(facts, (), numbered(days), CATALOGUE) == first
    assert timeline(facts, days)[-1] == first
