"""/progress, the weekly summary and /report: the course as the user and a clinician see it.

Figures come from the same replay the rules run on (CourseService.replay) and the pure
`domain/progress.summarise`; words from the message catalogue. Pictures and PDFs are drawn by
`Renderer`, in a separate process: matplotlib takes 200-300 ms a figure and holds the GIL for
much of it, so even a worker thread stalled the event loop by 50-100 ms (measured); a process
stalls it by about 2 ms.
"""

from __future__ import annotations

import asyncio
import html
import multiprocessing
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TypeVar
from zoneinfo import ZoneInfo

from coachbot.charts import ChartWords, chart_png
from coachbot.clock import Clock
from coachbot.content import Content
from coachbot.domain.course import Course, begin
from coachbot.domain.progress import Adherence, LogDay, Progress, summarise
from coachbot.domain.screening import asked_at_intake
from coachbot.domain.triage import facts_of
from coachbot.reports import ReportData, Section, report_pdf
from coachbot.services.course import CourseService, enrolment_date
from coachbot.services.data_rights import Document
from coachbot.services.replies import Outcome, Reply
from coachbot.services.who import Who
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """Everything the summary and the report show, read in one transaction."""

    user: repo.UserRecord
    start: date
    course: Course
    progress: Progress
    intake_answers: list[tuple[str, bool]]
    later_flags: list[tuple[date, str]]
    phases: list[repo.PhaseRecord]
    escalations: list[repo.EscalationRecord]


