"""How the user is doing: the figures of /progress, the weekly summary and the clinician report.

Pure: a replayed course and the day log in, figures out. Day numbers are program days (day 0 is
the enrolment day). Windows are the last 7 (or 28) program days up to and including `today`,
never before day 1; a day counts as done only when the user said so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from coachbot.domain.course import (
    PROGRESSION_RATINGS,
    PROGRESSION_SESSIONS,
    PROTECT_MAX_PAIN,
    PROTECT_ONSET_AGE,
    PROTECT_ONSET_AGE_SLOW,
    Course,
)
from coachbot.domain.pain import Zone
from coachbot.domain.phases import (
    HELD_PHASES,
    MAINTAIN_DAYS,
    MIN_DAYS,
    Group,
    Status,
    next_phase,
)
from coachbot.domain.screening import checks_for
from coachbot.domain.triage import Escalation, Level

WEEK, FOUR_WEEKS = 7, 28


@dataclass(frozen=True)
class LogDay:
    """One program day as the check-ins recorded it."""

    day: int
    adherence: str | None = None  # done | partly | skipped
    pain: int | None = None


@dataclass(frozen=True)
class Adherence:
    days: int  # program days in the window
    done: int
    partly: int


@dataclass(frozen=True)
class NextStep:
    """What it takes to reach the next phase (or to finish the program).

    kind: `progress` (days and low ratings still needed), `finish` (days left in maintain),
    `flare` (pain must settle first), `hold` (a routine escalation holds progression until a
    professional clears the user), `escalated` (exercises stopped until cleared), `paused`,
    `completed`, `none` (no program).
    """

    kind: str
    next_phase: str | None = None
    days_left: int = 0
    low_ratings_needed: int = 0
    max_pain: int = 0
    fine_sessions_needed: int = 0  # sessions whose exercise pain was `fine` (rule 7d)
    checks: tuple[str, ...] = ()  # function checks still to be answered yes (rule 7e)


@dataclass(frozen=True)
class Band:
    """A stretch of days spent in one phase or status, for the chart."""

    first: int
    last: int
    label: str  # a phase id, or `escalated` / `paused`


@dataclass(frozen=True)
class Progress:
    injury: str
    today: int
    phase: str | None
    status: Status
    next_step: NextStep
    week: Adherence
    four_weeks: Adherence
    baseline: int
    week_average: Fraction | None
    best: tuple[int, int] | None  # (day, pain)
    worst: tuple[int, int] | None
    open_escalations: tuple[Escalation, ...]
    ratings: tuple[tuple[int, int], ...]  # check-in ratings (day, pain), day order
    missed: tuple[int, ...]  # past days with no rating
    bands: tuple[Band, ...]
    flare_ups: tuple[int, ...]
    escalations: tuple[Escalation, ...]


def weekly_due(program_day: int) -> bool:
    """The weekly summary comes every 7th program day: the enrolment weekday, from day 7."""
    return program_day >= WEEK and program_day % WEEK == 0


def adherence(log: Sequence[LogDay], today: int, window: int) -> Adherence:
    first = max(1, today - window + 1)
    days = [entry for entry in log if first <= entry.day <= today]
    return Adherence(
        days=max(0, today - first + 1),
        done=sum(entry.adherence == "done" for entry in days),
        partly=sum(entry.adherence == "partly" for entry in days),
    )


def next_step(course: Course, today: int) -> NextStep:
    """Rule 7 read forward: the days, low ratings, fine sessions and checks the phase still needs."""
    if course.phase is None or course.group is None:
        return NextStep("none")
    if course.status is not Status.ACTIVE:
        return NextStep(course.status.value)
    if course.in_flare:
        return NextStep("flare")
    following = next_phase(course.phase)
    if following in HELD_PHASES and course.held:
        return NextStep("hold")
    days_in_phase = max(0, today - course.phase_since + 1)
    if following is None:
        return NextStep("finish", days_left=max(0, MAINTAIN_DAYS - days_in_phase))
    in_phase = [(day, pain) for day, pain in course.ratings if day >= max(course.phase_since, 1)]
    if course.phase == "protect":
        onset = PROTECT_ONSET_AGE_SLOW if course.group is Group.SLOW else PROTECT_ONSET_AGE
        settled = (
            bool(in_phase) and in_phase[-1][1] <= PROTECT_MAX_PAIN and in_phase[-1][0] >= today - 1
        )
        return NextStep("progress", next_phase=following,
                        days_left=max(0, onset - course.onset_age(today)),
                        low_ratings_needed=0 if settled else 1, max_pain=PROTECT_MAX_PAIN)  # fmt: skip
    low = 0
    for _, pain in reversed(in_phase[-PROGRESSION_RATINGS:]):
        if pain > course.limit:
            break
        low += 1
    fine = 0
    rated = [s for s in course.sessions if s.day >= course.phase_since and s.zone is not None]
    for session in reversed(rated[-PROGRESSION_SESSIONS:]):
        if session.zone is not Zone.FINE:
            break
        fine += 1
    passed = {c for d, c, yes in course.check_answers if d >= course.phase_since and yes}
    needed = MIN_DAYS[course.phase].get(course.group, MIN_DAYS[course.phase][Group.STANDARD])
    return NextStep(
        "progress",
        next_phase=following,
        days_left=max(0, needed - days_in_phase),
        low_ratings_needed=PROGRESSION_RATINGS - low,
        max_pain=course.limit,
        fine_sessions_needed=PROGRESSION_SESSIONS - fine,
        checks=tuple(c for c in checks_for(course.phase, course.facts.goal) if c not in passed),
    )


def bands(course: Course, today: int) -> tuple[Band, ...]:
    """The phase (or status, when exercises were stopped) of each day from 0 to `today`."""
    starts: dict[int, str] = {}  # first day -> label; a later change on the same day wins
    for index, change in enumerate(course.transitions):
        first = 0 if index == 0 else change.day + 1
        running = change.status in (Status.ACTIVE, Status.COMPLETED)
        if first <= today:
            starts[first] = change.phase if change.phase and running else change.status.value
    merged: list[tuple[int, str]] = []
    for first, label in sorted(starts.items()):
        if not merged or merged[-1][1] != label:
            merged.append((first, label))
    ends = [first - 1 for first, _ in merged[1:]] + [today]
    return tuple(
        Band(first, last, label) for (first, label), last in zip(merged, ends, strict=True)
    )


def open_escalations(course: Course) -> tuple[Escalation, ...]:
    """Advice still standing: a routine one while its hold stands (rule 12: lifted once a
    professional has been seen), any other until a professional cleared the user."""
    cleared = max((t.day for t in course.transitions if t.reason == "cleared"), default=-1)
    return tuple(e for e in course.escalations
                 if (e.day in course.holds if e.level is Level.ROUTINE else e.day > cleared))  # fmt: skip


def summarise(course: Course, log: Sequence[LogDay], today: int) -> Progress:
    """Every figure of the progress summary and chart, as of program day `today`."""
    ratings = tuple((d, p) for d, p in course.ratings if d >= 1)
    window = [pain for day, pain in ratings if today - WEEK < day <= today]
    rated = {day for day, _ in ratings}
    return Progress(
        injury=course.facts.injury,
        today=today,
        phase=course.phase,
        status=course.status,
        next_step=next_step(course, today),
        week=adherence(log, today, WEEK),
        four_weeks=adherence(log, today, FOUR_WEEKS),
        baseline=course.facts.baseline_pain,
        week_average=Fraction(sum(window), len(window)) if window else None,
        # Ties go to the most recent day.
        best=min(ratings, key=lambda r: (r[1], -r[0]), default=None),
        worst=max(ratings, key=lambda r: (r[1], r[0]), default=None),
        open_escalations=open_escalations(course),
        ratings=ratings,
        missed=tuple(day for day in range(1, today) if day not in rated),
        bands=bands(course, today),
        flare_ups=course.flare_starts,
        escalations=course.escalations,
    )
