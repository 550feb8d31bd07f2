"""The daily loop: each day's prompt, the answers to it, and the commands around it.

The prompt lists the day's exercises for the user's phase (the same `plan_for` the simulator
runs), asks whether they were done and how the pain is, and offers full instructions. Answers go
to the check-in of the prompt's own day (a late answer stays with its day), are committed, and
then the course rules run (CourseService); a second press corrects the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.clock import Clock
from coachbot.content import Content, escape
from coachbot.domain import intake
from coachbot.domain.course import NUDGE_AFTER_DAYS, PAUSE_AFTER_DAYS, Course
from coachbot.domain.phases import Status
from coachbot.domain.progress import weekly_due
from coachbot.domain.schedule import first_prompt_at, next_prompt_at
from coachbot.domain.triage import facts_of
from coachbot.services.course import CourseService, DayOutcome, enrolment_date
from coachbot.services.enrolment import EnrolmentService, Who, pain_keyboard
from coachbot.services.replies import Button, Choice, Keyboard, Outcome, Reply, rows
from coachbot.storage import dispatch
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.dispatch import DuePrompt

DID, PAIN, INFO, CLEARED, FLAG = "did", "pain", "info", "cleared", "flag"
DAILY_KINDS = frozenset({DID, PAIN, INFO, CLEARED, FLAG})
ADHERENCE = ("done", "partly", "skipped")
NONE_OF_THESE = "none"
MAX_ROW_ID = 2**31 - 1  # row ids are 32-bit integers on PostgreSQL
ROUTINE_REMINDER_DAYS = 7  # rule 1: routine escalations are reminded after 7 days


@dataclass(frozen=True)
class PromptDecision:
    """What to do with one due prompt."""

    reply: Reply | None  # the message to send
    pause: bool = False  # the user has been silent a week: pause their prompts instead
    weekly: bool = False  # send the weekly summary before the prompt


class DailyService:
    """Builds prompts and takes the answers to them."""

    def __init__(
        self, db: Database, content: Content, clock: Clock, course: CourseService,
        enrolment: EnrolmentService,
    ) -> None:  # fmt: skip
        self._db = db
        self._content = content
        self._m = content.messages
        self._clock = clock
        self._course = course
        self._enrolment = enrolment

    # The prompt ------------------------------------------------------------------------------

    def decide(self, due: DuePrompt) -> PromptDecision:
        """The prompt for a due check-in, or a pause after a week of silence (rule 9). A routine
        escalation is reminded in the prompt 7 days after it was raised (rule 1)."""
        course, number = self._snapshot(due)
        routine_reasons = [reason for day, reason in due.routine_escalations
                           if number - day == ROUTINE_REMINDER_DAYS]  # fmt: skip
        last = course.ratings[-1][0]
        silent = number - 1 - last
        if course.status is Status.ACTIVE and silent >= PAUSE_AFTER_DAYS:
            return PromptDecision(Reply(self._m.render("paused_for_silence")), pause=True)
        if course.status is Status.COMPLETED:
            return PromptDecision(None)
        lead = []
        if silent == NUDGE_AFTER_DAYS:
            lead.append(self._m.render("prompt_nudge"))
        lead += [self._m.render("prompt_routine_reminder", reason=self._content.reason(reason, due.user.injury))
                 for reason in routine_reasons]  # fmt: skip
        weekly = due.user.weekly_summary and weekly_due(number)
        return PromptDecision(self._prompt(due, course, number, lead=lead), weekly=weekly)

    def _snapshot(self, due: DuePrompt) -> tuple[Course, int]:
        """The course state the stored user row holds, enough to plan the day."""
        user = due.user
        start = enrolment_date(user)
        ratings = [(0, user.baseline_pain or 0)]
        if due.last_rating_day is not None and due.last_rating is not None:
            ratings.append(((due.last_rating_day - start).days, due.last_rating))
        status = Status(user.status)
        if status is Status.PAUSED and user.prompts_off is None:
            status = Status.ACTIVE  # prompts resumed: the course goes on
        since = (user.phase_since - start).days if user.phase_since else 0
        course = Course(facts=facts_of(user), first=user.phase, phase=user.phase,
                        phase_since=since, status=status, ratings=tuple(ratings))  # fmt: skip
        return course, (due.day - start).days

    def _prompt(
        self, due: DuePrompt, course: Course, number: int, *, lead: list[str],
        recorded: str | None = None,
    ) -> Reply:  # fmt: skip
        m = self._m
        cid = due.check_in_id
        pain_rows = pain_keyboard(f"{PAIN}:{cid}")
        if course.status is not Status.ACTIVE:
            cleared = ((Button(m.render("button_cleared"), Choice(f"{CLEARED}:{cid}", "yes")),),)
            parts = [*lead, m.render("prompt_escalated", day=number)]
            return Reply(_join(parts, recorded), pain_rows + cleared)
        exercises = self._course.plan(course, number)
        header = m.render(
            "prompt_header", day=number, phase=self._content.phase(course.phase or "protect").name
        )
        if exercises:
            lines = [m.render("prompt_exercises_intro")]
            for exercise_id in exercises:
                e = self._content.exercise(exercise_id)
                lines.append(
                    m.render("prompt_exercise", name=e.name, dosage=e.dosage, summary=e.summary)
                )
            body = "\n".join(lines) + "\n" + m.render("prompt_safety")
        else:
            body = m.render("prompt_rest_day")
        did = rows(
            [Button(m.render(f"button_{a}"), Choice(f"{DID}:{cid}", a)) for a in ADHERENCE], 3
        )
        info = (Button(m.render("button_instructions"), Choice(f"{INFO}:{cid}", "all")),)
        keyboard: Keyboard = did + pain_rows + ((info,) if exercises else ())
        return Reply(_join([header, *lead, body, m.render("prompt_question")], recorded), keyboard)

    # Answers ---------------------------------------------------------------------------------

    async def press(self, who: Who, choice: Choice) -> Outcome:
        """A button on a prompt: adherence, pain, instructions, clearance or a red flag."""
        kind, _, raw_id = choice.step.partition(":")
        async with self._db.transaction() as session:  # one read for both checks
            due = await self._own_check_in(session, who, raw_id)
            known = due is not None and await self._already(session, due, kind, choice.value)
        if due is None or kind not in DAILY_KINDS:
            return Outcome(accepted=False, notice=self._m.render("stale_button"))
        if kind == INFO:
            return Outcome(self._instructions(due), accepted=False)
        if known:
            # The same answer again (a re-sent press, a double tap): its domain key (check-in
            # and value) is on record, so nothing changes and the message stays as it is.
            return Outcome(accepted=False, notice=self._m.render("already_recorded"))
        if kind == DID:
            if choice.value not in ADHERENCE:
                return Outcome(accepted=False, notice=self._m.render("stale_button"))
            async with self._db.transaction() as session:
                await repo.set_check_in_adherence(session, due.check_in_id, choice.value)
            return Outcome(edit=await self._recorded(due))
        if kind == PAIN:
            try:
                pain = intake.parse_pain(choice.value)
            except intake.InvalidAnswer:
                return Outcome(accepted=False, notice=self._m.render("invalid_pain"))
            outcome = await self._course.record_day(who.telegram_user_id, due.day, pain=pain)
            if due.user.prompts_off == "silent":  # a rating brings a silent user back
                await self.set_prompts(who, None)
            return Outcome(self._tell(due, outcome), edit=await self._recorded(due))
        if kind == CLEARED:
            outcome = await self._course.record_day(who.telegram_user_id, due.day, cleared=True)
            return Outcome(self._tell(due, outcome), edit=await self._recorded(due))
        return await self._rescreen_answer(who, due, choice.value)

    async def text(self, who: Who, text: str) -> Outcome:
        """Typed text: an answer to an enrolment or settings question, or a pain rating."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
        if user is not None and user.enrolled_at is not None and user.enrolment_step is None:
            rated = await self.typed_pain(who, text)
            if rated is not None:
                return rated
        return await self._enrolment.text(who, text)

    async def typed_pain(self, who: Who, text: str) -> Outcome | None:
        """A number typed after a prompt is that prompt's pain rating (None: not a rating)."""
        try:
            pain = intake.parse_pain(text)
        except intake.InvalidAnswer:
            return None
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            latest = None if user is None else await repo.latest_sent_check_in(session, user.id)
        if latest is None:
            return Outcome((Reply(self._m.render("typed_pain_no_prompt")),), accepted=False)
        rated = await self.press(who, Choice(f"{PAIN}:{latest.id}", str(pain)))
        what = self._m.render("recorded_pain", pain=pain)
        return Outcome((Reply(self._m.render_markup("recorded", what=what)), *rated.replies))

    @staticmethod
    async def _already(session: AsyncSession, due: DuePrompt, kind: str, value: str) -> bool:
        """Whether this answer (kind and value) is already recorded for the prompt's day."""
        row = await repo.get_check_in(session, due.check_in_id)
        assert row is not None
        if kind == FLAG:
            return value in await repo.flags_reported_on(session, due.user.id, due.day)
        recorded = {DID: row.adherence, PAIN: None if row.pain is None else str(row.pain),
                    CLEARED: "yes" if row.cleared else None}  # fmt: skip
        return recorded.get(kind) == value

    async def _rescreen_answer(self, who: Who, due: DuePrompt, value: str) -> Outcome:
        if value == NONE_OF_THESE:
            return Outcome((Reply(self._m.render("rescreen_clear")),))
        if value not in self._content.levels:
            return Outcome(accepted=False, notice=self._m.render("stale_button"))
        outcome = await self._course.record_day(who.telegram_user_id, due.day, red_flags=(value,))
        return Outcome(self._tell(due, outcome))

    @staticmethod
    async def _own_check_in(session: AsyncSession, who: Who, raw_id: str) -> DuePrompt | None:
        if not (raw_id.isascii() and raw_id.isdigit() and int(raw_id) <= MAX_ROW_ID):  # forged
            return None
        found = await dispatch.load_prompts(session, [int(raw_id)])
        if not found or found[0].user.telegram_user_id != who.telegram_user_id:
            return None
        return found[0]

    async def _recorded(self, due: DuePrompt) -> Reply:
        """The prompt again, with what is recorded for its day."""
        async with self._db.transaction() as session:
            row = await repo.get_check_in(session, due.check_in_id)
            assert row is not None
            adherence, pain, cleared = row.adherence, row.pain, row.cleared
            fresh = (await dispatch.load_prompts(session, [due.check_in_id]))[0]
        parts = []
        if adherence:
            parts.append(self._m.render(f"recorded_{adherence}"))
        if pain is not None:
            parts.append(self._m.render("recorded_pain", pain=pain))
        if cleared:
            parts.append(self._m.render("recorded_cleared"))
        course, number = self._snapshot(fresh)
        recorded = self._m.render_markup("recorded", what=", ".join(parts)) if parts else None
        return self._prompt(fresh, course, number, lead=[], recorded=recorded)

    def _tell(self, due: DuePrompt, outcome: DayOutcome) -> tuple[Reply, ...]:
        """What the rules decided, in plain words: escalations first, then changes, re-screening."""
        m = self._m
        said = [self._enrolment.escalation_reply(e, due.user.injury) for e in outcome.escalations]
        for change in outcome.transitions:
            key = f"change_{change.reason}"
            if change.status is Status.ESCALATED:
                key = "change_escalated"
            elif change.status is Status.PAUSED:
                continue
            phase = self._content.phase(change.phase) if change.phase else None
            if key in m:
                said.append(Reply(m.render(key, phase=phase.name if phase else "",
                                           goal=phase.goal if phase else "")))  # fmt: skip
        if any(n.kind == "rescreen" for n in outcome.notices):
            said.append(self._rescreen(due))
        return tuple(said)

    def _rescreen(self, due: DuePrompt) -> Reply:
        flags = self._content.red_flags
        questions = "\n".join(
            self._m.render("rescreen_question", number=n, question=f.question)
            for n, f in enumerate(flags, start=1)
        )
        step = f"{FLAG}:{due.check_in_id}"
        buttons = [Button(str(n), Choice(step, f.id)) for n, f in enumerate(flags, start=1)]
        none = (Button(self._m.render("button_none_of_these"), Choice(step, NONE_OF_THESE)),)
        return Reply(
            self._m.render_markup("rescreen", questions=questions), rows(buttons, 6) + (none,)
        )

    def _instructions(self, due: DuePrompt) -> tuple[Reply, ...]:
        course, number = self._snapshot(due)
        replies = []
        for exercise_id in self._course.plan(course, number):
            e = self._content.exercise(exercise_id)
            steps = "\n".join(self._m.render("instructions_step", number=n, text=t)
                              for n, t in enumerate(e.steps, start=1))  # fmt: skip
            replies.append(Reply(self._m.render_markup(
                "instructions", name=escape(e.name), dosage=escape(e.dosage), steps=steps,
                should_feel=escape(e.should_feel), stop_if=escape(e.stop_if),
            )))  # fmt: skip
        return tuple(replies)

    # Commands --------------------------------------------------------------------------------

    async def today(self, who: Who) -> Outcome:
        """/today: today's prompt (today's check-in is made now if the daily one hasn't come)."""
        now = self._clock()
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None or user.enrolled_at is None or user.timezone is None:
                return Outcome((Reply(self._m.render("not_enrolled")),))
            zone = ZoneInfo(user.timezone)
            today = now.astimezone(zone).date()
            if today <= enrolment_date(user):
                return Outcome((Reply(self._m.render(
                    "no_check_in_today", time=_hhmm(user), timezone=intake.zone_label(user.timezone),
                )),))  # fmt: skip
            check_in = await self._today_check_in(session, user, today, now)
            due = (await dispatch.load_prompts(session, [check_in]))[0]
        decision = self.decide(due)
        if decision.reply is None or decision.pause:
            return Outcome((Reply(self._m.render("program_over")),))
        return Outcome((decision.reply,))

    async def _today_check_in(
        self, session: AsyncSession, user: repo.UserRecord, today: date, now: datetime
    ) -> int:
        # Shown now: created as sent, or a pending one marked sent (not sent again).
        check_in, created = await repo.show_check_in(session, user.id, today, now=now)
        # Today's prompt has now been given: the scheduled one moves to tomorrow.
        if created and user.next_prompt_at and user.timezone and user.reminder_time:
            zone = ZoneInfo(user.timezone)
            if user.next_prompt_at.astimezone(zone).date() == today:
                tomorrow = user.next_prompt_at + timedelta(hours=1)
                following = next_prompt_at(user.reminder_time, zone, tomorrow)
                await repo.update_user(session, user.id, now, next_prompt_at=following)
        return check_in.id

    async def set_prompts(self, who: Who, off: str | None) -> Outcome:
        """/pause, /resume and /stop."""
        now = self._clock()
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None or user.enrolled_at is None:
                return Outcome((Reply(self._m.render("not_enrolled")),))
            changes: dict[str, object] = {"prompts_off": off}
            if off is None and user.reminder_time and user.timezone:
                zone = ZoneInfo(user.timezone)
                assert user.enrolled_at is not None
                changes["next_prompt_at"] = first_prompt_at(
                    user.reminder_time, zone, now, user.enrolled_at
                )
            await repo.update_user(session, user.id, now, **changes)
        if off is None:
            text = self._m.render(
                "resumed", time=_hhmm(user), timezone=intake.zone_label(user.timezone or "UTC")
            )
        else:
            text = self._m.render("paused" if off == "paused" else "stopped")
        return Outcome((Reply(text),))

    async def _set_weekly(self, who: Who, on: bool) -> Outcome:
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None or user.enrolled_at is None:
                return Outcome((Reply(self._m.render("not_enrolled")),))
            await repo.update_user(session, user.id, self._clock(), weekly_summary=on)
        return Outcome(
            (Reply(self._m.render("weekly_changed_on" if on else "weekly_changed_off")),)
        )

    async def settings_press(self, who: Who, value: str) -> Outcome:
        """A button on /settings."""
        if value in ("time", "timezone"):
            return await self._enrolment.ask_setting(who, value)
        if value in ("pause", "resume"):
            return await self.set_prompts(who, "paused" if value == "pause" else None)
        if value in ("weekly_on", "weekly_off"):
            return await self._set_weekly(who, value == "weekly_on")
        return Outcome(accepted=False, notice=self._m.render("stale_button"))

    async def settings(self, who: Who) -> Outcome:
        """/settings: check-in time, zone and whether prompts are on, with buttons to change."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
        if user is None or user.enrolled_at is None:
            return Outcome((Reply(self._m.render("not_enrolled")),))
        m = self._m
        state = {None: "on", "paused": "paused", "stopped": "stopped"}.get(
            user.prompts_off, "paused"
        )
        toggle = ("resume", "button_resume") if user.prompts_off else ("pause", "button_pause")
        on = user.weekly_summary
        weekly = ("weekly_off", "button_weekly_off") if on else ("weekly_on", "button_weekly_on")
        buttons = rows([
            Button(m.render("button_change_time"), Choice("settings", "time")),
            Button(m.render("button_change_timezone"), Choice("settings", "timezone")),
            Button(m.render(toggle[1]), Choice("settings", toggle[0])),
            Button(m.render(weekly[1]), Choice("settings", weekly[0])),
        ], 2)  # fmt: skip
        text = m.render("settings", time=_hhmm(user), timezone=intake.zone_label(user.timezone or "UTC"),
                        prompts=m.render(f"settings_prompts_{state}"),
                        weekly=m.render("settings_weekly_on" if on else "settings_weekly_off"))  # fmt: skip
        return Outcome((Reply(text, buttons),))


def _join(parts: list[str], recorded: str | None) -> str:
    return "\n\n".join([*parts, *([recorded] if recorded else [])])


def _hhmm(user: repo.UserRecord) -> str:
    return user.reminder_time.strftime("%H:%M") if user.reminder_time else "--:--"
