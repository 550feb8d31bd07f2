"""The persisted course: store a day's answers, run the rules, record what changed and why.

The course is a pure function of its inputs (coachbot/domain/course.py), so this service stores
the inputs (check-ins, red flags reported, clearances) and replays them through the same
`begin`/`advance` that `coachbot simulate` runs. What the replay decides on the recorded day is
written down: each phase or status change in `phase_history` with its reason and cause, each new
escalation with the answer that caused it, and the user's current phase and status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.clock import Clock
from coachbot.content import Content
from coachbot.domain.catalogue import Catalogue
from coachbot.domain.course import Asks, Course, DayInput, Notice, Transition, asks_for, replay
from coachbot.domain.phases import PHASES, Status
from coachbot.domain.plan import plan_for
from coachbot.domain.triage import (
    NO_IMPROVEMENT,
    RECURRENT_FLARE,
    SEVERE_PAIN,
    WORSENING,
    Escalation,
    facts_of,
)
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.repositories import UserRecord


@dataclass(frozen=True)
class DayOutcome:
    """What one day's answers changed, for the bot to tell the user."""

    program_day: int
    escalations: tuple[Escalation, ...]
    transitions: tuple[Transition, ...]
    notices: tuple[Notice, ...]
    phase: str | None
    status: Status


_CATALOGUES: dict[int, tuple[Content, Catalogue]] = {}


def catalogue_of(content: Content) -> Catalogue:
    """What the rules need of `content` (built once per content set)."""
    known = _CATALOGUES.get(id(content))
    if known is None or known[0] is not content:
        catalogue = Catalogue(
            levels=content.levels,
            flags=content.red_flags,
            exercises={phase: content.phase_exercises(phase) for phase in PHASES},
            avoid={injury.id: frozenset(injury.avoid) for injury in content.injuries},
        )
        known = _CATALOGUES[id(content)] = (content, catalogue)
    return known[1]


def day_input(answers: repo.DayAnswers) -> DayInput:
    """A stored day's answers as the rules take them."""
    return DayInput(pain=answers.pain, session=answers.adherence,
                    exercise_pain=answers.exercise_pain, checks=answers.checks,
                    function=answers.function, red_flags=answers.red_flags,
                    cleared=answers.cleared, seen=answers.seen)  # fmt: skip


class NotEnrolled(LookupError):
    """Answers from someone with no finished enrolment."""


def enrolment_date(user: UserRecord) -> date:
    """Day 0: the user's local date of enrolment (stored then, so a later change of time zone
    cannot renumber the days; rows from before it was stored compute it)."""
    if user.enrolled_on is not None:
        return user.enrolled_on
    assert user.enrolled_at is not None and user.timezone is not None
    return user.enrolled_at.astimezone(ZoneInfo(user.timezone)).date()


