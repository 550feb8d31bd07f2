"""Today's plan: which exercises a day prescribes, within the phase's limit and rule 8.

Rule 8 (safety of load): on a day after a rating of 6 or more, only `rest`, `isometric` and
`mobility` exercises; no `eccentric` or `plyometric` exercise within 14 days of the onset of a
sudden injury. Tendon pain that started in the last 2 days gets 48 h of rest first (spec §1).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol, TypeVar

from coachbot.domain.course import Course
from coachbot.domain.phases import PHASE_MAX_LOAD, TENDON_INJURIES, Status, allows, load_rank

HIGH_PAIN = 6  # a rating of 6 or more restricts the next day's loads ...
AFTER_HIGH_PAIN_MAX_LOAD = "mobility"  # ... to rest, isometric and mobility
EARLY_DAYS_AFTER_SUDDEN_ONSET = 14  # no eccentric or plyometric work before day 14 after onset
HEAVY_LOADS = frozenset({"eccentric", "plyometric"})
TENDON_REST_DAYS = 2  # 48 h rest for tendon pain that flared in the last 2 days
MAX_EXERCISES = 5  # rule 8: at most 5 exercises above `rest` a day ...
MAX_MINUTES = 30  # ... and at most 30 of their minutes


class ExerciseLike(Protocol):
    """What the plan needs to know of an exercise (content's Exercise has these)."""

    @property
    def id(self) -> str: ...
    @property
    def load(self) -> str: ...
    @property
    def phases(self) -> Sequence[str]: ...


E = TypeVar("E", bound=ExerciseLike)


def max_load_for(course: Course, day: int) -> str | None:
    """The highest load class allowed on `day`, or None when nothing is prescribed."""
    if course.status is not Status.ACTIVE or course.phase is None:
        return None
    facts = course.facts
    days_since_onset = facts.onset_days_ago + day
    if facts.injury in TENDON_INJURIES and days_since_onset < TENDON_REST_DAYS:
        return "rest"
    earlier = [pain for rating_day, pain in course.ratings if rating_day < day]
    if earlier and earlier[-1] >= HIGH_PAIN:
        return AFTER_HIGH_PAIN_MAX_LOAD
    return PHASE_MAX_LOAD[course.phase]


def plan_for(
    course: Course, day: int, exercises: Iterable[E], avoid: Collection[str] = ()
) -> tuple[E, ...]:
    """The exercises for `day` (the plan sent before that day's answer), in content order.

    `avoid` holds the ids this injury must never be given (content: injuries.yaml).
    """
    ceiling = max_load_for(course, day)
    if ceiling is None or course.phase is None:
        return ()
    facts = course.facts
    early_sudden = (
        facts.onset == "sudden" and facts.onset_days_ago + day < EARLY_DAYS_AFTER_SUDDEN_ONSET
    )
    return tuple(
        exercise
        for exercise in exercises
        if course.phase in exercise.phases
        and allows(course.phase, exercise.load)
        and load_rank(exercise.load) <= load_rank(ceiling)
        and exercise.id not in avoid
        and not (early_sudden and exercise.load in HEAVY_LOADS)
    )
