"""The rehab course, day by day: the phase state machine and the rules applied to each day.

A course is a pure function of its inputs: the intake facts and red flags (day 0), then for each
day its answers (rest-pain rating, the session and the pain during it, function checks, the weekly
function score, red flags, `seen`, `cleared`). `begin` makes day 0; `advance` applies one day's
answers at the end of that day and returns the state that decides the next day's plan and
questions. The bot (through the services) and `coachbot simulate` replay the same inputs through
these functions, so they cannot disagree.

Clinical spec v2 §2: rules 1-3 and 10's day-0 part are in triage.py, rule 8 in plan.py, rule 13's
tables in screening.py; this module applies rules 1, 4, 5, 6, 7, 9, 10, 11, 12 and decides what
each day asks (`asks_for`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from coachbot.domain import pain as painlib
from coachbot.domain.catalogue import Catalogue
from coachbot.domain.pain import Zone
from coachbot.domain.phases import (
    HELD_PHASES,
    MAINTAIN_DAYS,
    MIN_DAYS,
    Group,
    Status,
    first_phase,
    group_of,
    next_phase,
    previous_phase,
    rest_pain_limit,
)
from coachbot.domain.plan import plan_for, top_load
from coachbot.domain.screening import (
    RESCREEN,
    WEEKLY,
    checks_for,
    flags_asked,
    is_screen_day,
)
from coachbot.domain.triage import (
    MIN_PROGRAM_AGE,
    NO_IMPROVEMENT,
    RECURRENT_FLARE,
    SEVERE_PAIN,
    STOPPING_LEVELS,
    WORSENING,
    Escalation,
    IntakeFacts,
    Level,
    has_program,
    intake_escalations,
    red_flag_escalation,
)

NO_IMPROVEMENT_FIRST_DAY = 7  # rule 4: never before day 7 ...
NO_IMPROVEMENT_LAST_DAY = 14  # ... and from day 14 whenever there is no improvement
TREND_WINDOW_DAYS = 7
MIN_RATINGS_IN_WINDOW = 4
WORSENING_RISE = 2  # rule 5: baseline + 2 or more ...
WORSENING_STREAK = 3  # ... on three consecutive ratings
RECURRENCE_DAYS = 21  # rule 6: a flare-up within 21 days of the previous one's start
PROTECT_ONSET_AGE = 2  # rule 7c: protect ends no earlier than onset age 2 ...
PROTECT_ONSET_AGE_SLOW = 3  # ... 3 for group slow
PROTECT_MAX_PAIN = 5  # ... and a latest rating of 5 or less
PROGRESSION_RATINGS = 3  # rule 7c: the last three ratings ...
PROGRESSION_RATING_DAYS = 4  # ... all given on days N-4..N
PROGRESSION_SESSIONS = 2  # rule 7d: the last two sessions with an exercise pain were fine
SEVERE_CONSECUTIVE_DAYS = 2  # rule 10: two ratings of 8+, the second within 2 days
SEVERE_SINGLE = 9  # rule 10: one rating of 9-10 is enough ...
SEVERE_SINGLE_ONSET_AGE = 7  # ... while a sudden onset is at most 7 days old (or a contusion)
EXERCISE_PAIN_DAYS = 3  # rule 11: two `too much` sessions, the second within 3 days
NUDGE_AFTER_DAYS = 3  # rule 9: no rating for 3 days: one nudge ...
PAUSE_AFTER_DAYS = 7  # ... for 7 days: prompts pause until the user comes back
SEEN_EVERY_DAYS = 7  # rule 12: "have you seen a professional yet?" 7 days after, and every 7


@dataclass(frozen=True)
class DayInput:
    """What the user told us on one day."""

    pain: int | None = None  # rest pain now, 0-10 (the rating)
    session: str | None = None  # done | partly | skipped
    exercise_pain: int | None = None  # worst pain during the exercises (done or partly only)
    checks: tuple[tuple[str, bool], ...] = ()  # function checks answered (yes = passes)
    function: int | None = None  # the weekly function score (PSFS, 0-10)
    red_flags: tuple[str, ...] = ()  # answered yes
    cleared: bool = False  # a professional examined them and said they may exercise
    seen: bool = False  # they have seen a professional about the advice


@dataclass(frozen=True)
class Session:
    """One day's exercise session, with its pain zone and the highest load prescribed that day."""

    day: int
    kind: str
    exercise_pain: int | None
    zone: Zone | None
    top_load: str | None


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
class Asks:
    """What a day's prompt asks besides the session and the ratings (rule 13)."""

    checks: tuple[str, ...] = ()
    function: bool = False
    seen: bool = False
    screen: tuple[str, ...] = ()  # the weekly screen's red-flag ids, in content order

    def names(self) -> list[str]:
        """As `coachbot simulate` lists them: checks, `function`, `seen`, sorted."""
        extra = (["function"] if self.function else []) + (["seen"] if self.seen else [])
        return sorted([*self.checks, *extra])


