"""Enrolment: consent, injury type, intake facts, red-flag screening, check-in time and zone, then
day 0's plan.

Every answer is committed as it is given and the question awaiting an answer is stored with the
user, so a restart mid-dialog resumes at the same question. Under 16s are told the bot is not for
them and who can help, and nothing they said is kept (spec v2 rule 2).
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.clock import Clock
from coachbot.content import Content, escape
from coachbot.domain import intake
from coachbot.domain.course import Course, begin
from coachbot.domain.intake import InvalidAnswer
from coachbot.domain.phases import Status
from coachbot.domain.schedule import first_prompt_at
from coachbot.domain.screening import asked_at_intake
from coachbot.domain.triage import (
    CANNOT_BEAR_WEIGHT,
    MIN_PROGRAM_AGE,
    Escalation,
    IntakeFacts,
    facts_escalations,
    facts_of,
    red_flag_escalation,
)
from coachbot.services.actions import Answer, IntakeFlag, PromptsOff, Question, Restart
from coachbot.services.advice import Advice
from coachbot.services.checkin import CheckInService
from coachbot.services.course import catalogue_of
from coachbot.services.questions import TYPED, Questions
from coachbot.services.replies import Button, Outcome, Reply, rows
from coachbot.services.settings import BASE, SettingsService
from coachbot.services.who import Who
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.repositories import UserRecord

INTAKE = "intake"  # the screening a red-flag answer belongs to
SETTING_QUESTIONS = frozenset(BASE)


class EnrolmentService:
    """Runs the enrolment dialog; one method per kind of user action."""

    def __init__(self, db: Database, content: Content, clock: Clock, questions: Questions,
                 checkin: CheckInService, settings: SettingsService) -> None:  # fmt: skip
        self._db = db
        self._content = content
        self._m = content.messages
        self._clock = clock
        self._questions = questions
        self._checkin = checkin
        self._settings = settings
        self._advice = Advice(content)
        self._injury_ids = tuple(injury.id for injury in content.injuries)
        self._levels = content.levels

    async def start(self, who: Who) -> Outcome:
        """/start: welcome a new user, resume an unfinished enrolment, or offer to start over."""
        now = self._clock()
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None:
                await repo.create_user(session, who.telegram_user_id, who.chat_id,
                                       step=Question.CONSENT.value, now=now)  # fmt: skip
                return Outcome((self._questions.ask(Question.CONSENT),))
            if user.chat_id != who.chat_id:
                await repo.update_user(session, user.id, now, chat_id=who.chat_id)
            step = _question_of(user)
            if step is not None and step not in SETTING_QUESTIONS:
                return Outcome((await self._ask(session, user, step),))
            if step is not None or user.prompts_off == PromptsOff.BLOCKED:
                # A settings question is abandoned; a user who blocked us and came back is back.
                back = None if user.prompts_off == PromptsOff.BLOCKED else user.prompts_off
                await repo.update_user(session, user.id, now, enrolment_step=None, prompts_off=back)
            return Outcome((self._restart_question(),))

    async def press(self, who: Who, action: Answer | IntakeFlag) -> Outcome:
        """A button: the answer to the current question, or a stale button from an earlier one."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            step = None if user is None else _question_of(user)
            if user is None or step is None:
                return self._stale()
            if isinstance(action, IntakeFlag):
                if step is not Question.RED_FLAGS or action.flag != await self._next_flag(
                    session, user
                ):
                    return self._stale()
                return await self._flag_answer(session, user, action)
            if action.question is not step:
                return self._stale()
            if step in SETTING_QUESTIONS:
                return await self._settings.change(session, user, step, action.value)
            return await self._answer(session, user, step, action.value)

    async def restart(self, who: Who, action: Restart) -> Outcome:
        """An enrolled user's answer to "keep your program or start over?"."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None or user.enrolled_at is None or user.enrolment_step is not None:
                return self._stale()
            now = self._clock()
            if action.start_over:
                await repo.reset_program(session, user.id, step=Question.INJURY.value, now=now)
                return Outcome((self._questions.ask(Question.INJURY),))
            if user.prompts_off is not None and user.reminder_time and user.timezone:
                # Keeping the program after /stop (or a block) turns the daily prompts back on.
                assert user.enrolled_at is not None
                due = first_prompt_at(
                    user.reminder_time, ZoneInfo(user.timezone), now, user.enrolled_at
                )
                await repo.update_user(session, user.id, now, prompts_off=None, next_prompt_at=due)
        return Outcome((Reply(self._m.render("kept_program", time=_hhmm(user.reminder_time),
                                             timezone=_zone(user.timezone))),))  # fmt: skip

    async def text(self, who: Who, text: str) -> Outcome:
        """Typed text: an answer where typing is allowed, otherwise the question again."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None:
                return Outcome((Reply(self._m.render("not_enrolled")),))
            step = _question_of(user)
            if step is None:
                return Outcome((Reply(self._m.render("enrolled_idle", time=_hhmm(user.reminder_time),
                                                     timezone=_zone(user.timezone))),))  # fmt: skip
            if len(text) > intake.MAX_ANSWER_LENGTH:
                return Outcome(
                    (await self._ask(session, user, step, lead="too_long"),), accepted=False
                )
            if step in SETTING_QUESTIONS:
                return await self._settings.change(session, user, step, text)
            if step not in TYPED:
                return Outcome((await self._ask(session, user, step, lead="press_a_button"),),
                               accepted=False)  # fmt: skip
            return await self._answer(session, user, step, text)

    # The answers ------------------------------------------------------------------------------

    async def _answer(
        self, session: AsyncSession, user: UserRecord, step: Question, value: str
    ) -> Outcome:
        try:
            return await self._apply(session, user, step, value)
        except InvalidAnswer as invalid:
            lead = self._questions.invalid(invalid.step, value)
            return Outcome((await self._ask(session, user, step, lead_text=lead),), accepted=False)

    async def _apply(
        self, session: AsyncSession, user: UserRecord, step: Question, value: str
    ) -> Outcome:
        now = self._clock()
        said: list[Reply] = []
        if step is Question.CONSENT:
            if intake.parse_choice(value, step.value, intake.YES_NO) != "yes":
                await repo.delete_user(session, user.id)
                return Outcome((Reply(self._m.render("consent_declined")),))
            facts: dict[str, object] = {"consented_at": now}
        else:
            facts = intake.parse_fact(step.value, value, self._injury_ids)
        if step is Question.AGE and int(str(facts["age"])) < MIN_PROGRAM_AGE:
            await repo.delete_user(session, user.id)  # rule 2: nothing is kept
            return Outcome(
                (Reply(self._m.render("under_16_urgent")), Reply(self._m.render("under_16")))
            )
        if step is Question.BASELINE_PAIN:
            known = facts_of(user, **facts)
            for escalation in facts_escalations(known):
                said += await self._escalate(session, user, escalation, "intake facts", now)
            if known.walking == "cannot":  # counts as the red flag answered yes
                flag = red_flag_escalation(CANNOT_BEAR_WEIGHT, self._levels)
                said += await self._escalate(session, user, flag, "cannot walk", now)
        return await self._next(session, user, step, facts, now, said)

    async def _next(self, session: AsyncSession, user: UserRecord, step: Question,
                    facts: dict[str, object], now: datetime, said: list[Reply]) -> Outcome:  # fmt: skip
        """Move on to the question after `step` (or finish), keeping `facts`."""
        following = intake.next_step(step.value, _Answers(user, facts), ())
        if following == intake.REMINDER_TIME and step is not Question.RED_FLAGS:
            following = Question.RED_FLAGS.value  # the screening comes before the time
        await repo.update_user(session, user.id, now, enrolment_step=following, **facts)
        user = await _reloaded(session, user)
        if following is None:
            return Outcome((*said, *await self.finish(session, user, now)))
        return Outcome((*said, await self._ask(session, user, Question(following), intro=True)))

    async def _flag_answer(
        self, session: AsyncSession, user: UserRecord, action: IntakeFlag
    ) -> Outcome:
        now = self._clock()
        await repo.record_red_flag_answer(session, user.id, action.flag, action.yes,
                                          screening=INTAKE, now=now)  # fmt: skip
        said = []
        if action.yes:
            escalation = red_flag_escalation(action.flag, self._levels)
            said += await self._escalate(session, user, escalation, "intake answer: yes", now)
        if await self._next_flag(session, user) is not None:
            return Outcome((*said, await self._ask(session, user, Question.RED_FLAGS)))
        await repo.update_user(session, user.id, now, enrolment_step=Question.REMINDER_TIME.value)
        return Outcome((*said, self._questions.ask(Question.REMINDER_TIME)))

    async def _escalate(self, session: AsyncSession, user: UserRecord, escalation: Escalation,
                        cause: str, now: datetime) -> list[Reply]:  # fmt: skip
        await repo.record_escalation(session, user.id, escalation, cause=cause, now=now)
        return [self._advice.escalation(escalation, user.injury)]

    def _flags(self, user: UserRecord) -> tuple[str, ...]:
        """The red flags asked at enrolment for this user, in content order."""
        return asked_at_intake(self._content.red_flags, facts_of(user))

    async def _next_flag(self, session: AsyncSession, user: UserRecord) -> str | None:
        answered = {flag for flag, _ in await repo.red_flag_answers(session, user.id, INTAKE)}
        return next((f for f in self._flags(user) if f not in answered), None)

    async def _ask(self, session: AsyncSession, user: UserRecord, step: Question, *,
                   lead: str | None = None, lead_text: str | None = None, intro: bool = False) -> Reply:  # fmt: skip
        """The question `step` as the user's answers so far make it."""
        if step is Question.RED_FLAGS:
            flags = self._flags(user)
            flag = await self._next_flag(session, user)
            if flag is None:  # every flag answered (e.g. a restart mid-screening)
                await repo.update_user(session, user.id, self._clock(),
                                       enrolment_step=Question.REMINDER_TIME.value)  # fmt: skip
                return self._questions.ask(Question.REMINDER_TIME)
            number = flags.index(flag) + 1
            return self._questions.ask_flag(flag, number, len(flags), intro=intro and number == 1)
        return self._questions.ask(step, lead=lead, lead_text=lead_text, activity=user.activity)

    def _stale(self) -> Outcome:
        return Outcome(accepted=False, notice=self._m.render("stale_button"))

    def _restart_question(self) -> Reply:
        m = self._m
        buttons = rows([Button(m.render("button_keep"), Restart(False)),
                        Button(m.render("button_restart"), Restart(True))], 1)  # fmt: skip
        return Reply(m.render("enrolled_already"), buttons)

    # The end: day 0 ---------------------------------------------------------------------------

    async def finish(
        self, session: AsyncSession, user: UserRecord, now: datetime
    ) -> tuple[Reply, ...]:
        """Close the enrolment: day 0 of the course (phase, status, history), the first prompt
        time, the summary and day 0's plan. Day 0 comes from `course.begin`, as in `simulate`."""
        zone, reminder = user.timezone, user.reminder_time
        assert zone is not None and reminder is not None
        answers = await repo.red_flag_answers(session, user.id, INTAKE)
        facts = facts_of(user)
        course = begin(facts, [flag for flag, yes in answers if yes], catalogue_of(self._content))
        due = first_prompt_at(reminder, ZoneInfo(zone), now, now)
        today = now.astimezone(ZoneInfo(zone)).date()
        await repo.update_user(session, user.id, now, enrolment_step=None,
                               status=course.status.value, phase=course.phase, phase_since=today,
                               enrolled_at=now, enrolled_on=today, next_prompt_at=due)  # fmt: skip
        for change in course.transitions:
            await repo.record_phase_change(session, user.id, phase=change.phase,
                                           status=change.status.value, started_on=today,
                                           reason=change.reason, cause=change.cause, now=now)  # fmt: skip
        summary = self._summary(facts, reminder, zone, answers, course)
        return (summary, *self._checkin.day_zero(course, pictures=True))

    def _summary(self, facts: IntakeFacts, reminder: time, zone: str,
                 answers: list[tuple[str, bool]], course: Course) -> Reply:  # fmt: skip
        m = self._m
        yes = sum(1 for _, answer in answers if answer) + (facts.walking == "cannot")
        if course.status is not Status.ACTIVE:
            next_key = "summary_next_escalated"
        elif course.escalations:
            next_key = "summary_next_routine"
        else:
            next_key = "summary_next_program"
        grade = m.render("summary_grade", grade=facts.grade) if facts.grade else ""
        days = facts.onset_days_ago
        when = m.render("when_today") if days == 0 else m.render("when_days_ago", days=days)
        goal = m.render(f"button_goal_{facts.goal}")
        activity = m.render("summary_activity", activity=facts.activity,
                            score=facts.function_baseline) if facts.activity else ""  # fmt: skip
        text = m.render_markup(
            "summary",
            injury=escape(self._content.injury(facts.injury).label),
            age=str(facts.age),
            onset=m.render(f"button_onset_{facts.onset}"),
            when=when,
            location=m.render(f"button_location_{facts.location}"),
            grade=grade + m.render("summary_goal", goal=goal) + activity,
            pain=str(facts.baseline_pain),
            red_flags=m.render("summary_red_flags_yes", count=yes)
            if yes
            else m.render("summary_no_red_flags"),
            time=reminder.strftime("%H:%M"),
            timezone=escape(intake.zone_label(zone)),
            next_steps=m.render(next_key, time=reminder.strftime("%H:%M")),
        )
        return Reply(text)


class _Answers:
    """The intake answers so far: the stored ones with the newest on top (for the question order)."""

    def __init__(self, user: UserRecord, facts: dict[str, object]) -> None:
        self._user, self._facts = user, facts

    def __getattr__(self, name: str) -> object:
        return self._facts[name] if name in self._facts else getattr(self._user, name)


async def _reloaded(session: AsyncSession, user: UserRecord) -> UserRecord:
    fresh = await repo.get_user(session, user.telegram_user_id)
    assert fresh is not None
    return fresh


def _question_of(user: UserRecord) -> Question | None:
    step = user.enrolment_step
    return Question(step) if step is not None and step in Question._value2member_map_ else None


def _hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else "--:--"


def _zone(name: str | None) -> str:
    return intake.zone_label(name) if name else "UTC"
