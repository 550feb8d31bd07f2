"""Property-based tests over random pain courses (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from coachbot.content import default_content
from coachbot.domain.course import DayInput, advance, begin, replay
from coachbot.domain.phases import PHASE_MAX_LOAD, PHASES, load_rank
from coachbot.domain.plan import plan_for
from coachbot.domain.triage import IntakeFacts
from coachbot.domain.vocabulary import INJURIES

CONTENT = default_content()
LEVELS = CONTENT.levels
FLAGS = sorted(LEVELS)

facts_strategy = st.builds(
    IntakeFacts,
    injury=st.sampled_from(INJURIES),
    age=st.integers(10, 110),
    onset=st.sampled_from(["sudden", "gradual"]),
    onset_days_ago=st.integers(0, 60),
    location=st.sampled_from(["upper", "middle", "lower"]),
    baseline_pain=st.integers(0, 10),
    grade=st.none() | st.integers(1, 3),
)
day_strategy = st.builds(
    DayInput,
    pain=st.none() | st.integers(0, 10),
    red_flags=st.lists(st.sampled_from(FLAGS), max_size=1).map(tuple) | st.just(()),
    cleared=st.booleans(),
)
courses = st.lists(day_strategy, max_size=40)


def _with_days(facts: IntakeFacts, days: list[DayInput]) -> list[tuple[int, DayInput]]:
    return list(enumerate(days, start=1))


# A baseline of 0 cannot improve or fail to: "no improvement" needs pain to begin with.
@settings(max_examples=150, deadline=None)
@given(facts=facts_strategy.filter(lambda f: f.baseline_pain >= 1), days=st.integers(14, 20))
def test_a_flat_course_escalates_no_improvement_between_day_7_and_14(
    facts: IntakeFacts, days: int
) -> None:
    """Rated every day at its baseline, any course escalates no_improvement once, on day 7..14."""
    level = facts.baseline_pain
    course = replay(facts, (), [(n, DayInput(pain=level)) for n in range(1, days + 1)], LEVELS)
    found = [e.day for e in course.escalations if e.reason == "no_improvement"]
    assert len(found) == 1 and 7 <= found[0] <= 14


@settings(max_examples=150, deadline=None)
@given(
    facts=facts_strategy.filter(lambda f: f.baseline_pain >= 4),
    extra=st.lists(st.integers(0, 1), min_size=20, max_size=40),
)
def test_an_improving_course_never_escalates_no_improvement(
    facts: IntakeFacts, extra: list[int]
) -> None:
    """Improved by day 7 (2+ points down) and still falling or level: never no_improvement."""
    start = facts.baseline_pain - 2
    ratings, level = [], start
    for step in extra:
        level = max(level - step, 0)
        ratings.append(level)
    course = replay(facts, (), [(n, DayInput(pain=p)) for n, p in enumerate(ratings, 1)], LEVELS)
    assert not course.escalated("no_improvement")


@settings(max_examples=200, deadline=None)
@given(facts=facts_strategy, days=courses, flag=st.sampled_from(FLAGS), where=st.integers(0, 40))
def test_adding_a_red_flag_never_removes_an_escalation(
    facts: IntakeFacts, days: list[DayInput], flag: str, where: int
) -> None:
    """Every escalation of a course is still there when one more red flag is reported."""
    base = replay(facts, (), _with_days(facts, days), LEVELS)
    if where == 0 or not days:
        more = replay(facts, (flag,), _with_days(facts, days), LEVELS)
    else:
        index = min(where, len(days)) - 1
        changed = list(days)
        changed[index] = DayInput(
            pain=changed[index].pain,
            cleared=changed[index].cleared,
            red_flags=(*changed[index].red_flags, flag),
        )
        more = replay(facts, (), _with_days(facts, changed), LEVELS)
    assert set(base.escalations) <= set(more.escalations)
    assert len(more.escalations) == len(base.escalations) + 1


@settings(max_examples=200, deadline=None)
@given(facts=facts_strategy, days=courses)
def test_no_day_breaks_a_load_limit_and_phases_move_one_step(
    facts: IntakeFacts, days: list[DayInput]
) -> None:
    """Every day's plan stays within its phase and rule 8; phases move by one step at most."""
    course = begin(facts, (), LEVELS)
    avoid = CONTENT.injury(facts.injury).avoid
    previous_phase = course.phase
    for number, entry in enumerate([*days, DayInput()], start=1):
        day = number - 1
        earlier = [p for d, p in course.ratings if d < day]
        for exercise in plan_for(course, day, CONTENT.exercises, avoid):
            assert course.phase is not None
            assert load_rank(exercise.load) <= load_rank(PHASE_MAX_LOAD[course.phase])
            assert exercise.id not in avoid
            if earlier and earlier[-1] >= 6:
                assert load_rank(exercise.load) <= load_rank("mobility")
            if facts.onset == "sudden" and facts.onset_days_ago + day < 14:
                assert exercise.load not in ("eccentric", "plyometric")
        if number > len(days):
            break
        course = advance(course, number, entry, LEVELS)
        if previous_phase is not None and course.phase is not None:
            assert abs(PHASES.index(course.phase) - PHASES.index(previous_phase)) <= 1
        previous_phase = course.phase