@dataclass(frozen=True)
class Course:
    facts: IntakeFacts
    group: Group | None  # None: no program
    first: str | None  # the injury's first phase; None when it has no program
    phase: str | None
    phase_since: int  # the first day of the current phase (a clock restart is a start)
    status: Status
    ratings: tuple[painlib.Rating, ...]  # (0, baseline_pain) first
    day: int = 0  # the last day applied
    sessions: tuple[Session, ...] = ()
    check_answers: tuple[tuple[int, str, bool], ...] = ()  # (day, check, passed)
    function: tuple[int, int] | None = None  # the latest (day, weekly function score)
    in_flare: bool = False
    flare_starts: tuple[int, ...] = ()
    holds: tuple[int, ...] = ()  # the days of the routine escalations that set a hold (rule 12)
    worsening_streak: int = 0
    escalations: tuple[Escalation, ...] = ()
    transitions: tuple[Transition, ...] = ()
    notices: tuple[Notice, ...] = ()
    escalated_by: Escalation | None = None  # the latest escalation that stopped the program
    completed_before: bool = False  # escalated after the program was completed

    @property
    def held(self) -> bool:
        return bool(self.holds)

    @property
    def limit(self) -> int:
        """The rest-pain limit of rule 7c (2, or 3 for tendons)."""
        return rest_pain_limit(self.group)

    @property
    def last_rating_day(self) -> int:
        return self.ratings[-1][0]

    def escalated(self, reason: str) -> bool:
        return any(escalation.reason == reason for escalation in self.escalations)

    def onset_age(self, day: int) -> int:
        return self.facts.onset_days_ago + day

    def days_in_phase(self, day: int) -> int:
        return day - self.phase_since + 1

    def changed_phase_on(self, day: int) -> bool:
        return any(t.day == day and t.phase is not None and t.status is Status.ACTIVE
                   and t.reason != "returned" for t in self.transitions)  # fmt: skip


_COURSE_FIELDS = frozenset(f.name for f in fields(Course))

if TYPE_CHECKING:  # mypy checks each call's fields and types as `dataclasses.replace`'s
    from dataclasses import replace as evolve
else:

    def evolve(course: Course, /, **changes: Any) -> Course:
        """`dataclasses.replace` for a Course, 5-8x cheaper: `replace` runs the frozen
        `__init__` again, setting each of its 20 fields through `object.__setattr__`, which was
        half of a replay's time (a prompt replays the course). Course has no `__post_init__` and
        no `init=False` field, so a copy of its fields with `changes` is the same value."""
        if not _COURSE_FIELDS.issuperset(changes):
            raise TypeError(f"Course has no field {sorted(set(changes) - _COURSE_FIELDS)}")
        copy = object.__new__(Course)
        copy.__dict__.update(course.__dict__, **changes)
        return copy