class CourseService:
    """Records each day's answers and applies the clinical rules to them."""

    def __init__(self, db: Database, content: Content, clock: Clock) -> None:
        self._db = db
        self._content = content
        self._clock = clock

    async def record_day(self, telegram_user_id: int, day: date, **answers: Any) -> DayOutcome:
        """Store answers for local date `day` and apply the rules, in one transaction."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, telegram_user_id)
            if user is None or user.enrolled_at is None:
                raise NotEnrolled(telegram_user_id)
            return await self.apply(session, user, day, **answers)

    async def apply(
        self, session: AsyncSession, user: UserRecord, day: date, **answers: Any
    ) -> DayOutcome:
        """Store answers for local date `day` and apply the rules, inside the caller's
        transaction: nothing is acknowledged before it is committed."""
        await self.store(session, user, day, **answers)
        start = enrolment_date(user)
        return await self.record(session, user, await self.replay(session, user, start), day)

    async def store(
        self, session: AsyncSession, user: UserRecord, day: date, **answers: Any
    ) -> None:
        """Store answers for local date `day` (see `repo.save_day_answers` for what they may
        be). Day 0 (the enrolment date) takes only red flags (/symptom)."""
        flags = answers.get("red_flags", ())
        unknown = set(flags) - set(self._content.levels)
        if unknown:
            raise ValueError(f"unknown red flags {sorted(unknown)}")
        start = enrolment_date(user)
        program_day = (day - start).days
        if program_day < 0 or (program_day == 0 and set(answers) - {"red_flags", "screening"}):
            raise ValueError(f"{day} is not after the enrolment day {start}")
        await repo.save_day_answers(session, user.id, day, now=self._clock(), **answers)

    async def record(
        self, session: AsyncSession, user: UserRecord, course: Course, day: date
    ) -> DayOutcome:
        """Write down what `course` (the stored answers, through the rules) decided on `day`."""
        start = enrolment_date(user)
        return await self._record(session, user, course, (day - start).days, start)

    async def current(self, telegram_user_id: int) -> Course:
        """The course as the stored answers make it now."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, telegram_user_id)
            if user is None or user.enrolled_at is None:
                raise NotEnrolled(telegram_user_id)
            return await self.replay(session, user, enrolment_date(user))

    def _local_date(self, user: UserRecord) -> date:
        """Today in the user's zone."""
        zone = ZoneInfo(user.timezone) if user.timezone else UTC
        return self._clock().astimezone(zone).date()

    def still_going(self, user: UserRecord, day: date) -> bool:
        """Whether local date `day` has not ended yet in the user's zone (its end-of-day rules
        wait for its rating: `advance(day_open=...)`)."""
        return day >= self._local_date(user)

    async def today(self, telegram_user_id: int) -> tuple[UserRecord, int, Course]:
        """The user, today's program day in their zone, and the course after today's answers
        (the days before without answers count as silence, as the daily prompt counts them)."""
        async with self._db.read() as session:
            user = await repo.get_user(session, telegram_user_id)
            if user is None or user.enrolled_at is None or user.timezone is None:
                raise NotEnrolled(telegram_user_id)
            start = enrolment_date(user)
            number = (self._local_date(user) - start).days
            intake = await repo.red_flag_answers(session, user.id, "intake")
            answers = [x for x in await repo.day_answers(session, user.id)
                       if (x.day - start).days <= number]  # fmt: skip
        course = self.course_from(user, start, intake, answers, through=number - 1,
                                  open_day=number)  # fmt: skip
        return user, number, course

    @property
    def catalogue(self) -> Catalogue:
        return catalogue_of(self._content)

    def plan(self, course: Course, program_day: int) -> tuple[str, ...]:
        """The exercise ids prescribed on `program_day` (the same plan_for simulate runs)."""
        return tuple(e.id for e in plan_for(course, program_day, self.catalogue))

    def asks(self, course: Course, program_day: int) -> Asks:
        """What `program_day`'s prompt asks (the same asks_for simulate runs)."""
        return asks_for(course, program_day, self.catalogue)

    async def replay(self, session: AsyncSession, user: UserRecord, start: date) -> Course:
        """The course the stored answers make."""
        intake = await repo.red_flag_answers(session, user.id, "intake")
        return self.course_from(user, start, intake, await repo.day_answers(session, user.id))

    def course_from(
        self, user: UserRecord, start: date, intake: list[tuple[str, bool]],
        day_answers: list[repo.DayAnswers], *, through: int = 0, open_day: int | None = None,
    ) -> Course:  # fmt: skip
        """The course these answers make (day 0 is `start`), through the rules, up to the last
        answered day or `through`, whichever is later (days with no answer are silence);
        `open_day`: the program day still going on (see `advance`)."""
        answers = {(a.day - start).days: a for a in day_answers}
        # Red flags reported later on the enrolment day itself (/symptom) join day 0's.
        later_on_day_0 = answers.pop(0, None)
        intake_flags = [flag for flag, yes in intake if yes]
        if later_on_day_0 is not None:
            intake_flags += [f for f in later_on_day_0.red_flags if f not in intake_flags]
        last = max(max(answers, default=0), through)
        days = [
            (n, day_input(answers[n]) if n in answers else DayInput()) for n in range(1, last + 1)
        ]
        return replay(facts_of(user), intake_flags, days, self.catalogue, open_day=open_day)

    async def _record(
        self,
        session: AsyncSession,
        user: UserRecord,
        course: Course,
        program_day: int,
        start: date,
    ) -> DayOutcome:
        now = self._clock()
        # Every escalation not on record yet, not only today's: one decided at the end of an
        # earlier day (its rating never came, or nothing was answered that day) is recorded and
        # told now rather than never.
        known = await repo.recorded_escalations(session, user.id) if course.escalations else []
        new = [e for e in course.escalations if e not in known]
        for escalation in new:
            await repo.record_escalation(
                session, user.id, escalation, cause=_cause(escalation, course), now=now
            )
        changes = tuple(t for t in course.transitions if t.day == program_day)
        if program_day == 0:  # a /symptom on the enrolment day: day 0's intake is on record
            by = course.escalated_by
            stopped = by is not None and Status(user.status) is not course.status
            changes = (Transition(0, course.phase, course.status, by.reason, "symptom reported"),
                       ) if by is not None and stopped else ()  # fmt: skip
        for change in changes:
            await repo.record_phase_change(
                session,
                user.id,
                phase=change.phase,
                status=change.status.value,
                started_on=start + timedelta(days=change.day + 1),
                reason=change.reason,
                cause=change.cause,
                now=now,
            )
        state = {"phase": course.phase, "status": course.status.value,
                 "phase_since": start + timedelta(days=course.phase_since)}  # fmt: skip
        if course.status is Status.COMPLETED:
            state["next_prompt_at"] = None
        if any(getattr(user, name) != value for name, value in state.items()):
            await repo.update_user(session, user.id, now, **state)
        return DayOutcome(
            program_day=program_day,
            escalations=tuple(new),
            transitions=changes,
            notices=tuple(n for n in course.notices if n.day == program_day),
            phase=course.phase,
            status=course.status,
        )


def _cause(escalation: Escalation, course: Course) -> str:
    """The answer behind an escalation, in words the course log can show."""
    if escalation.why:
        return escalation.why
    day = escalation.day
    rating = next((pain for d, pain in course.ratings if d == day), None)
    if escalation.reason in (NO_IMPROVEMENT, WORSENING, RECURRENT_FLARE, SEVERE_PAIN):
        return f"pain {rating} on day {day}"
    return f"red flag reported on day {day}"
