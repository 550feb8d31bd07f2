"""The rehab course, day by day: the phase state machine and the rules applied to each answer.

A course is a pure function of its inputs: the intake facts and red flags (day 0), then for each
day a pain rating or none, red flags reported that day, and whether a professional cleared the
user. `begin` makes day 0; `advance` applies one day's answers and returns the state that decides
the next day's plan. The bot (through the services) and `coachbot simulate` both replay the same
inputs through these two functions, so they cannot disagree.

Rules (shared/clinical-spec.md §2): 1 red flags, 2-3 day-0 triage (triage.py), 4 no improvement,
5 worsening, 6 flare-ups, 7 progression, 9 silence. Rule 8 (safety of load) is in plan.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from coachbot.domain import pain as painlib
from coachbot.domain.phases import (
    TENDON_INJURIES,
    Status,
    first_phase,
    next_phase,
    previous_phase,
)
from coachbot.domain.triage import (
    REFERRAL_INJURY,
    STOPPING_LEVELS,
    Escalation,
    IntakeFacts,
    Level,
    has_program,
    intake_escalations,
    red_flag_escalation,
)

NO_IMPROVEMENT, WORSENING, RECURRENT_FLARE = "no_improvement", "worsening", "recurrent_flare"
NO_IMPROVEMENT_FIRST_DAY = 7  # rule 4: never before day 7 ...
NO_IMPROVEMENT_LAST_DAY = 14  # ... and at day 14 whenever there is no improvement
TREND_WINDOW_DAYS = 7
MIN_RATINGS_IN_WINDOW = 4
WORSENING_RISE = 2  # rule 5: baseline + 2 or more ...
WORSENING_STREAK = 3  # ... on three consecutive ratings
RECURRENCE_DAYS = 21  # rule 6: a second flare-up within 21 days of the first
PROGRESSION_DAYS = 3  # rule 7: at least 3 days in the phase ...
RETURN_DAYS = 7  # ... 7 for `return`
MAINTAIN_DAYS = 14  # `maintain` runs 14 days, then the program is completed
PROGRESSION_MAX_PAIN = 2
TENDON_PROGRESSION_MAX_PAIN = 3
PROGRESSION_RATINGS = 3
NUDGE_AFTER_DAYS = 3  # rule 9: no rating for 3 days: one nudge ...
PAUSE_AFTER_DAYS = 7  # ... for 7 days: prompts pause until the user comes back


@dataclass(frozen=True)
class DayInput:
    """What the user told us on one day."""

    pain: int | None = None
    red_flags: tuple[str, ...] = ()
    cleared: bool = False  # the user says a professional has cleared them


@dataclass(frozen=True)
class Transition:
    """A change of phase or status decided on `day` (effective from the next day's plan)."""

    day: int
    phase: str | None
    status: Status
    reason: str
    cause: str


@dataclass(frozen=True)
class Notice:
    """Something to tell or ask the user that is not a transition: a nudge, a re-screening."""

    day: int
    kind: str  # nudge | rescreen


@dataclass(frozen=True)
class Course:
    facts: IntakeFacts
    first: str | None  # the injury's first phase; None when it has no program
    phase: str | None
    phase_since: int  # the first day the current phase was prescribed
    status: Status
    ratings: tuple[painlib.Rating, ...]  # (0, baseline_pain) first
    day: int = 0  # the last day applied
    in_flare: bool = False
    flare_starts: tuple[int, ...] = ()
    hold: bool = False  # rule 1 (routine): progression held at the current phase
    worsening_streak: int = 0
    escalations: tuple[Escalation, ...] = ()
    transitions: tuple[Transition, ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def last_rating_day(self) -> int:
        return self.ratings[-1][0]

    def escalated(self, reason: str) -> bool:
        return any(escalation.reason == reason for escalation in self.escalations)


def _holds(escalation: Escalation, levels: Mapping[str, Level]) -> bool:
    """Routine escalations that hold progression: red flags (rule 1) and referral (rule 2)."""
    return escalation.level is Level.ROUTINE and (
        escalation.reason in levels or escalation.reason == REFERRAL_INJURY
    )


def begin(
    facts: IntakeFacts, intake_red_flags: Sequence[str], levels: Mapping[str, Level]
) -> Course:
    """Day 0: the intake's escalations (rules 1-3), the first phase and status."""
    escalations = intake_escalations(facts, intake_red_flags, levels)
    program = has_program(facts)
    first = first_phase(facts.injury, facts.onset, facts.onset_days_ago) if program else None
    stopped = not program or any(e.level in STOPPING_LEVELS for e in escalations)
    status = Status.ESCALATED if stopped else Status.ACTIVE
    reason = escalations[0].reason if stopped and escalations else "enrolled"
    return Course(
        facts=facts,
        first=first,
        phase=first,
        phase_since=0,
        status=status,
        ratings=((0, facts.baseline_pain),),
        hold=any(_holds(e, levels) for e in escalations),
        escalations=escalations,
        transitions=(Transition(0, first, status, reason, "intake"),),
    )


def advance(course: Course, day: int, entry: DayInput, levels: Mapping[str, Level]) -> Course:
    """Apply day `day`'s answers; the result decides the plan from day `day + 1`."""
    if day <= course.day:
        raise ValueError(f"day {day} is not after day {course.day}, the last applied")
    course = replace(course, day=day)
    if entry.cleared:
        course = _clear(course, day)
    for flag in entry.red_flags:
        course = _red_flag(course, day, flag, levels)
    if entry.pain is None:
        return _silence(course, day)
    return _rating(course, day, entry.pain)


def replay(
    facts: IntakeFacts,
    intake_red_flags: Sequence[str],
    days: Sequence[tuple[int, DayInput]],
    levels: Mapping[str, Level],
) -> Course:
    """The course after day 0 and every (day, input) given, in day order."""
    course = begin(facts, intake_red_flags, levels)
    for day, entry in days:
        course = advance(course, day, entry, levels)
    return course


# One day's steps ---------------------------------------------------------------------------------


def _transition(
    course: Course,
    day: int,
    *,
    phase: str | None,
    status: Status,
    reason: str,
    cause: str,
    since: int | None = None,
) -> Course:
    step = Transition(day, phase, status, reason, cause)
    return replace(
        course,
        phase=phase,
        status=status,
        transitions=(*course.transitions, step),
        phase_since=course.phase_since if since is None else since,
    )


def _set_status(course: Course, day: int, status: Status, *, reason: str, cause: str,
                since: int | None = None) -> Course:  # fmt: skip
    """A change of status that keeps the phase."""
    return _transition(course, day, phase=course.phase, status=status, reason=reason,
                       cause=cause, since=since)  # fmt: skip


def _escalate(course: Course, escalation: Escalation) -> Course:
    return replace(course, escalations=(*course.escalations, escalation))


def _clear(course: Course, day: int) -> Course:
    """A professional cleared the user: the program resumes (or ends, if it has none)."""
    if course.status is not Status.ESCALATED:
        return course
    if course.first is None:  # referral-only injuries never get exercises from the bot
        return _transition(
            course,
            day,
            phase=None,
            status=Status.COMPLETED,
            reason="cleared",
            cause="cleared by a professional",
        )
    course = replace(course, hold=False)
    return _set_status(
        course,
        day,
        Status.ACTIVE,
        reason="cleared",
        cause="cleared by a professional",
        since=day + 1,
    )


def _red_flag(course: Course, day: int, flag: str, levels: Mapping[str, Level]) -> Course:
    """Rule 1: escalate at once; emergency and urgent stop the exercises, routine holds."""
    escalation = red_flag_escalation(flag, levels, day)
    course = _escalate(course, escalation)
    if escalation.level in STOPPING_LEVELS:
        if course.status is Status.ESCALATED:
            return course
        return _set_status(
            course, day, Status.ESCALATED, reason=flag, cause=f"red flag reported: {flag}"
        )
    return replace(course, hold=True)


def _silence(course: Course, day: int) -> Course:
    """Rule 9: a nudge after 3 days without a rating, a pause after 7 (no escalation)."""
    silent = day - course.last_rating_day
    if silent == NUDGE_AFTER_DAYS:
        course = replace(course, notices=(*course.notices, Notice(day, "nudge")))
    if silent >= PAUSE_AFTER_DAYS and course.status is Status.ACTIVE:
        course = _set_status(
            course, day, Status.PAUSED, reason="silence", cause=f"no rating for {silent} days"
        )
    return course


def _rating(course: Course, day: int, pain: int) -> Course:
    """Rules 4-7 on one rating. The escalation rules run whatever the status (a person waiting
    to see a professional still gets told when pain worsens); phase moves need an active program.
    """
    if course.status is Status.PAUSED:
        course = _set_status(
            course, day, Status.ACTIVE, reason="returned", cause=f"pain {pain} after a pause"
        )
    earlier = course.ratings
    course = replace(course, ratings=(*earlier, (day, pain)))
    course = _flare(course, earlier, day, pain)
    course = _worsening(course, day, pain)
    course = _no_improvement(course, day)
    return _progression(course, day)


def _flare(course: Course, earlier: Sequence[painlib.Rating], day: int, pain: int) -> Course:
    """Rule 6: a flare-up steps back one phase and re-asks the red flags; a second one within
    21 days of the first is recurrent reinjury."""
    if course.in_flare:
        return replace(course, in_flare=not painlib.ends_flare(earlier, day, pain))
    if not painlib.starts_flare(earlier, day, pain):
        return course
    previous = course.flare_starts[-1] if course.flare_starts else None
    course = replace(
        course,
        in_flare=True,
        flare_starts=(*course.flare_starts, day),
        notices=(*course.notices, Notice(day, "rescreen")),
    )
    if previous is not None and day - previous <= RECURRENCE_DAYS:
        course = _escalate(course, Escalation(Level.ROUTINE, RECURRENT_FLARE, day))
    if course.status is not Status.ACTIVE or course.phase is None or course.first is None:
        return course
    back = previous_phase(course.phase, course.first)
    # The phase starts again (one step back, or the same first phase): its clock restarts.
    return _transition(
        course,
        day,
        phase=back,
        status=Status.ACTIVE,
        reason="flare_up",
        cause=f"pain {pain}",
        since=day + 1,
    )


def _worsening(course: Course, day: int, pain: int) -> Course:
    """Rule 5: three consecutive ratings at baseline + 2 or more (10 for a 9-10 baseline)."""
    threshold = min(course.facts.baseline_pain + WORSENING_RISE, 10)
    streak = course.worsening_streak + 1 if pain >= threshold else 0
    course = replace(course, worsening_streak=streak)
    if streak == WORSENING_STREAK:
        course = _escalate(course, Escalation(Level.ROUTINE, WORSENING, day))
    return course


def _no_improvement(course: Course, day: int) -> Course:
    """Rule 4: from day 7 no improvement and no downward trend; from day 14 no improvement."""
    if day < NO_IMPROVEMENT_FIRST_DAY or course.escalated(NO_IMPROVEMENT):
        return course
    window = painlib.within(course.ratings, day - TREND_WINDOW_DAYS + 1, day)
    if len(window) < MIN_RATINGS_IN_WINDOW:
        return course
    if painlib.is_improved(course.ratings, course.facts.baseline_pain):
        return course
    if day >= NO_IMPROVEMENT_LAST_DAY or not painlib.has_downward_trend(window):
        return _escalate(course, Escalation(Level.ROUTINE, NO_IMPROVEMENT, day))
    return course


def _progression(course: Course, day: int) -> Course:
    """Rule 7: on after 3 days (return: 7) when the last 3 ratings are low; maintain completes."""
    if course.status is not Status.ACTIVE or course.phase is None or course.in_flare or course.hold:
        return course
    days_in_phase = day - course.phase_since + 1
    if course.phase == "maintain":
        if days_in_phase >= MAINTAIN_DAYS:
            return _transition(
                course,
                day,
                phase="maintain",
                status=Status.COMPLETED,
                reason="completed",
                cause=f"{days_in_phase} days in maintain",
            )
        return course
    needed = RETURN_DAYS if course.phase == "return" else PROGRESSION_DAYS
    limit = (
        TENDON_PROGRESSION_MAX_PAIN
        if course.facts.injury in TENDON_INJURIES
        else PROGRESSION_MAX_PAIN
    )
    # Check-in ratings only: the baseline (day 0) is not a rating given in the phase.
    recent = [p for d, p in course.ratings if d >= max(course.phase_since, 1)]
    recent = recent[-PROGRESSION_RATINGS:]
    if days_in_phase < needed or len(recent) < PROGRESSION_RATINGS or max(recent) > limit:
        return course
    following = next_phase(course.phase)
    assert following is not None
    return _transition(
        course,
        day,
        phase=following,
        status=Status.ACTIVE,
        reason="progression",
        cause=f"last ratings {recent}",
        since=day + 1,
    )