def begin(facts: IntakeFacts, intake_red_flags: Sequence[str], catalogue: Catalogue) -> Course:
    """Day 0: the intake's escalations (rules 1, 2, 3, 10), the first phase and status."""
    escalations = intake_escalations(facts, intake_red_flags, catalogue.levels)
    program = has_program(facts)
    first = first_phase(facts.injury, facts.onset, facts.onset_days_ago) if program else None
    stopping = [e for e in escalations if e.level in STOPPING_LEVELS]
    status = Status.ESCALATED if stopping or not program else Status.ACTIVE
    first_stop = (stopping or list(escalations))[:1]
    escalated_by = first_stop[0] if status is Status.ESCALATED and first_stop else None
    reason = escalated_by.reason if escalated_by else "enrolled"
    group = group_of(facts.injury, facts.onset, facts.grade, facts.mechanism) if program else None
    course = Course(
        facts=facts,
        group=group,
        first=first,
        phase=first,
        phase_since=0,
        status=status,
        ratings=((0, facts.baseline_pain),),
        holds=(0,) if any(e.level is Level.ROUTINE for e in escalations) else (),
        escalations=escalations,
        transitions=(Transition(0, first, status, reason, "intake"),),
        escalated_by=escalated_by,
    )
    # Rule 5: for a baseline of 10 the baseline is the first of the three ratings of 10.
    return evolve(course, worsening_streak=1 if _worse(course, facts.baseline_pain) else 0)


def advance(course: Course, day: int, entry: DayInput, catalogue: Catalogue, *,
            day_open: bool = False) -> Course:  # fmt: skip
    """Apply day `day`'s answers at the end of that day; the result decides day `day + 1`.

    `day_open`: the day is still going on (the bot applies each answer as it comes). Until the
    day's rating is given, only what is decided at once runs (clearance, seen, red flags, the
    session with rule 11); the rules judged at the end of the day (9 silence, 4 no improvement,
    7 progression and completion) wait for the rating or for the day to end, so that a "Done"
    tapped before the pain question cannot pause, escalate or move the course on early."""
    if day <= course.day:
        raise ValueError(f"day {day} is not after day {course.day}, the last applied")
    before = course  # the plan that was sent before the answers comes from it
    course = evolve(course, day=day)
    if entry.cleared:
        course = _clear(course, day)
    if entry.seen:
        course = evolve(course, holds=())
    for flag in entry.red_flags:
        course = _escalate(course, red_flag_escalation(flag, catalogue.levels, day))
    if course.first is None or course.status is Status.COMPLETED:
        # No program, or after completion: only red flags (rule 1) and severe pain (rule 10).
        if entry.pain is not None:
            course = _severe_pain(_add_rating(course, day, entry.pain), day, entry.pain)
        return course
    if entry.session is not None:
        course = _session(course, day, entry, top_load(plan_for(before, day, catalogue)))
    waiting = day_open and entry.pain is None  # the end-of-day rules wait for the rating
    if entry.pain is not None:
        course = _rating(course, day, entry.pain)
    elif not waiting:
        course = _silence(course, day)
    if entry.checks:
        answers = tuple((day, check, passed) for check, passed in entry.checks)
        course = evolve(course, check_answers=course.check_answers + answers)
    if entry.function is not None:
        course = evolve(course, function=(day, entry.function))
    if waiting:
        return course
    course = _no_improvement(course, day)
    return _progression(course, day)


def replay(
    facts: IntakeFacts,
    intake_red_flags: Sequence[str],
    days: Sequence[tuple[int, DayInput]],
    catalogue: Catalogue,
    *,
    open_day: int | None = None,
) -> Course:
    """The course after day 0 and every (day, input) given, in day order (`open_day`: the
    day still going on, see `advance`)."""
    course = begin(facts, intake_red_flags, catalogue)
    for day, entry in days:
        course = advance(course, day, entry, catalogue, day_open=day == open_day)
    return course


def asks_for(course: Course, day: int, catalogue: Catalogue) -> Asks:
    """What day `day`'s prompt asks, from the course at the end of day `day - 1` (rule 13)."""
    if day == 0 or course.first is None or course.status in (Status.PAUSED, Status.COMPLETED):
        return Asks()  # no program (under 16 included): nothing is asked; paused, completed: idem
    weekly = is_screen_day(day)
    screen = flags_asked(catalogue.flags, WEEKLY, injury=course.facts.injury, group=course.group,
                         onset_age=course.onset_age(day), day=day) if weekly else ()  # fmt: skip
    function = weekly and course.facts.activity is not None
    if course.status is not Status.ACTIVE:
        return Asks(function=function, screen=screen)
    seen = any(day > held and (day - held) % SEEN_EVERY_DAYS == 0 for held in course.holds)
    return Asks(checks=_checks_to_ask(course, day - 1), function=function, seen=seen, screen=screen)


