"""The daily check-in: the day's prompt and every answer to it, one message edited in place.

The prompt lists the day's exercises (the same `plan_for` the simulator runs) and asks, one tap
at a time: did you do them (done / partly / not today), the worst pain during them, pain at rest
now, then whatever the rules ask that day (a re-screen, function checks, the weekly screen, the
function score, "have you seen a professional yet?"). Each answer goes to the check-in of the
prompt's own day (a late answer stays with its day), is stored and run through the rules in one
transaction, and only then acknowledged; pressing another value corrects it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from coachbot.clock import Clock
from coachbot.content import Content, Exercise, escape
from coachbot.domain import intake
from coachbot.domain.course import Asks, Course, advance, asks_for, rescreen
from coachbot.domain.phases import PHASES, Status, rest_pain_limit
from coachbot.domain.plan import plan_for
from coachbot.domain.progress import weekly_due
from coachbot.domain.schedule import first_prompt_at, next_prompt_at
from coachbot.domain.screening import CHECK_IDS
from coachbot.domain.triage import Escalation
from coachbot.services import actions as a
from coachbot.services.advice import Advice
from coachbot.services.course import CourseService, DayOutcome, day_input, enrolment_date
from coachbot.services.replies import Button, Keyboard, Outcome, Reply, rows
from coachbot.services.who import Who
from coachbot.storage import dispatch
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.dispatch import DuePrompt
from coachbot.storage.repositories import DayAnswers, UserRecord

WITH_EXERCISE_PAIN = (a.Session.DONE, a.Session.PARTLY)
SCORE = range(11)
CAPTION_LIMIT = 1024  # Telegram's caption limit, in UTF-16 code units


@dataclass(frozen=True)
class PromptDecision:
    """What to do with one due prompt."""

    reply: Reply | None  # the message to send (None: nothing, e.g. the program is over)
    pause: bool = False  # a week of silence paused the course: say so, and stop the prompts
    weekly: bool = False  # send the weekly summary before the prompt
    pictures: tuple[Reply, ...] = ()  # a new phase's new exercises, shown before the prompt


@dataclass(frozen=True)
class DayView:
    """One check-in day as the rules and the stored answers make it."""

    check_in: int
    number: int  # the program day
    user: UserRecord
    before: Course  # at the end of the day before: what the day's plan and questions come from
    after: Course  # with the day's answers applied
    answers: DayAnswers
    screened: frozenset[str]  # screenings answered that day (weekly, rescreen)
    plan: tuple[Exercise, ...]
    asks: Asks
    rescreen: tuple[str, ...]  # the R flags re-asked that day (after a flare-up or pain 8+)
    last: bool  # no later day has answers: `after` is the whole course


Step = tuple[str, str | None]  # (question, its check id)


class CheckInService:
    """Builds each day's prompt and takes the answers to it."""

    def __init__(self, db: Database, content: Content, clock: Clock, course: CourseService) -> None:
        self._db = db
        self._content = content
        self._m = content.messages
        self._clock = clock
        self._course = course
        self._advice = Advice(content)

    # The prompt ------------------------------------------------------------------------------

    async def decide(self, due: DuePrompt) -> PromptDecision:
        """The prompt for a due check-in (see `decide_all`)."""
        return (await self.decide_all([due]))[0]

    async def decide_all(self, dues: Sequence[DuePrompt]) -> list[PromptDecision]:
        """The prompts for due check-ins, read together (a handful of queries for the batch): a
        course paused by a week of silence (rule 9) gets the pause message instead; a completed
        one nothing.

        Each prompt's replay and rendering (a fraction of a millisecond) is followed by a yield
        to the event loop: the dispatcher decides the next batch while the current one is sent,
        and 100 prompts decided in one go held up the answers to those sends, and every user's
        update, for 10-20 ms."""
        async with self._db.read() as session:
            inputs = await self._inputs(session, dues)
        decisions = []
        for due, (intake_flags, answers, screened) in zip(dues, inputs, strict=True):
            decisions.append(self._decision(due, self._day_view(due, intake_flags, answers,
                                                                screened)))  # fmt: skip
            await asyncio.sleep(0)
        return decisions

    def _decision(self, due: DuePrompt, view: DayView) -> PromptDecision:
        status = view.before.status
        if status is Status.COMPLETED:
            return PromptDecision(None)
        if status is Status.PAUSED:
            return PromptDecision(Reply(self._m.render("paused_for_silence")), pause=True)
        lead = [self._m.render("prompt_nudge")] if any(
            n.kind == "nudge" and n.day == view.number - 1 for n in view.before.notices
        ) else []  # fmt: skip
        weekly = due.user.weekly_summary and weekly_due(view.number)
        return PromptDecision(self._render(view, lead=lead), weekly=weekly,
                              pictures=self._new_exercises(view))  # fmt: skip

    def _new_exercises(self, view: DayView) -> tuple[Reply, ...]:
        """On the first day of a phase the course moved on to, the pictures of its exercises
        that the phase before did not have (issue 11)."""
        course = view.before
        moved = [
            t for t in course.transitions if t.day == view.number - 1 and t.reason == "progression"
        ]
        if not moved or course.phase is None or course.phase_since != view.number:
            return ()
        before = PHASES[PHASES.index(course.phase) - 1]
        known = {e.id for e in self._course.catalogue.candidates(before, course.facts.injury)}
        return tuple(self.picture(e) for e in view.plan if e.id not in known)

    def picture(self, e: Exercise) -> Reply:
        """An exercise's animation with its name and dosage."""
        return Reply(
            self._m.render("exercise_picture", name=e.name, dosage=e.dosage), animation=e.id
        )

    async def today(self, who: Who) -> Outcome:
        """/today: today's check-in (made now if the daily one hasn't come), or day 0's plan."""
        now = self._clock()
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None or user.enrolled_at is None or user.timezone is None:
                return Outcome((Reply(self._m.render("not_enrolled")),))
            today = now.astimezone(ZoneInfo(user.timezone)).date()
            start = enrolment_date(user)
            if today <= start:
                course = await self._course.replay(session, user, start)
                return Outcome(self.day_zero(course) or (Reply(self._m.render("program_over")),))
            check_in, created = await repo.show_check_in(session, user.id, today, now=now)
            if created:
                await self._move_prompt_after(session, user, today, now)
            view = await self._view(
                session, (await dispatch.load_prompts(session, [check_in.id]))[0]
            )
        if view.before.status is Status.COMPLETED:
            return Outcome((Reply(self._m.render("program_over")),))
        return Outcome((self._render(view),))

    def day_zero(self, course: Course, *, pictures: bool = False) -> tuple[Reply, ...]:
        """Day 0's plan (rule 8: sent at the end of enrolment), with each exercise's picture
        when `pictures`; nothing when there is no program."""
        if course.status is not Status.ACTIVE or course.phase is None:
            return ()
        plan = self._plan(course, 0)
        shown = tuple(self.picture(e) for e in plan) if pictures else ()
        return (Reply(self._advice.day_zero(course, plan)), *shown)

    async def exercises(self, who: Who) -> Outcome:
        """/exercises: the exercises of the current phase (for this injury), a button each."""
        course = None
        async with self._db.read() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is not None and user.enrolled_at is not None:
                course = await self._course.replay(session, user, enrolment_date(user))
        if course is None:
            return Outcome((Reply(self._m.render("not_enrolled")),))
        if course.status is not Status.ACTIVE or course.phase is None:
            return Outcome((Reply(self._m.render("exercises_none")),))
        listed = self._course.catalogue.candidates(course.phase, course.facts.injury)
        buttons = [Button(self._content.exercise(e.id).name, a.ShowExercise(e.id)) for e in listed]
        phase = self._content.phase(course.phase).name
        return Outcome((Reply(self._m.render("exercises_intro", phase=phase), rows(buttons, 1)),))

    async def show_exercise(self, who: Who, action: a.ShowExercise) -> Outcome:
        """One exercise's animation and instructions (any exercise of the content)."""
        if not any(e.id == action.exercise for e in self._content.exercises):
            return Outcome(accepted=False, notice=self._m.render("stale_button"))
        return Outcome(self.exercise_card(self._content.exercise(action.exercise)), accepted=False)

    def _plan(self, course: Course, day: int) -> tuple[Exercise, ...]:
        return tuple(
            self._content.exercise(e.id) for e in plan_for(course, day, self._course.catalogue)
        )

    async def _view(self, session: AsyncSession, due: DuePrompt) -> DayView:
        ((intake_flags, answers, screened),) = await self._inputs(session, [due])
        return self._day_view(due, intake_flags, answers, screened)

    async def _inputs(self, session: AsyncSession, dues: Sequence[DuePrompt]
                      ) -> list[tuple[list[tuple[str, bool]], list[DayAnswers], set[str]]]:  # fmt: skip
        """What each check-in's day is made of: the intake's red-flag answers, every day's
        answers, the screenings answered that day (three queries for all of them)."""
        users = [due.user.id for due in dues]
        intake = await repo.red_flag_answers_of(session, users, "intake")
        answers = await repo.day_answers_of(session, users)
        screened = await repo.screenings_of(session, [(due.user.id, due.day) for due in dues])
        return [(intake.get(due.user.id, []), answers.get(due.user.id, []),
                 screened.get((due.user.id, due.day), set())) for due in dues]  # fmt: skip

    def _day_view(self, due: DuePrompt, intake_flags: list[tuple[str, bool]],
                  answers: list[DayAnswers], screened: set[str]) -> DayView:  # fmt: skip
        user = due.user
        start = enrolment_date(user)
        number = (due.day - start).days
        before = self._course.course_from(user, start, intake_flags,
                                          [x for x in answers if x.day < due.day],
                                          through=number - 1)  # fmt: skip
        today = next((x for x in answers if x.day == due.day), DayAnswers(due.day))
        catalogue = self._course.catalogue
        after = advance(before, number, day_input(today), catalogue,
                        day_open=self._course.still_going(user, due.day))  # fmt: skip
        return DayView(check_in=due.check_in_id, number=number, user=user, before=before,
                       after=after, answers=today, screened=frozenset(screened),
                       plan=self._plan(before, number), asks=asks_for(before, number, catalogue),
                       rescreen=rescreen(after, number, catalogue),
                       last=all(x.day <= due.day for x in answers))  # fmt: skip

    # The flow of questions -------------------------------------------------------------------

    @staticmethod
    def _steps(view: DayView) -> list[Step]:
        """The day's questions in the order they are asked."""
        steps: list[Step] = []
        if view.before.status is Status.ACTIVE and view.plan:
            steps.append(("session", None))
            if view.answers.adherence in WITH_EXERCISE_PAIN:
                steps.append(("exercise_pain", None))
        steps.append(("rest_pain", None))
        if view.rescreen:
            steps.append(("rescreen", None))
        steps += [("check", check) for check in view.asks.checks]
        if view.asks.screen:
            steps.append(("weekly", None))
        if view.asks.function:
            steps.append(("function", None))
        if view.asks.seen:
            steps.append(("seen", None))
        return steps

    @staticmethod
    def _answered(view: DayView, step: Step) -> bool:
        answers = view.answers
        kind, check = step
        return {
            "session": answers.adherence is not None,
            "exercise_pain": answers.exercise_pain is not None,
            "rest_pain": answers.pain is not None,
            "rescreen": a.ScreenKind.RESCREEN in view.screened,
            "check": check in dict(answers.checks),
            "weekly": a.ScreenKind.WEEKLY in view.screened,
            "function": answers.function is not None,
            "seen": answers.seen,
        }[kind]

    def _next(self, view: DayView, skip: frozenset[str] = frozenset()) -> Step | None:
        return next((s for s in self._steps(view)
                     if s[0] not in skip and not self._answered(view, s)), None)  # fmt: skip

    # Rendering -------------------------------------------------------------------------------

    def _render(self, view: DayView, *, lead: list[str] | None = None, focus: Step | None = None,
                skip: frozenset[str] = frozenset()) -> Reply:  # fmt: skip
        """The check-in message: the day's plan, what is recorded, and the current question."""
        m = self._m
        course = view.before
        parts: list[str] = []
        if course.status is Status.ACTIVE and course.phase is not None:
            parts.append(m.render("prompt_header", day=view.number,
                                  phase=self._content.phase(course.phase).name))  # fmt: skip
            parts += lead or []
            parts.append(self._advice.exercises(view.plan, course.group))
            advice = self._advice.injury_advice(course, view.number)
            parts += [advice] if advice else []
        elif course.status is Status.PAUSED:
            parts += [m.render("prompt_paused_day", day=view.number), *(lead or [])]
        else:
            parts += [m.render("prompt_escalated", day=view.number), *(lead or [])]
        recorded = self._recorded(view)
        if recorded:
            parts.append(m.render_markup("recorded", what=", ".join(recorded)))
        step = focus or self._next(view, skip)
        question, buttons = self._question(view, step) if step else (m.render("checkin_done"), ())
        parts.append(question)
        extra: list[Button] = []
        if view.plan:
            extra.append(Button(m.render("button_instructions"), a.Instructions(view.check_in)))
        if course.status is Status.ESCALATED and course.escalated_by is not None:
            extra.append(Button(m.render("button_clear_start"), a.ClearStart(view.check_in)))
        if step is None:
            extra += [Button(m.render(f"button_revise_{q.value}"), a.Revise(view.check_in, q))
                      for q in self._revisable(view)]  # fmt: skip
        return Reply("\n\n".join(parts), buttons + rows(extra, 1))

    def _revisable(self, view: DayView) -> list[a.DailyQuestion]:
        asked = {kind for kind, _ in self._steps(view)}
        return [q for q in a.DailyQuestion if q.value in asked]

    def _recorded(self, view: DayView) -> list[str]:
        m, answers = self._m, view.answers
        said = []
        if answers.adherence:
            said.append(m.render(f"recorded_{answers.adherence}"))
        if answers.exercise_pain is not None:
            said.append(m.render("recorded_exercise_pain", pain=answers.exercise_pain))
        if answers.pain is not None:
            said.append(m.render("recorded_pain", pain=answers.pain))
        for _, passed in answers.checks:
            said.append(m.render("recorded_check_yes" if passed else "recorded_check_no"))
        if answers.function is not None and view.user.activity:
            said.append(m.render("recorded_function", activity=view.user.activity,
                                 score=answers.function))  # fmt: skip
        if answers.seen:
            said.append(m.render("recorded_seen"))
        if answers.cleared:
            said.append(m.render("recorded_cleared"))
        return said

    def _question(self, view: DayView, step: Step) -> tuple[str, Keyboard]:
        m, cid = self._m, view.check_in
        kind, check = step
        if kind == "session":
            buttons = [Button(m.render(f"button_{s.value}"), a.Did(cid, s)) for s in a.Session]
            return m.render("ask_session"), rows(buttons, 3)
        if kind == "exercise_pain":
            return m.render("ask_exercise_pain"), score_keyboard(lambda n: a.ExercisePain(cid, n))
        if kind == "rest_pain":
            return m.render("ask_rest_pain"), score_keyboard(lambda n: a.RestPain(cid, n))
        if kind == "check":
            assert check is not None
            limit = rest_pain_limit(view.before.group)
            question = self._m.render("ask_check", question=self._content.check(check).question
                                      .format(limit=limit))  # fmt: skip
            return question, rows([Button(m.render("button_yes"), a.Check(cid, check, True)),
                                   Button(m.render("button_no"), a.Check(cid, check, False))], 2)  # fmt: skip
        if kind == "function":
            activity = view.user.activity or ""
            return m.render("ask_function", activity=activity), score_keyboard(
                lambda n: a.Function(cid, n)
            )
        if kind == "seen":
            return m.render("ask_seen"), rows([Button(m.render("button_seen_yes"), a.Seen(cid, True)),
                                               Button(m.render("button_seen_no"), a.Seen(cid, False))], 2)  # fmt: skip
        screen = a.ScreenKind.RESCREEN if kind == "rescreen" else a.ScreenKind.WEEKLY
        flags = view.rescreen if kind == "rescreen" else view.asks.screen
        intro = "rescreen" if kind == "rescreen" else "weekly_screen_intro"
        return self.flag_list(intro, flags, lambda flag: a.Screen(cid, screen, flag))

    def flag_list(self, intro: str, flags: tuple[str, ...],
                  make: Callable[[str | None], a.Action]) -> tuple[str, Keyboard]:  # fmt: skip
        """Numbered red-flag questions, a button per number and "None of these" (one tap)."""
        questions = "\n".join(self._m.render("rescreen_question", number=n,
                                             question=self._content.red_flag(f).question)
                              for n, f in enumerate(flags, start=1))  # fmt: skip
        numbered = [Button(str(n), make(f)) for n, f in enumerate(flags, start=1)]
        none = (Button(self._m.render("button_none_of_these"), make(None)),)
        return self._m.render_markup(intro, questions=questions), rows(numbered, 6) + (none,)

    # Answers ---------------------------------------------------------------------------------

    async def answer(self, who: Who, action: a.Action) -> Outcome:
        """A button of a check-in. Stored, through the rules and committed in one transaction;
        then the message shows what is recorded and the next question."""
        assert isinstance(action, a.DAILY_ACTIONS)
        stale = Outcome(accepted=False, notice=self._m.render("stale_button"))
        if not self._valid(action):
            return stale
        async with self._db.transaction() as session:
            due = await self._own_check_in(session, who, action.check_in)
            if due is None:
                return stale
            view = await self._view(session, due)
            if isinstance(action, a.Instructions):
                return Outcome(self._instructions(view), accepted=False)
            if isinstance(action, a.Revise):
                focus: Step = (action.question.value, None)
                return Outcome(edit=self._render(view, focus=focus), notice=None)
            if isinstance(action, a.ClearStart | a.ClearCancel):
                return self._clearance_step(view, action)
            if isinstance(action, a.Seen) and not action.seen:
                return Outcome((Reply(self._m.render("seen_not_yet")),),
                               edit=self._render(view, skip=frozenset({"seen"})))  # fmt: skip
            answers = self._stored_answers(view, action)
            if answers is None:
                return stale
            if not answers:  # the same answer again: nothing changes, the message stays
                return Outcome(accepted=False, notice=self._m.render("already_recorded"))
            await self._course.store(session, due.user, due.day, **answers)
            view = self._refresh(view, answers)
            # The course is the day's view unless later days were answered (a late answer to an
            # older prompt): then every day is replayed.
            course = view.after if view.last else await self._course.replay(
                session, due.user, enrolment_date(due.user))  # fmt: skip
            outcome = await self._course.record(session, due.user, course, due.day)
            if isinstance(action, a.RestPain) and due.user.prompts_off == a.PromptsOff.SILENT:
                await self._resume(session, due.user)  # a rating brings a silent user back
        return Outcome(self._tell(view, outcome, action), edit=self._render(view))

    def _refresh(self, view: DayView, answers: dict[str, object]) -> DayView:
        """`view` once `answers` are stored: the days before are as they were, so only the day
        itself is run through the rules again."""
        today = repo.with_answers(view.answers, **answers)
        screening = answers.get("screening")
        screened = view.screened | {screening} if isinstance(screening, str) else view.screened
        catalogue = self._course.catalogue
        after = advance(view.before, view.number, day_input(today), catalogue,
                        day_open=self._course.still_going(view.user, today.day))  # fmt: skip
        return replace(view, after=after, answers=today, screened=screened,
                       rescreen=rescreen(after, view.number, catalogue))  # fmt: skip

    def _stored_answers(self, view: DayView, action: a.Action) -> dict[str, object] | None:
        """What `action` stores ({}: already recorded; None: not a valid answer that day)."""
        now = view.answers
        if isinstance(action, a.Did):
            return {} if now.adherence == action.session else {"adherence": action.session.value}
        if isinstance(action, a.ExercisePain):
            if now.adherence not in WITH_EXERCISE_PAIN:
                return None
            return {} if now.exercise_pain == action.pain else {"exercise_pain": action.pain}
        if isinstance(action, a.RestPain):
            return {} if now.pain == action.pain else {"pain": action.pain}
        if isinstance(action, a.Check):
            same = dict(now.checks).get(action.check) == action.passed
            return {} if same else {"checks": {action.check: action.passed}}
        if isinstance(action, a.Function):
            if not view.user.activity:
                return None
            return {} if now.function == action.score else {"function": action.score}
        if isinstance(action, a.Seen):
            return {} if now.seen else {"seen": True}
        if isinstance(action, a.ClearConfirm):
            if view.after.status is not Status.ESCALATED:
                return {} if now.cleared else {"cleared": True}
            return {"cleared": True}
        if isinstance(action, a.Screen):
            asked = view.rescreen if action.kind is a.ScreenKind.RESCREEN else view.asks.screen
            if action.flag is None:  # none of these: a "no" to each one not answered yes
                if action.kind in view.screened and not set(asked) - set(now.red_flags):
                    return {}
                return {"red_flags": {f: False for f in asked if f not in now.red_flags},
                        "screening": action.kind.value}  # fmt: skip
            if action.flag in now.red_flags:
                return {}
            return {"red_flags": {action.flag: True}, "screening": action.kind.value}
        return None

    def _clearance_step(self, view: DayView, action: a.Action) -> Outcome:
        m = self._m
        if isinstance(action, a.ClearCancel):
            return Outcome((Reply(m.render("clear_cancelled")),), edit=self._render(view))
        if view.after.status is not Status.ESCALATED:
            return Outcome(accepted=False, notice=m.render("already_recorded"))
        confirm = rows([Button(m.render("button_clear_confirm"), a.ClearConfirm(view.check_in)),
                        Button(m.render("button_clear_cancel"), a.ClearCancel(view.check_in))], 1)  # fmt: skip
        return Outcome(edit=Reply(m.render("clear_confirm"), confirm))

    def _tell(self, view: DayView, outcome: DayOutcome, action: a.Action) -> tuple[Reply, ...]:
        """What the rules decided, in plain words: escalations first, then phase changes."""
        injury = view.user.injury
        said = [self._advice.escalation(e, injury) for e in outcome.escalations]
        said += [r for r in map(self._advice.phase_change, outcome.transitions) if r is not None]
        if isinstance(action, a.Seen):
            said.append(Reply(self._m.render("seen_thanks")))
        if isinstance(action, a.Screen) and action.flag is None:
            said.append(Reply(self._m.render("rescreen_clear")))
        return tuple(said)

    def _instructions(self, view: DayView) -> tuple[Reply, ...]:
        """Each of the day's exercises as its animation with the steps as its caption (what
        does not fit Telegram's caption follows as a message), then the pain guide."""
        replies = [reply for e in view.plan for reply in self.exercise_card(e)]
        if any(e.load != "rest" for e in view.plan):
            replies.append(Reply(self._advice.pain_guide(view.before.group)))
        return tuple(replies)

    def exercise_card(self, e: Exercise) -> tuple[Reply, ...]:
        """An exercise's animation, captioned with its instructions (issue 11)."""
        m = self._m
        steps = "\n".join(m.render("instructions_step", number=n, text=t)
                          for n, t in enumerate(e.steps, start=1))  # fmt: skip
        whole = m.render_markup("instructions", name=escape(e.name), dosage=escape(e.dosage),
                                steps=steps, should_feel=escape(e.should_feel),
                                stop_if=escape(e.stop_if))  # fmt: skip
        if utf16_len(whole) <= CAPTION_LIMIT:
            return (Reply(whole, animation=e.id),)
        head = m.render_markup("instructions_caption", name=escape(e.name), dosage=escape(e.dosage),
                               steps=steps)  # fmt: skip
        if utf16_len(head) > CAPTION_LIMIT:
            head = m.render_markup("instructions_caption", name=escape(e.name),
                                   dosage=escape(e.dosage), steps="")  # fmt: skip
            rest = m.render_markup("instructions", name=escape(e.name), dosage=escape(e.dosage),
                                   steps=steps, should_feel=escape(e.should_feel),
                                   stop_if=escape(e.stop_if))  # fmt: skip
        else:
            rest = m.render_markup("instructions_rest", should_feel=escape(e.should_feel),
                                   stop_if=escape(e.stop_if))  # fmt: skip
        return (Reply(head, animation=e.id), Reply(rest))

    def _valid(self, action: a.Action) -> bool:
        """Values in range and ids that exist (a forged button changes nothing)."""
        if isinstance(action, a.ExercisePain | a.RestPain):
            return action.pain in SCORE
        if isinstance(action, a.Function):
            return action.score in SCORE
        if isinstance(action, a.Check):
            return action.check in CHECK_IDS
        if isinstance(action, a.Screen):
            return action.flag is None or action.flag in self._content.levels
        return True

    @staticmethod
    async def _own_check_in(session: AsyncSession, who: Who, check_in: int) -> DuePrompt | None:
        found = await dispatch.load_prompts(session, [check_in])
        if not found or found[0].user.telegram_user_id != who.telegram_user_id:
            return None
        if found[0].user.enrolled_at is None:
            return None
        return found[0]

    @staticmethod
    async def _move_prompt_after(
        session: AsyncSession, user: UserRecord, today: date, now: datetime
    ) -> None:
        """Today's prompt has been given on request: the scheduled one moves to tomorrow."""
        if user.next_prompt_at and user.timezone and user.reminder_time:
            zone = ZoneInfo(user.timezone)
            if user.next_prompt_at.astimezone(zone).date() == today:
                tomorrow = user.next_prompt_at + timedelta(hours=1)
                following = next_prompt_at(user.reminder_time, zone, tomorrow)
                await repo.update_user(session, user.id, now, next_prompt_at=following)

    async def _resume(self, session: AsyncSession, user: UserRecord) -> None:
        now = self._clock()
        due = None
        if user.reminder_time and user.timezone and user.enrolled_at:
            due = first_prompt_at(
                user.reminder_time, ZoneInfo(user.timezone), now, user.enrolled_at
            )
        await repo.update_user(session, user.id, now, prompts_off=None, next_prompt_at=due)

    # Typed answers and /symptom -----------------------------------------------------------------

    async def typed_number(self, who: Who, text: str) -> Outcome | None:
        """A number 0-10 typed after a prompt answers its current 0-10 question (the pain at
        rest unless the exercise pain or the function score is being asked). None: not a number."""
        try:
            number = intake.parse_pain(text)
        except intake.InvalidAnswer:
            return None
        found = await self._latest(who)
        if found is None:
            return None  # an enrolment or settings answer
        view = found[1]
        if view is None:
            return Outcome((Reply(self._m.render("typed_pain_no_prompt")),), accepted=False)
        step = self._next(view)
        kind = step[0] if step else None
        action: a.Action
        if kind == "exercise_pain":
            action = a.ExercisePain(view.check_in, number)
        elif kind == "function":
            action = a.Function(view.check_in, number)
        else:
            action = a.RestPain(view.check_in, number)
        outcome = await self.answer(who, action)
        if outcome.edit is None:  # already recorded: say so in the chat
            return Outcome(
                (Reply(outcome.notice or self._m.render("already_recorded")),), accepted=False
            )
        return Outcome((*outcome.replies, outcome.edit))

    async def typed_text(self, who: Who) -> Outcome | None:
        """Words typed while today's check-in waits for a tap: the open question again, with its
        buttons. None: no question of today's check-in is open (or it is an enrolment or settings
        answer)."""
        found = await self._latest(who)
        view = found[1] if found else None
        if found is None or view is None or view.answers.day != found[0]:
            return None
        if view.before.status is Status.COMPLETED or self._next(view) is None:
            return None
        again = self._render(view)
        text = f"{self._m.render('press_a_button')}\n\n{again.text}"
        return Outcome((Reply(text, again.buttons),), accepted=False)

    async def _latest(self, who: Who) -> tuple[date, DayView | None] | None:
        """The user's local date and the latest check-in whose prompt was sent (None: not an
        enrolled user with nothing else pending, i.e. typing answers enrolment or a setting)."""
        async with self._db.read() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if (user is None or user.enrolled_at is None or user.enrolment_step is not None
                    or user.timezone is None):  # fmt: skip
                return None
            today = self._clock().astimezone(ZoneInfo(user.timezone)).date()
            latest = await repo.latest_sent_check_in(session, user.id)
            if latest is None:
                return today, None
            return today, await self._view(
                session, (await dispatch.load_prompts(session, [latest.id]))[0]
            )

    async def symptom(self, who: Who) -> Outcome:
        """/symptom: every red flag as a one-tap question, at any time."""
        flags = tuple(flag.id for flag in self._content.red_flags)
        text, buttons = self.flag_list("symptom_intro", flags, a.Symptom)
        return Outcome((Reply(text, buttons),))

    async def report_symptom(self, who: Who, action: a.Symptom) -> Outcome:
        """A /symptom button: a red flag escalates at once (rule 1), stored on today's date."""
        m = self._m
        if action.flag is None:
            return Outcome((Reply(m.render("symptom_none")),))
        if action.flag not in self._content.levels:
            return Outcome(accepted=False, notice=m.render("stale_button"))
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None or user.enrolled_at is None or user.timezone is None:
                # Not enrolled (or still enrolling): the advice all the same, nothing stored.
                level = self._content.red_flag(action.flag).level
                return Outcome((self._advice.escalation(Escalation(level, action.flag), None),))
            today = self._clock().astimezone(ZoneInfo(user.timezone)).date()
            if action.flag in await repo.flags_reported_on(session, user.id, today):
                return Outcome(accepted=False, notice=m.render("already_recorded"))
            outcome = await self._course.apply(session, user, today, red_flags={action.flag: True},
                                               screening="symptom")  # fmt: skip
        said = [self._advice.escalation(e, user.injury) for e in outcome.escalations]
        return Outcome(tuple(said) or (Reply(m.render("already_recorded")),))


def utf16_len(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units (the markup counted too: on the safe side)."""
    return len(text.encode("utf-16-le")) // 2


def score_keyboard(make: Callable[[int], a.Action]) -> Keyboard:
    """0-10 in two rows, the way people read a pain scale."""
    buttons = [Button(str(n), make(n)) for n in SCORE]
    return (tuple(buttons[:6]), tuple(buttons[6:]))
