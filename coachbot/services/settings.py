"""The user's settings: check-in time and zone, the daily prompts on or off, the weekly summary."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.clock import Clock
from coachbot.content import Content
from coachbot.domain import intake
from coachbot.domain.intake import InvalidAnswer
from coachbot.domain.schedule import first_prompt_at
from coachbot.services.actions import Answer, PromptsOff, Question, Settings, SettingsChoice
from coachbot.services.questions import Questions
from coachbot.services.replies import Button, Outcome, Reply, rows
from coachbot.services.who import Who
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.repositories import UserRecord

SETTING_QUESTIONS = {SettingsChoice.TIME: Question.NEW_TIME,
                     SettingsChoice.TIMEZONE: Question.NEW_TIMEZONE}  # fmt: skip
BASE = {Question.NEW_TIME: Question.REMINDER_TIME, Question.NEW_TIMEZONE: Question.TIMEZONE}


class SettingsService:
    """/settings, /time, /timezone, /pause, /resume and /stop."""

    def __init__(self, db: Database, content: Content, clock: Clock, questions: Questions) -> None:
        self._db = db
        self._m = content.messages
        self._clock = clock
        self._questions = questions

    async def _enrolled(self, session: AsyncSession, who: Who) -> UserRecord | None:
        user = await repo.get_user(session, who.telegram_user_id)
        return user if user is not None and user.enrolled_at is not None else None

    async def ask(self, who: Who, choice: SettingsChoice) -> Outcome:
        """/time or /timezone: ask for the new value (buttons, or typed)."""
        question = SETTING_QUESTIONS[choice]
        async with self._db.transaction() as session:
            user = await self._enrolled(session, who)
            if user is None:
                return Outcome((Reply(self._m.render("not_enrolled")),))
            await repo.update_user(session, user.id, self._clock(), enrolment_step=question.value)
        return Outcome((self._questions.ask(question),))

    async def change(self, session: AsyncSession, user: UserRecord, question: Question,
                     value: str) -> Outcome:  # fmt: skip
        """The answer to a /time or /timezone question (typed or a button)."""
        try:
            change = intake.parse_fact(BASE[question].value, value, ())
        except InvalidAnswer as invalid:
            lead = self._questions.invalid(invalid.step, value)
            return Outcome((self._questions.ask(question, lead_text=lead),), accepted=False)
        now = self._clock()
        reminder = change.get("reminder_time", user.reminder_time)
        zone = str(change.get("timezone", user.timezone))
        assert isinstance(reminder, time)
        due = None
        if user.next_prompt_at is not None and user.enrolled_at is not None:
            due = first_prompt_at(reminder, ZoneInfo(zone), now, user.enrolled_at)
        await repo.update_user(session, user.id, now, enrolment_step=None, next_prompt_at=due,
                               **change)  # fmt: skip
        text = self._m.render("time_changed", time=reminder.strftime("%H:%M"),
                              timezone=intake.zone_label(zone))  # fmt: skip
        return Outcome((Reply(text),))

    async def answer(self, who: Who, action: Answer) -> Outcome:
        """A button answering the pending /time or /timezone question."""
        async with self._db.transaction() as session:
            user = await self._enrolled(session, who)
            if user is None or user.enrolment_step != action.question.value:
                return Outcome(accepted=False, notice=self._m.render("stale_button"))
            return await self.change(session, user, action.question, action.value)

    async def set_prompts(self, who: Who, off: PromptsOff | None) -> Outcome:
        """/pause, /resume and /stop."""
        now = self._clock()
        async with self._db.transaction() as session:
            user = await self._enrolled(session, who)
            if user is None:
                return Outcome((Reply(self._m.render("not_enrolled")),))
            changes: dict[str, object] = {"prompts_off": off.value if off else None}
            if off is None and user.reminder_time and user.timezone:
                assert user.enrolled_at is not None
                changes["next_prompt_at"] = first_prompt_at(
                    user.reminder_time, ZoneInfo(user.timezone), now, user.enrolled_at
                )
            await repo.update_user(session, user.id, now, **changes)
        if off is None:
            text = self._m.render("resumed", time=_hhmm(user),
                                  timezone=intake.zone_label(user.timezone or "UTC"))  # fmt: skip
        else:
            text = self._m.render("paused" if off is PromptsOff.PAUSED else "stopped")
        return Outcome((Reply(text),))

    async def blocked(self, telegram_user_id: int) -> None:
        """The user blocked the bot (a reply to them was refused): no more prompts until they
        come back with /start, as when the dispatcher meets the block."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, telegram_user_id)
            if user is not None:
                await repo.update_user(session, user.id, self._clock(),
                                       prompts_off=PromptsOff.BLOCKED.value)  # fmt: skip

    async def _set_weekly(self, who: Who, on: bool) -> Outcome:
        async with self._db.transaction() as session:
            user = await self._enrolled(session, who)
            if user is None:
                return Outcome((Reply(self._m.render("not_enrolled")),))
            await repo.update_user(session, user.id, self._clock(), weekly_summary=on)
        return Outcome(
            (Reply(self._m.render("weekly_changed_on" if on else "weekly_changed_off")),)
        )

    async def press(self, who: Who, action: Settings) -> Outcome:
        """A button on /settings."""
        choice = action.choice
        if choice in SETTING_QUESTIONS:
            return await self.ask(who, choice)
        if choice in (SettingsChoice.PAUSE, SettingsChoice.RESUME):
            return await self.set_prompts(
                who, PromptsOff.PAUSED if choice is SettingsChoice.PAUSE else None
            )
        return await self._set_weekly(who, choice is SettingsChoice.WEEKLY_ON)

    async def show(self, who: Who) -> Outcome:
        """/settings: check-in time, zone and whether prompts are on, with buttons to change."""
        async with self._db.read() as session:
            user = await self._enrolled(session, who)
        if user is None:
            return Outcome((Reply(self._m.render("not_enrolled")),))
        m = self._m
        off = PromptsOff(user.prompts_off) if user.prompts_off else None
        state = "on" if off is None else ("stopped" if off is PromptsOff.STOPPED else "paused")
        toggle = SettingsChoice.RESUME if off else SettingsChoice.PAUSE
        on = user.weekly_summary
        weekly = SettingsChoice.WEEKLY_OFF if on else SettingsChoice.WEEKLY_ON
        buttons = rows([
            Button(m.render("button_change_time"), Settings(SettingsChoice.TIME)),
            Button(m.render("button_change_timezone"), Settings(SettingsChoice.TIMEZONE)),
            Button(m.render(f"button_{toggle.value}"), Settings(toggle)),
            Button(m.render(f"button_{weekly.value}"), Settings(weekly)),
        ], 2)  # fmt: skip
        text = m.render("settings", time=_hhmm(user), timezone=intake.zone_label(user.timezone or "UTC"),
                        prompts=m.render(f"settings_prompts_{state}"),
                        weekly=m.render("settings_weekly_on" if on else "settings_weekly_off"))  # fmt: skip
        return Outcome((Reply(text, buttons),))


def _hhmm(user: UserRecord) -> str:
    return user.reminder_time.strftime("%H:%M") if user.reminder_time else "--:--"