def rescreen(course: Course, day: int, catalogue: Catalogue) -> tuple[str, ...]:
    """The red flags re-asked on `day` after a flare-up or a rating of 8+ (rules 6, 10)."""
    if not any(n.day == day and n.kind == "rescreen" for n in course.notices):
        return ()
    return flags_asked(catalogue.flags, RESCREEN, injury=course.facts.injury, group=course.group,
                       onset_age=course.onset_age(day), day=day)  # fmt: skip


# One day's steps ---------------------------------------------------------------------------------


def _transition(course: Course, day: int, *, phase: str | None, status: Status, reason: str,
                cause: str, restart: bool = False) -> Course:  # fmt: skip
    """A change of phase or status; `restart`: the phase clock starts again the next day."""
    step = Transition(day, phase, status, reason, cause)
    return evolve(course, phase=phase, status=status, transitions=(*course.transitions, step),
                  phase_since=day + 1 if restart else course.phase_since)  # fmt: skip


def _notice(course: Course, day: int, kind: str) -> Course:
    if Notice(day, kind) in course.notices:
        return course
    return evolve(course, notices=(*course.notices, Notice(day, kind)))


def _escalate(course: Course, escalation: Escalation) -> Course:
    """Rules 1 and 12: emergency and urgent stop the program; routine sets a hold."""
    course = evolve(course, escalations=(*course.escalations, escalation))
    if escalation.level is Level.ROUTINE:
        return evolve(course, holds=(*course.holds, escalation.day))
    course = evolve(course, escalated_by=escalation)
    if course.status is Status.ESCALATED:
        return course
    if course.status is Status.COMPLETED:
        course = evolve(course, completed_before=True)
    return _transition(course, escalation.day, phase=course.phase, status=Status.ESCALATED,
                       reason=escalation.reason, cause=f"{escalation.level} advice: {escalation.reason}")  # fmt: skip


def _clear(course: Course, day: int) -> Course:
    """Rule 12: a professional examined the user and said they may exercise."""
    if course.status is not Status.ESCALATED:
        return evolve(course, holds=())  # counts as `seen`
    course = evolve(course, holds=(), escalated_by=None)
    if course.first is None or course.completed_before or course.phase is None:
        course = evolve(course, completed_before=False)
        return _transition(course, day, phase=course.phase, status=Status.COMPLETED,
                           reason="cleared", cause="cleared by a professional")  # fmt: skip
    back = previous_phase(course.phase, course.first)
    return _transition(course, day, phase=back, status=Status.ACTIVE, reason="cleared",
                       cause=f"cleared by a professional: resume one phase back, at {back}",
                       restart=True)  # fmt: skip


def _add_rating(course: Course, day: int, pain: int) -> Course:
    return evolve(course, ratings=(*course.ratings, (day, pain)))


def _session(course: Course, day: int, entry: DayInput, top: str | None) -> Course:
    """Record the session; rule 11: two `too much` sessions close together step back a phase."""
    assert entry.session is not None
    pain = entry.exercise_pain if entry.session != "skipped" else None
    zone = None if pain is None else painlib.zone(pain, course.group is Group.TENDON)
    course = evolve(
        course, sessions=(*course.sessions, Session(day, entry.session, pain, zone, top))
    )
    if zone is not Zone.TOO_MUCH or course.status is not Status.ACTIVE or course.phase is None:
        return course
    rated = [s for s in course.sessions if s.day >= course.phase_since and s.zone is not None]
    last_two = rated[-2:]
    if (len(last_two) < 2 or any(s.zone is not Zone.TOO_MUCH for s in last_two)
            or last_two[1].day - last_two[0].day > EXERCISE_PAIN_DAYS):  # fmt: skip
        return course
    assert course.first is not None
    back = previous_phase(course.phase, course.first)
    cause = (f"exercise pain {last_two[0].exercise_pain} on day {last_two[0].day} and "
             f"{last_two[1].exercise_pain} on day {day}: too much twice within {EXERCISE_PAIN_DAYS} days")  # fmt: skip
    return _transition(course, day, phase=back, status=Status.ACTIVE, reason="exercise_pain",
                       cause=cause, restart=True)  # fmt: skip


