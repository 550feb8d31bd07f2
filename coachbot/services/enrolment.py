"""Enrolment: consent, injury type, intake facts, red-flag screening, reminder time and zone.

Every answer is committed as it is given and the question awaiting an answer is stored with the
user, so a restart mid-dialog resumes at the same question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.clock import Clock
from coachbot.content import Content, escape
from coachbot.domain import intake
from coachbot.domain.course import begin
from coachbot.domain.intake import InvalidAnswer
from coachbot.domain.phases import Status
from coachbot.domain.schedule import first_prompt_at
from coachbot.domain.triage import (
    Escalation,
    IntakeFacts,
    facts_escalations,
    facts_of,
    red_flag_escalation,
)
from coachbot.services.replies import Button, Choice, Keyboard, Outcome, Reply, rows
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.repositories import UserRecord

REPORT = "report"  # the step of the "report for a clinician" button on escalation messages

RESTART = "restart"  # the keep-or-start-over question asked of an enrolled user
SETTING = "set:"  # prefix of a settings question (a new time or zone) asked of an enrolled user
SETTING_STEPS = {"time": intake.REMINDER_TIME, "timezone": intake.TIMEZONE}
INTAKE = "intake"  # the screening a red-flag answer belongs to
REMINDER_TIMES = ("07:00", "08:00", "09:00", "12:00", "18:00", "20:00")
COMMON_ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
)
ONSET_DAY_BUTTONS = (
    (0, "button_days_0"),
    (1, "button_days_1"),
    (2, None),
    (3, None),
    (7, None),
    (14, None),
)
# Steps answered by typing as well as by tapping; the rest are buttons only.
TYPED_STEPS = frozenset(
    {intake.AGE, intake.ONSET_DAYS, intake.BASELINE_PAIN, intake.REMINDER_TIME, intake.TIMEZONE}
)


@dataclass(frozen=True)
class Who:
    """The Telegram user and the private chat an action came from."""

    telegram_user_id: int
    chat_id: int


class EnrolmentService:
    """Runs the enrolment dialog; one method per kind of user action."""

    def __init__(self, db: Database, content: Content, clock: Clock, default_zone: str) -> None:
        self._db = db
        self._content = content
        self._messages = content.messages
        self._clock = clock
        self._default_zone = default_zone
        self._flag_ids = tuple(flag.id for flag in content.red_flags)
        self._injury_ids = tuple(injury.id for injury in content.injuries)
        self._levels = {flag.id: flag.level for flag in content.red_flags}

    async def start(self, who: Who) -> Outcome:
        """/start: welcome a new user, resume an unfinished enrolment, or offer to start over."""
        now = self._clock()
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None:
                await repo.create_user(
                    session, who.telegram_user_id, who.chat_id, step=intake.CONSENT, now=now
                )
                return Outcome((self._question(intake.CONSENT),))
            if user.chat_id != who.chat_id:
                await repo.update_user(session, user.id, now, chat_id=who.chat_id)
            if user.enrolment_step is not None and not user.enrolment_step.startswith(SETTING):
                return Outcome((self._question(user.enrolment_step),))
            if user.enrolment_step is not None or user.prompts_off == "blocked":
                # A settings question is abandoned; a user who blocked us and came back is back.
                await repo.update_user(session, user.id, self._clock(), enrolment_step=None,
                                       prompts_off=None if user.prompts_off == "blocked"
                                       else user.prompts_off)  # fmt: skip
            return Outcome((self._restart_question(),))

    async def press(self, who: Who, choice: Choice) -> Outcome:
        """A button: the answer to the current question, or a stale button from an earlier one."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is not None and choice.step == RESTART and user.enrolment_step is None:
                return await self._restart_or_keep(session, user, choice.value)
            if user is None or choice.step != user.enrolment_step:
                return Outcome(accepted=False, notice=self._messages.render("stale_button"))
            if choice.step.startswith(SETTING):
                return await self._change_setting(session, user, choice.step, choice.value)
            return await self._answer(session, user, choice.value)

    async def text(self, who: Who, text: str) -> Outcome:
        """Typed text: an answer where typing is allowed, otherwise the question again."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None:
                return Outcome((Reply(self._messages.render("not_enrolled")),))
            step = user.enrolment_step
            if step is None:
                return Outcome((self._idle(user),))
            if len(text) > intake.MAX_ANSWER_LENGTH:
                return Outcome((self._question(step, lead="too_long"),), accepted=False)
            if step.startswith(SETTING):
                return await self._change_setting(session, user, step, text)
            if step not in TYPED_STEPS:
                return Outcome((self._question(step, lead="press_a_button"),), accepted=False)
            return await self._answer(session, user, text)

    async def ask_setting(self, who: Who, which: str) -> Outcome:
        """/time or /timezone: ask for the new value (buttons, or typed)."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None or user.enrolled_at is None:
                return Outcome((Reply(self._messages.render("not_enrolled")),))
            step = SETTING + SETTING_STEPS[which]
            await repo.update_user(session, user.id, self._clock(), enrolment_step=step)
        return Outcome((self._question(step),))

    async def _change_setting(
        self, session: AsyncSession, user: UserRecord, step: str, value: str
    ) -> Outcome:
        base = step.removeprefix(SETTING)
        try:
            change = intake.parse_fact(base, value, self._injury_ids)
        except InvalidAnswer as invalid:
            lead = self._invalid_message(invalid.step, value)
            return Outcome((self._question(step, lead_text=lead),), accepted=False)
        now = self._clock()
        reminder = change.get("reminder_time", user.reminder_time)
        zone = str(change.get("timezone", user.timezone))
        assert isinstance(reminder, time)
        due = None
        if user.next_prompt_at is not None and user.enrolled_at is not None:
            due = first_prompt_at(reminder, ZoneInfo(zone), now, user.enrolled_at)
        await repo.update_user(session, user.id, now, enrolment_step=None, next_prompt_at=due,
                               **change)  # fmt: skip
        text = self._messages.render("time_changed", time=reminder.strftime("%H:%M"),
                                     timezone=intake.zone_label(zone))  # fmt: skip
        return Outcome((Reply(text),))

    # The answers ------------------------------------------------------------------------------

    async def _answer(self, session: AsyncSession, user: UserRecord, value: str) -> Outcome:
        step = user.enrolment_step
        assert step is not None
        try:
            return await self._apply(session, user, step, value)
        except InvalidAnswer as invalid:
            lead = self._invalid_message(invalid.step, value)
            return Outcome((self._question(step, lead_text=lead),), accepted=False)

    async def _apply(
        self, session: AsyncSession, user: UserRecord, step: str, value: str
    ) -> Outcome:
        now = self._clock()
        said: list[Reply] = []
        facts: dict[str, object] = {}
        flag = intake.red_flag_of(step)
        if step == intake.CONSENT:
            if value != "yes":
                await repo.delete_user(session, user.id)
                return Outcome((Reply(self._messages.render("consent_declined")),))
            facts["consented_at"] = now
        elif flag is not None:
            answer = intake.parse_choice(value, step, ("yes", "no")) == "yes"
            await repo.record_red_flag_answer(
                session, user.id, flag, answer, screening=INTAKE, now=now
            )
            if answer:
                escalation = red_flag_escalation(flag, self._levels)
                said += await self._escalate(session, user, escalation, "intake answer: yes", now)
        else:
            facts = intake.parse_fact(step, value, self._injury_ids)
        if step == intake.BASELINE_PAIN:
            for escalation in facts_escalations(facts_of(user, **facts)):
                said += await self._escalate(
                    session, user, escalation, "intake facts", now, str(user.injury)
                )

        injury = str(facts.get("injury", user.injury))
        following = intake.next_step(step, injury, self._flag_ids)
        if following is None:
            done = await self._finish(session, user, facts, now)
            return Outcome((*said, done))
        await repo.update_user(session, user.id, now, enrolment_step=following, **facts)
        intro = following.startswith(intake.RED_FLAG_PREFIX) and flag is None
        return Outcome(
            (*said, self._question(following, lead="red_flags_intro" if intro else None))
        )

    async def _escalate(
        self,
        session: AsyncSession,
        user: UserRecord,
        escalation: Escalation,
        cause: str,
        now: datetime,
        injury: str | None = None,
    ) -> list[Reply]:
        await repo.record_escalation(session, user.id, escalation, cause=cause, now=now)
        return [self.escalation_reply(escalation, injury)]

    def escalation_reply(self, escalation: Escalation, injury: str | None) -> Reply:
        """The level's advice, the reason in everyday words, and the offer of the report."""
        reason = self._content.reason(escalation.reason, injury)
        advice = self._messages.render(f"escalation_{escalation.level.value}", reason=reason)
        text = f"{advice}\n{self._messages.render('escalation_offer_log')}"
        report = Button(self._messages.render("button_report"), Choice(REPORT, "pdf"))
        return Reply(text, ((report,),))

    async def _finish(
        self, session: AsyncSession, user: UserRecord, facts: dict[str, object], now: datetime
    ) -> Reply:
        """Close the enrolment: day 0 of the course (phase, status, history), the first prompt
        time, then the summary. Day 0 comes from `course.begin`, as in `coachbot simulate`."""
        zone = str(facts.get("timezone") or user.timezone)
        reminder = user.reminder_time
        assert reminder is not None
        answers = await repo.red_flag_answers(session, user.id, INTAKE)
        known = facts_of(user, **facts)
        course = begin(known, [flag for flag, yes in answers if yes], self._levels)
        program = course.status is Status.ACTIVE
        # Everyone enrolled gets a daily check-in from day 1: exercises when the program is
        # active, otherwise pain and "a professional has cleared me" (rule 1).
        due = first_prompt_at(reminder, ZoneInfo(zone), now, now)
        today = now.astimezone(ZoneInfo(zone)).date()
        await repo.update_user(
            session,
            user.id,
            now,
            enrolment_step=None,
            status=course.status.value,
            phase=course.phase,
            phase_since=today,
            enrolled_at=now,
            enrolled_on=today,
            next_prompt_at=due,
            **facts,
        )
        for change in course.transitions:
            await repo.record_phase_change(
                session,
                user.id,
                phase=change.phase,
                status=change.status.value,
                started_on=today,
                reason=change.reason,
                cause=change.cause,
                now=now,
            )
        return self._summary(known, reminder, zone, answers, list(course.escalations), program)

    async def _restart_or_keep(
        self, session: AsyncSession, user: UserRecord, value: str
    ) -> Outcome:
        now = self._clock()
        if value == "restart":
            await repo.reset_program(session, user.id, step=intake.INJURY, now=now)
            return Outcome((self._question(intake.INJURY),))
        if user.prompts_off is not None and user.reminder_time and user.timezone:
            # Keeping the program after /stop (or a block) turns the daily prompts back on.
            assert user.enrolled_at is not None
            due = first_prompt_at(
                user.reminder_time, ZoneInfo(user.timezone), now, user.enrolled_at
            )
            await repo.update_user(session, user.id, now, prompts_off=None, next_prompt_at=due)
        return Outcome(
            (
                Reply(
                    self._messages.render(
                        "kept_program",
                        time=_hhmm(user.reminder_time),
                        timezone=_zone(user.timezone),
                    )
                ),
            )
        )

    # Rendering -------------------------------------------------------------------------------

    def _question(
        self, step: str, *, lead: str | None = None, lead_text: str | None = None
    ) -> Reply:
        """The question for `step`, optionally after a leading message (e.g. why it is asked again)."""
        text, buttons = self._question_parts(step)
        first = lead_text or (
            self._messages.render(lead, count=len(self._flag_ids)) if lead else None
        )
        return Reply(f"{first}\n\n{text}" if first else text, buttons)

    def _question_parts(self, step: str) -> tuple[str, Keyboard]:
        m = self._messages
        if step.startswith(SETTING):
            base = step.removeprefix(SETTING)
            _, base_buttons = self._question_parts(base)
            moved = tuple(tuple(Button(b.label, Choice(step, b.choice.value)) for b in row)
                          for row in base_buttons)  # fmt: skip
            key = "ask_new_time" if base == intake.REMINDER_TIME else "ask_new_timezone"
            return m.render(key), moved
        flag = intake.red_flag_of(step)
        if flag is not None:
            number = self._flag_ids.index(flag) + 1
            text = m.render(
                "ask_red_flag",
                number=number,
                count=len(self._flag_ids),
                question=self._content.red_flag(flag).question,
            )
            return text, self._buttons(step, [("yes", "button_yes"), ("no", "button_no")], 2)
        if step == intake.CONSENT:
            pairs = [("yes", "button_consent_yes"), ("no", "button_consent_no")]
            return m.render("welcome"), self._buttons(step, pairs, 1)
        if step == intake.INJURY:
            options = "\n".join(
                m.render("injury_option", label=i.label, description=i.description)
                for i in self._content.injuries
            )
            buttons = [Button(i.label, Choice(step, i.id)) for i in self._content.injuries]
            return m.render_markup("ask_injury", options=options), rows(buttons, 1)
        if step == intake.AGE:
            return m.render("ask_age"), ()
        if step == intake.ONSET:
            pairs = [(v, f"button_onset_{v}") for v in intake.ONSETS]
            return m.render("ask_onset"), self._buttons(step, pairs, 2)
        if step == intake.ONSET_DAYS:
            buttons = [
                Button(m.render(key) if key else str(days), Choice(step, str(days)))
                for days, key in ONSET_DAY_BUTTONS
            ]
            return m.render("ask_onset_days"), rows(buttons, 3)
        if step == intake.LOCATION:
            pairs = [(v, f"button_location_{v}") for v in intake.LOCATIONS]
            return m.render("ask_location"), self._buttons(step, pairs, 1)
        if step == intake.GRADE:
            pairs = [(v, f"button_grade_{v}") for v in intake.GRADES]
            return m.render("ask_grade"), self._buttons(step, pairs, 2)
        if step == intake.BASELINE_PAIN:
            return m.render("ask_baseline_pain"), pain_keyboard(step)
        if step == intake.REMINDER_TIME:
            buttons = [Button(t, Choice(step, t)) for t in REMINDER_TIMES]
            return m.render("ask_reminder_time"), rows(buttons, 3)
        if step == intake.TIMEZONE:
            zones = [self._default_zone, *(z for z in COMMON_ZONES if z != self._default_zone)]
            labels = [m.render("button_timezone_default", zone=zones[0]), *zones[1:]]
            buttons = [
                Button(label, Choice(step, z)) for label, z in zip(labels, zones, strict=True)
            ]
            return m.render("ask_timezone"), rows(buttons, 2)
        raise ValueError(f"unknown enrolment step {step!r}")

    def _buttons(self, step: str, pairs: list[tuple[str, str]], per_row: int) -> Keyboard:
        return rows(
            [Button(self._messages.render(key), Choice(step, v)) for v, key in pairs], per_row
        )

    def _invalid_message(self, step: str, value: str) -> str:
        m = self._messages
        if step == intake.AGE:
            return m.render("invalid_age", min=intake.MIN_AGE, max=intake.MAX_AGE)
        if step == intake.ONSET_DAYS:
            return m.render("invalid_onset_days", max=intake.MAX_ONSET_DAYS)
        if step == intake.BASELINE_PAIN:
            return m.render("invalid_pain")
        if step == intake.REMINDER_TIME:
            return m.render("invalid_time")
        if step == intake.TIMEZONE:
            return m.render("invalid_timezone", value=value)
        return m.render("press_a_button")

    def _restart_question(self) -> Reply:
        pairs = [("keep", "button_keep"), ("restart", "button_restart")]
        return Reply(self._messages.render("enrolled_already"), self._buttons(RESTART, pairs, 1))

    def _idle(self, user: UserRecord) -> Reply:
        return Reply(
            self._messages.render(
                "enrolled_idle", time=_hhmm(user.reminder_time), timezone=_zone(user.timezone)
            )
        )

    def _summary(
        self,
        facts: IntakeFacts,
        reminder: time,
        zone: str,
        answers: list[tuple[str, bool]],
        escalations: list[Escalation],
        program: bool,
    ) -> Reply:
        m = self._messages
        yes = sum(1 for _, answer in answers if answer)
        if not program:
            next_key = "summary_next_escalated"
        elif escalations:
            next_key = "summary_next_routine"
        else:
            next_key = "summary_next_program"
        grade = m.render("summary_grade", grade=facts.grade) if facts.grade else ""
        days = facts.onset_days_ago
        when = m.render("when_today") if days == 0 else m.render("when_days_ago", days=days)
        text = m.render_markup(
            "summary",
            injury=escape(self._content.injury(facts.injury).label),
            age=str(facts.age),
            onset=m.render(f"button_onset_{facts.onset}"),
            when=when,
            location=m.render(f"button_location_{facts.location}"),
            grade=grade,
            pain=str(facts.baseline_pain),
            red_flags=m.render("summary_red_flags_yes", count=yes)
            if yes
            else m.render("summary_no_red_flags"),
            time=reminder.strftime("%H:%M"),
            timezone=escape(intake.zone_label(zone)),
            next_steps=m.render(next_key, time=reminder.strftime("%H:%M")),
        )
        return Reply(text)


def pain_keyboard(step: str) -> Keyboard:
    """0-10 in two rows, the way people read a pain scale."""
    buttons = [Button(str(n), Choice(step, str(n))) for n in range(11)]
    return (tuple(buttons[:6]), tuple(buttons[6:]))


def _hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else "--:--"


def _zone(name: str | None) -> str:
    return intake.zone_label(name) if name else "UTC"
