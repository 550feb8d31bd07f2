"""Today's plan (rule 8): which exercises a day prescribes, within the load ceiling and the cap.

For day N (status `active` only): the phase's exercises in priority order, minus the injury's
avoid-list, within the ceiling, on their days (`every`), capped at 5 exercises above `rest` and 30
of their minutes. The ceiling is the lowest of: the phase's load class; `rest` after a rating of 8
or more, `mobility` after 6 or more; one class below the day of a `too much` session (rule 11);
no `eccentric` or `plyometric` in the first 14 days after a sudden onset; no `plyometric` for the
goal `everyday`; tendons rest while their pain is under 2 days old.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coachbot.domain.catalogue import Catalogue, ExerciseLike
from coachbot.domain.pain import SEVERE, Zone
from coachbot.domain.phases import LOADS, PHASE_MAX_LOAD, Group, Status, allows, load_rank

if TYPE_CHECKING:
    from coachbot.domain.course import Course

HIGH_PAIN = 6  # a rating of 6 or more restricts the next day's loads ...
AFTER_HIGH_PAIN_MAX_LOAD = "mobility"  # ... to rest, isometric and mobility
AFTER_SEVERE_PAIN_MAX_LOAD = "rest"  # a rating of 8 or more: rest only (rule 10)
EARLY_DAYS_AFTER_SUDDEN_ONSET = 14  # no eccentric or plyometric work before onset age 14
HEAVY_LOADS = frozenset({"eccentric", "plyometric"})
TENDON_REST_DAYS = 2  # tendons: 48 h rest while the onset is under 2 days old
MAX_EXERCISES = 5  # rule 8: at most 5 exercises above `rest` a day ...
MAX_MINUTES = 30  # ... and at most 30 of their minutes


def _lowest(*loads: str) -> str:
    return min(loads, key=load_rank)


def ceiling_for(course: Course, day: int) -> str | None:
    """The highest load class allowed on `day`, or None when nothing is prescribed."""
    if course.status is not Status.ACTIVE or course.phase is None:
        return None
    facts = course.facts
    limits = [PHASE_MAX_LOAD[course.phase]]
    onset_age = facts.onset_days_ago + day
    if course.group is Group.TENDON and onset_age < TENDON_REST_DAYS:
        limits.append("rest")
    if facts.onset == "sudden" and onset_age < EARLY_DAYS_AFTER_SUDDEN_ONSET:
        limits.append("isotonic")  # the class below eccentric
    if facts.goal == "everyday":
        limits.append("eccentric")  # never plyometric
    earlier = [pain for rating_day, pain in course.ratings if rating_day < day]
    latest = earlier[-1] if earlier else course.facts.baseline_pain
    if latest >= SEVERE:
        limits.append(AFTER_SEVERE_PAIN_MAX_LOAD)
    elif latest >= HIGH_PAIN:
        limits.append(AFTER_HIGH_PAIN_MAX_LOAD)
    rated = [s for s in course.sessions if s.day < day and s.zone is not None]
    if rated and rated[-1].zone is Zone.TOO_MUCH:  # rule 11: one class below that day's highest
        top = rated[-1].top_load or "rest"
        limits.append(LOADS[max(load_rank(top) - 1, 0)])
    return _lowest(*limits)


def plan_for(course: Course, day: int, catalogue: Catalogue) -> tuple[ExerciseLike, ...]:
    """The exercises for `day` (the plan sent before that day's answers), in priority order."""
    ceiling = ceiling_for(course, day)
    if ceiling is None or course.phase is None:
        return ()
    days_in_phase = day - course.phase_since + 1
    kept: list[ExerciseLike] = []
    count = minutes = 0
    for exercise in catalogue.candidates(course.phase, course.facts.injury):
        if not allows(course.phase, exercise.load) or load_rank(exercise.load) > load_rank(ceiling):
            continue
        if (days_in_phase - 1) % exercise.every:
            continue  # not one of its days
        if exercise.load != "rest":
            if count + 1 > MAX_EXERCISES or minutes + exercise.minutes > MAX_MINUTES:
                continue
            count, minutes = count + 1, minutes + exercise.minutes
        kept.append(exercise)
    return tuple(kept)


def top_load(exercises: tuple[ExerciseLike, ...]) -> str | None:
    """The highest load class among `exercises` (None for an empty plan)."""
    return max((e.load for e in exercises), key=load_rank, default=None)