def _silence(course: Course, day: int) -> Course:
    """Rule 9: a nudge after 3 days without a rating, a pause at the end of the 7th."""
    silent = day - course.last_rating_day
    if course.status is not Status.ACTIVE:
        return course
    if silent == NUDGE_AFTER_DAYS:
        course = _notice(course, day, "nudge")
    if silent >= PAUSE_AFTER_DAYS:
        course = _transition(course, day, phase=course.phase, status=Status.PAUSED,
                             reason="silence", cause=f"no rating for {silent} days")  # fmt: skip
    return course


def _rating(course: Course, day: int, pain: int) -> Course:
    """Rules 5, 6, 9 (coming back) and 10 on one rating; they run whatever the status (a person
    waiting to see a professional is still told when pain worsens)."""
    if course.status is Status.PAUSED:
        course = _transition(course, day, phase=course.phase, status=Status.ACTIVE,
                             reason="returned", cause=f"pain {pain} after a pause", restart=True)  # fmt: skip
    earlier = course.ratings
    course = _add_rating(course, day, pain)
    course = _flare(course, earlier, day, pain)
    course = _severe_pain(course, day, pain)
    return _worsening(course, day, pain)


def _flare(course: Course, earlier: Sequence[painlib.Rating], day: int, pain: int) -> Course:
    """Rule 6: a flare-up re-asks the red flags and steps back one phase; one starting within 21
    days of the previous one's start is recurrent reinjury."""
    if course.in_flare:
        return evolve(course, in_flare=not painlib.ends_flare(earlier, day, pain, course.limit))
    if not painlib.starts_flare(earlier, day, pain, course.limit):
        return course
    previous = course.flare_starts[-1] if course.flare_starts else None
    course = evolve(course, in_flare=True, flare_starts=(*course.flare_starts, day))
    course = _notice(course, day, "rescreen")
    if previous is not None and day - previous <= RECURRENCE_DAYS:
        why = (f"flare-up on day {day}, {day - previous} days after the one on day {previous} "
               f"<= {RECURRENCE_DAYS}")  # fmt: skip
        course = _escalate(course, Escalation(Level.ROUTINE, RECURRENT_FLARE, day, why))
    if course.status is not Status.ACTIVE or course.phase is None or course.changed_phase_on(day):
        return course  # escalated: steps nothing; rule 11 already stepped back today
    assert course.first is not None
    back = previous_phase(course.phase, course.first)
    lowest = painlib.lowest_before(earlier, day)
    cause = f"pain {pain} (lowest of the previous 7 days: {lowest if lowest is not None else '-'})"
    return _transition(course, day, phase=back, status=Status.ACTIVE, reason="flare_up",
                       cause=cause, restart=True)  # fmt: skip