def _plain(text: str) -> str:
    """Catalogue HTML as plain text, for the PDF."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


PRELOAD = ["matplotlib.figure", "matplotlib.backends.backend_agg",
           "matplotlib.backends.backend_pdf", "coachbot.charts", "coachbot.reports"]  # fmt: skip


class Renderer:
    """One worker process that draws charts and PDFs; started on first use, restarted if it
    dies. The fork server preloads matplotlib, so a (re)started worker is ready at once."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, draw: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
            try:
                return await loop.run_in_executor(self._pool, draw, *args)
            except BrokenProcessPool:
                self._pool.shutdown(wait=False)
                self._pool = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class ProgressService:
    def __init__(self, db: Database, content: Content, clock: Clock, course: CourseService,
                 renderer: Renderer) -> None:  # fmt: skip
        self._db = db
        self._content = content
        self._m = content.messages
        self._clock = clock
        self._course = course
        self._renderer = renderer

    async def _draw(self, draw: Callable[..., T], *args: object) -> T:
        return await self._renderer.run(draw, *args)

    # Reading ---------------------------------------------------------------------------------

    async def snapshot(self, telegram_user_id: int, *, history: bool = False) -> Snapshot | None:
        """What the user's progress is made of; `history` adds the phase and escalation logs
        (the report shows them; the summary does not)."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, telegram_user_id)
            if user is None:
                return None
            try:
                facts = facts_of(user)
            except ValueError:
                return None  # the intake is not answered yet
            now = self._clock()
            intake = await repo.red_flag_answers(session, user.id, "intake")
            answers = await repo.day_answers(session, user.id)
            if user.enrolled_at is None or user.timezone is None:
                # Mid-enrolment (an escalation during the screening): day 0 only.
                start = now.date()
                course = begin(facts, [f for f, yes in intake if yes], self._course.catalogue)
                today = 0
            else:
                start = enrolment_date(user)
                course = self._course.course_from(user, start, intake, answers)
                today = (now.astimezone(ZoneInfo(user.timezone)).date() - start).days
            log = [LogDay((a.day - start).days, a.adherence, a.pain) for a in answers]
            snapshot = Snapshot(
                user=user,
                start=start,
                course=course,
                progress=summarise(course, log, max(today, 0)),
                intake_answers=intake,
                later_flags=[(a.day, flag) for a in answers for flag in a.red_flags],
                phases=await repo.phase_history(session, user.id) if history else [],
                escalations=await repo.escalation_log(session, user.id) if history else [],
            )
        return snapshot

    # /progress and the weekly summary -----------------------------------------------------------

    async def progress(self, who: Who) -> tuple[Outcome, tuple[Document, ...]]:
        """/progress: the summary, then the chart as a photo."""
        snapshot = await self.snapshot(who.telegram_user_id)
        if snapshot is None or snapshot.user.enrolled_at is None:
            return Outcome((Reply(self._m.render("not_enrolled")),)), ()
        text = self._summary_text(snapshot)
        png = await self._draw(chart_png, snapshot.progress, self._chart_words())
        return Outcome((Reply(text),)), (Document("progress.png", png),)

    async def weekly(self, telegram_user_id: int) -> Reply | None:
        """The weekly summary: the /progress text, unprompted (the chart stays on /progress)."""
        snapshot = await self.snapshot(telegram_user_id)
        if snapshot is None or snapshot.user.enrolled_at is None:
            return None
        return Reply(self._m.render("weekly_intro") + "\n\n" + self._summary_text(snapshot))

    def chart_caption(self) -> str:
        return self._m.render("progress_chart_caption")

    def _summary_text(self, snapshot: Snapshot) -> str:
        m, p = self._m, snapshot.progress
        phase = self._content.phase(p.phase).name if p.phase else m.render("progress_phase_none")
        reasons = ", ".join(
            self._content.reason(e.reason, snapshot.user.injury) for e in p.open_escalations
        )
        return m.render_markup(
            "progress",
            day=str(p.today),
            injury=html.escape(self._content.injury(p.injury).label),
            phase=html.escape(phase),
            next_step=self._next_step(p),
            week=self._adherence(p.week),
            four_weeks=self._adherence(p.four_weeks),
            baseline=str(p.baseline),
            average=self._average(p.week_average),
            best=self._day(snapshot.start, p.best),
            worst=self._day(snapshot.start, p.worst),
            escalations=m.render("progress_open", reasons=reasons) if reasons else "",
        )

    def _next_step(self, p: Progress) -> str:
        m, step = self._m, p.next_step
        if step.kind != "progress":
            days = self._count("progress_more_day", "progress_more_days", step.days_left)
            return m.render_markup(f"progress_next_{step.kind}", days=days)
        name = html.escape(self._content.phase(step.next_phase or "maintain").name)
        also = []  # rule 7 d and e: fine exercise sessions and the function checks
        if step.fine_sessions_needed:
            also.append(m.render("progress_needs_sessions", count=step.fine_sessions_needed))
        if step.checks:
            also.append(m.render("progress_needs_checks", count=len(step.checks)))
        more = f" {m.render('progress_also', what=' and '.join(also))}" if also else ""
        if step.days_left == 0 and step.low_ratings_needed <= 1 and not also:
            return m.render_markup("progress_next_progress_ready", next=name,
                                   max_pain=str(step.max_pain))  # fmt: skip
        return (
            m.render_markup(
                "progress_next_progress",
                next=name,
                days=self._count("progress_more_day", "progress_more_days", step.days_left),
                ratings=self._count("progress_rating", "progress_ratings", step.low_ratings_needed),
                max_pain=str(step.max_pain),
            )
            + more
        )

    def _count(self, one: str, many: str, count: int) -> str:
        if count == 0:
            return self._m.render("progress_no_more_days")
        return self._m.render(one) if count == 1 else self._m.render(many, count=count)

    def _adherence(self, a: Adherence) -> str:
        key = "progress_adherence_partly" if a.partly else "progress_adherence"
        return self._m.render(key, done=a.done, days=a.days, partly=a.partly)

    def _average(self, average: Fraction | None) -> str:
        if average is None:
            return self._m.render("progress_no_ratings")
        return self._m.render("progress_average", average=_one_decimal(average))

    def _day(self, start: date, found: tuple[int, int] | None) -> str:
        if found is None:
            return self._m.render("progress_no_ratings")
        day, pain = found
        return self._m.render("progress_day", pain=pain, date=_date(start + timedelta(days=day)))

    def _chart_words(self) -> ChartWords:
        m = self._m
        names: dict[str, str] = {phase.id: phase.name for phase in self._content.phases}
        names |= {"escalated": m.render("chart_band_escalated"),
                  "paused": m.render("chart_band_paused")}  # fmt: skip
        return ChartWords(
            title=m.render("chart_title"), x_label=m.render("chart_x"), y_label=m.render("chart_y"),
            baseline=m.render("chart_baseline"), missed=m.render("chart_missed"),
            flare_up=m.render("chart_flare_up"), escalation=m.render("chart_escalation"),
            empty=m.render("chart_empty"), band_names=names,
        )  # fmt: skip

    # /report ---------------------------------------------------------------------------------

    async def report(self, who: Who) -> tuple[Outcome, tuple[Document, ...]]:
        """/report (and the button on every escalation message): the one-page PDF."""
        snapshot = await self.snapshot(who.telegram_user_id, history=True)
        if snapshot is None:
            return Outcome((Reply(self._m.render("report_not_ready")),)), ()
        pdf = await self._draw(report_pdf, self.report_data(snapshot))
        name = f"coachbot-report-{self._clock().date().isoformat()}.pdf"
        return Outcome((Reply(self._m.render("report_intro")),)), (Document(name, pdf),)

    def report_data(self, s: Snapshot) -> ReportData:
        m, p, c = self._m, s.progress, self._content

        def say(key: str, **values: object) -> str:
            return _plain(m.render(key, **values))

        facts = s.course.facts
        intake = say(
            "report_intake_line", injury=c.injury(facts.injury).label, age=facts.age,
            onset=say(f"button_onset_{facts.onset}").lower(), days=facts.onset_days_ago,
            location=say(f"button_location_{facts.location}"),
            grade=say("report_grade", grade=facts.grade) if facts.grade else "",
            pain=facts.baseline_pain,
        ) + " " + say(
            "report_intake_v2", mechanism=say(f"button_mechanism_{facts.mechanism}"),
            walking=say(f"button_walking_{facts.walking}"),
            previous=say(f"button_previous_injury_{'yes' if facts.previous_injury else 'no'}"),
            goal=say(f"button_goal_{facts.goal}"),
            activity=say("report_activity", activity=facts.activity, score=facts.function_baseline)
            if facts.activity else "",
        )  # fmt: skip
        yes = " ".join(c.red_flag(flag).question for flag, answer in s.intake_answers if answer)
        total = len(asked_at_intake(c.red_flags, facts))
        if len(s.intake_answers) < total:
            screening = say("report_red_flags_unfinished", answered=len(s.intake_answers),
                            count=total, questions=yes or say("report_none"))  # fmt: skip
        elif yes:
            no = sum(not answer for _, answer in s.intake_answers)
            screening = say("report_red_flags_some_yes", questions=yes, count=no)
        else:
            screening = say("report_red_flags_all_no", count=total)
        later = [say("report_red_flag_later", date=_date(day), day=(day - s.start).days,
                     question=c.red_flag(flag).question) for day, flag in s.later_flags]  # fmt: skip
        pain = say(
            "report_pain_line", baseline=p.baseline, average=_plain(self._average(p.week_average)),
            best=_plain(self._day(s.start, p.best)), worst=_plain(self._day(s.start, p.worst)),
            count=len(p.ratings), days=p.today,
        )  # fmt: skip
        adherence = say("report_adherence_line", week=_plain(self._adherence(p.week)),
                        four_weeks=_plain(self._adherence(p.four_weeks)))  # fmt: skip
        phases = [say("report_phase_line", date=_date(r.started_on, year=False),
                      phase=c.phase(r.phase).name if r.phase else "-",
                      reason=self._phase_reason(r.reason, s.user.injury)) for r in s.phases]  # fmt: skip
        escalations = [say(
            "report_escalation_line", date=_date(s.start + timedelta(days=e.program_day)),
            day=e.program_day, level=say(f"report_level_{e.level}"),
            reason=c.reason(e.reason, s.user.injury), cause=e.cause or "-",
        ) for e in s.escalations]  # fmt: skip
        prescribed = self._course.plan(s.course, max(p.today, 1)) if p.phase else ()
        exercises = "; ".join(say("report_exercise_line", name=c.exercise(e).name,
                                  dosage=c.exercise(e).dosage) for e in prescribed)  # fmt: skip
        return ReportData(
            title=say("report_title"),
            subtitle=say(
                "report_subtitle",
                produced=_date(self._clock().date()),
                day=p.today,
                enrolled=_date(s.start) if s.user.enrolled_at else "-",
            ),  # fmt: skip
            disclaimer=say("report_disclaimer"),
            before_chart=(
                Section(say("report_intake"), (intake, screening, *later)),
                Section(say("report_pain"), (pain, adherence)),
            ),
            after_chart=(
                Section(say("report_phases"), (" | ".join(phases) or say("report_none"),)),
                Section(say("report_escalations"), tuple(escalations) or (say("report_none"),)),
                Section(say("report_exercises"), (exercises or say("report_no_exercises"),)),
            ),
            progress=p,
            chart=self._chart_words(),
            more=say("report_more", count="{count}"),
            footer=say("report_page_full"),
            exercises=tuple(c.exercise(e) for e in prescribed),
        )

    def _phase_reason(self, reason: str, injury: str | None) -> str:
        key = f"report_reason_{reason}"
        if key in self._m:
            return _plain(self._m.render(key))
        return _plain(
            self._m.render("report_reason_escalated", reason=self._content.reason(reason, injury))
        )


def _one_decimal(value: Fraction) -> str:
    tenths = round(value * 10)  # Fraction rounds half to even; figures are shown, not compared
    return f"{tenths // 10}.{tenths % 10}"


def _date(day: date, *, year: bool = True) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b %Y' if year else '%b')}"
