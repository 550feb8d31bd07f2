"""The persisted course: store a day's answers, run the rules, record what changed and why.

The course is a pure function of its inputs (coachbot/domain/course.py), so this service stores
the inputs (check-ins, red flags reported, clearances) and replays them through the same
`begin`/`advance` that `coachbot simulate` runs. What the replay decides on the recorded day is
written down: each phase or status change in `phase_history` with its reason and cause, each new
escalation with the answer that caused it, and the user's current phase and status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.clock import Clock
from coachbot.content import Content
from coachbot.domain.course import Course, DayInput, Notice, Transition, replay
from coachbot.domain.phases import Status
from coachbot.domain.plan import plan_for
from coachbot.domain.triage import Escalation, facts_of
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

    async def record_day(
        self,
        telegram_user_id: int,
        day: date,
        *,
        pain: int | None = None,
        red_flags: tuple[str, ...] = (),
        cleared: bool = False,
    ) -> DayOutcome:
        """Store the answers for local date `day` (committed), then apply the rules."""
        if pain is not None and not 0 <= pain <= 10:
            raise ValueError("pain is 0-10")
        unknown = set(red_flags) - set(self._content.levels)
        if unknown:
            raise ValueError(f"unknown red flags {sorted(unknown)}")
        now = self._clock()
        async with self._db.transaction() as session:
            user = await repo.get_user(session, telegram_user_id)
            if user is None or user.enrolled_at is None:
                raise NotEnrolled(telegram_user_id)
            start = enrolment_date(user)
            program_day = (day - start).days
            if program_day < 1:
                raise ValueError(f"{day} is not after the enrolment day {start}")
            await repo.save_day_answers(
                session, user.id, day, pain=pain, cleared=cleared, red_flags=red_flags, now=now
            )
            course = await self.replay(session, user, start)
            return await self._record(session, user, course, program_day, start)

    async def current(self, telegram_user_id: int) -> Course:
        """The course as the stored answers make it now."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, telegram_user_id)
            if user is None or user.enrolled_at is None:
                raise NotEnrolled(telegram_user_id)
            return await self.replay(session, user, enrolment_date(user))

    def plan(self, course: Course, program_day: int) -> tuple[str, ...]:
        """The exercise ids prescribed on `program_day` (the same plan_for simulate runs)."""
        avoid = self._content.injury(course.facts.injury).avoid
        return tuple(e.id for e in plan_for(course, program_day, self._content.exercises, avoid))

    async def replay(self, session: AsyncSession, user: UserRecord, start: date) -> Course:
        """The course the stored answers make."""
        intake = await repo.red_flag_answers(session, user.id, "intake")
        return self.course_from(user, start, intake, await repo.day_answers(session, user.id))

    def course_from(
        self, user: UserRecord, start: date, intake: list[tuple[str, bool]],
        day_answers: list[repo.DayAnswers],
    ) -> Course:  # fmt: skip
        """The course these answers make (day 0 is `start`), through the rules."""
        intake_flags = [flag for flag, yes in intake if yes]
        answers = {(a.day - start).days: a for a in day_answers}
        last = max(answers, default=0)
        days = []
        for number in range(1, last + 1):  # days with no answer are silence (rule 9)
            a = answers.get(number)
            days.append(
                (number, DayInput() if a is None else DayInput(a.pain, a.red_flags, a.cleared))
            )
        return replay(facts_of(user), intake_flags, days, self._content.levels)

    async def _record(
        self,
        session: AsyncSession,
        user: UserRecord,
        course: Course,
        program_day: int,
        start: date,
    ) -> DayOutcome:
        now = self._clock()
        known = await repo.recorded_escalations(session, user.id)
        new = [e for e in course.escalations if e.day == program_day and e not in known]
        for escalation in new:
            await repo.record_escalation(
                session, user.id, escalation, cause=_cause(escalation, course, program_day), now=now
            )
        changes = tuple(t for t in course.transitions if t.day == program_day)
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
        ended = {"next_prompt_at": None} if course.status is Status.COMPLETED else {}
        await repo.update_user(
            session,
            user.id,
            now,
            phase=course.phase,
            status=course.status.value,
            phase_since=start + timedelta(days=course.phase_since),
            **ended,
        )
        return DayOutcome(
            program_day=program_day,
            escalations=tuple(new),
            transitions=changes,
            notices=tuple(n for n in course.notices if n.day == program_day),
            phase=course.phase,
            status=course.status,
        )


def _cause(escalation: Escalation, course: Course, day: int) -> str:
    """The answer behind an escalation, in words the course log can show."""
    rating = next((pain for d, pain in course.ratings if d == day), None)
    if escalation.reason in ("no_improvement", "worsening", "recurrent_flare"):
        return f"pain {rating} on day {day}"
    return f"red flag reported on day {day}"