def _severe_pain(course: Course, day: int, pain: int) -> Course:
    """Rule 10: 8+ re-asks the red flags (the next day is rest only, plan.py); two 8+ ratings
    close together, or one 9-10 soon after a sudden injury or a blow, escalate urgently."""
    if pain < painlib.SEVERE:
        return course
    if course.facts.age >= MIN_PROGRAM_AGE:  # under 16: nothing is asked
        course = _notice(course, day, "rescreen")
    before = course.ratings[-2] if len(course.ratings) >= 2 else None
    twice = (
        before is not None
        and before[1] >= painlib.SEVERE
        and day - before[0] <= SEVERE_CONSECUTIVE_DAYS
    )
    early = course.facts.injury == "hamstring_contusion" or (
        course.facts.onset == "sudden" and course.onset_age(day) <= SEVERE_SINGLE_ONSET_AGE
    )
    if not (twice or (pain >= SEVERE_SINGLE and early)):
        return course
    by = course.escalated_by
    if (
        course.status is Status.ESCALATED
        and by is not None
        and (by.reason == SEVERE_PAIN or by.day > 0)
    ):
        return course  # already stopped and waiting to see a professional
    if twice:
        assert before is not None
        why = (f"pain {before[1]} on day {before[0]} and {pain} on day {day}: "
               f"{painlib.SEVERE}+ twice within {SEVERE_CONSECUTIVE_DAYS} days")  # fmt: skip
    else:
        soon = ("after a blow" if course.facts.injury == "hamstring_contusion" else
                f"sudden onset {course.onset_age(day)} days ago <= {SEVERE_SINGLE_ONSET_AGE}")  # fmt: skip
        why = f"pain {pain} >= {SEVERE_SINGLE}, {soon}"
    return _escalate(course, Escalation(Level.URGENT, SEVERE_PAIN, day, why))


def _worse(course: Course, pain: int) -> bool:
    threshold = min(course.facts.baseline_pain + WORSENING_RISE, 10)
    return pain >= threshold and pain > course.limit


def _worsening(course: Course, day: int, pain: int) -> Course:
    """Rule 5: three consecutive ratings at baseline + 2 or more and above the limit."""
    streak = course.worsening_streak + 1 if _worse(course, pain) else 0
    course = evolve(course, worsening_streak=streak)
    if streak >= WORSENING_STREAK and not course.escalated(WORSENING):
        threshold = min(course.facts.baseline_pain + WORSENING_RISE, 10)
        last = ", ".join(str(p) for _, p in course.ratings[-streak:])
        why = (f"ratings {last}: {streak} in a row >= {threshold} (baseline "
               f"{course.facts.baseline_pain} + {WORSENING_RISE}) and > {course.limit}")  # fmt: skip
        course = _escalate(course, Escalation(Level.ROUTINE, WORSENING, day, why))
    return course


def _improved(course: Course) -> bool:
    facts = course.facts
    latest_function = course.function[1] if course.function else None
    return painlib.pain_improved(course.ratings, facts.baseline_pain) or painlib.function_improved(
        latest_function, facts.function_baseline
    )


def _no_improvement(course: Course, day: int) -> Course:
    """Rule 4: from day 7 no improvement and no downward trend; from day 14 no improvement."""
    if day < NO_IMPROVEMENT_FIRST_DAY or course.escalated(NO_IMPROVEMENT):
        return course
    facts = course.facts
    if facts.baseline_pain <= painlib.NO_PAIN_SIGNAL_BASELINE and facts.function_baseline is None:
        return course  # nothing could show improvement
    window = painlib.within(course.ratings, day - TREND_WINDOW_DAYS + 1, day)
    if len(window) < MIN_RATINGS_IN_WINDOW or _improved(course):
        return course
    if day >= NO_IMPROVEMENT_LAST_DAY or not painlib.has_downward_trend(window):
        return _escalate(course, Escalation(Level.ROUTINE, NO_IMPROVEMENT, day,
                                            _no_improvement_why(course, day, window)))  # fmt: skip
    return course


def _no_improvement_why(course: Course, day: int, window: Sequence[painlib.Rating]) -> str:
    """Rule 4's numbers, as the inspector and the course log show them."""
    facts = course.facts
    last = [p for _, p in course.ratings][-painlib.IMPROVEMENT_WINDOW:]
    target = facts.baseline_pain - painlib.required_drop(facts.baseline_pain)
    parts = [f"day {day} >= {NO_IMPROVEMENT_FIRST_DAY}",
             f"last ratings {', '.join(map(str, last))} not down to {float(target):g} "
             f"(baseline {facts.baseline_pain})"]  # fmt: skip
    if facts.function_baseline is not None:
        latest = course.function[1] if course.function else "-"
        parts.append(f"function {latest} not {facts.function_baseline} + "
                     f"{painlib.FUNCTION_IMPROVEMENT}")  # fmt: skip
    if day < NO_IMPROVEMENT_LAST_DAY:
        parts.append(f"no downward trend over days {window[0][0]}-{window[-1][0]}")
    return ", ".join(parts)


def _ready(course: Course, day: int) -> str | None:
    """Rule 7 a-d at the end of `day`: why the course may move on (None: it may not)."""
    phase = course.phase
    if course.status is not Status.ACTIVE or phase is None or course.in_flare:
        return None
    following = next_phase(phase)
    if following is None or (following in HELD_PHASES and course.held):
        return None  # maintain completes by time (rule 7), never moves on
    if course.phase_since > day or course.changed_phase_on(day):
        return None
    assert course.group is not None
    days_in = course.days_in_phase(day)
    rated = [(d, p) for d, p in course.ratings if d >= max(course.phase_since, 1)]
    if phase == "protect":
        onset_needed = PROTECT_ONSET_AGE_SLOW if course.group is Group.SLOW else PROTECT_ONSET_AGE
        if day < 1 or course.onset_age(day) < onset_needed or not rated:
            return None
        last_day, last = rated[-1]
        if last_day < day - 1 or last > PROTECT_MAX_PAIN:
            return None
        return f"onset {course.onset_age(day)} days ago >= {onset_needed}, pain {last} <= {PROTECT_MAX_PAIN}"
    needed = MIN_DAYS[phase].get(course.group, MIN_DAYS[phase][Group.STANDARD])
    recent = rated[-PROGRESSION_RATINGS:]
    if days_in < needed or len(recent) < PROGRESSION_RATINGS:
        return None
    if any(p > course.limit or d < day - PROGRESSION_RATING_DAYS for d, p in recent):
        return None
    sessions = [s for s in course.sessions if s.day >= course.phase_since and s.zone is not None]
    last_sessions = sessions[-PROGRESSION_SESSIONS:]
    if len(last_sessions) < PROGRESSION_SESSIONS or any(
        s.zone is not Zone.FINE for s in last_sessions
    ):
        return None
    pains = ", ".join(str(p) for _, p in recent)
    efforts = ", ".join(str(s.exercise_pain) for s in last_sessions)
    return (f"{days_in} days in {phase} >= {needed}, last ratings {pains} <= {course.limit}, "
            f"exercise pain {efforts} fine")  # fmt: skip


def _passed_since_start(course: Course, check: str) -> bool | None:
    """The latest answer to `check` since the phase started (None: not answered)."""
    answers = [passed for d, c, passed in course.check_answers
               if c == check and d >= course.phase_since]  # fmt: skip
    return answers[-1] if answers else None


def _checks_to_ask(course: Course, day: int) -> tuple[str, ...]:
    """Rule 13: checks asked on `day + 1` when rule 7 a-d hold at the end of `day`."""
    if course.phase is None or _ready(course, day) is None:
        return ()
    answered_no = {c for d, c, passed in course.check_answers if d == day and not passed}
    return tuple(c for c in checks_for(course.phase, course.facts.goal)
                 if _passed_since_start(course, c) is not True and c not in answered_no)  # fmt: skip


def _progression(course: Course, day: int) -> Course:
    """Rule 7: on when time, rest pain, exercise pain and the function checks say so; maintain
    completes after 14 days."""
    phase = course.phase
    if phase == "maintain" and course.status is Status.ACTIVE and not course.in_flare:
        days_in = course.days_in_phase(day)
        if days_in >= MAINTAIN_DAYS and not course.changed_phase_on(day):
            return _transition(course, day, phase=phase, status=Status.COMPLETED,
                               reason="completed", cause=f"{days_in} days in maintain")  # fmt: skip
        return course
    why = _ready(course, day)
    if why is None or phase is None:
        return course
    checks = checks_for(phase, course.facts.goal)
    if any(_passed_since_start(course, check) is not True for check in checks):
        return course
    following = next_phase(phase)
    assert following is not None
    if checks:
        why += f", {' and '.join(checks)} answered yes"
    return _transition(course, day, phase=following, status=Status.ACTIVE, reason="progression",
                       cause=why, restart=True)  # fmt: skip
