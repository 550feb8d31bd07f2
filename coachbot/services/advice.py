"""The coach's words for what the rules decided: escalation advice, phase changes, a day's plan.

Shared by enrolment (day 0) and the daily check-in, so a plan or an escalation reads the same
wherever it is shown. Plain data out (`Reply`), no storage.
"""

from __future__ import annotations

from collections.abc import Sequence

from coachbot.content import Content, Exercise, escape
from coachbot.domain.course import Course, Transition
from coachbot.domain.pain import ZONE_TOPS
from coachbot.domain.phases import Group, Status
from coachbot.domain.screening import is_screen_day
from coachbot.domain.triage import Escalation
from coachbot.services.actions import Report
from coachbot.services.replies import Button, Reply

EVERY_KEYS = {2: "every_other_day", 3: "every_third_day"}
ADVICE_DAYS = (0, 1)  # advice without an end date is shown on these days and weekly


class Advice:
    """Renders what the rules decided, from the content's message catalogue."""

    def __init__(self, content: Content) -> None:
        self._content = content
        self._m = content.messages
        self._exercise_lists: dict[tuple[tuple[str, ...], Group | None], str] = {}

    def escalation(self, escalation: Escalation, injury: str | None) -> Reply:
        """Spec §4: what to do and how soon, why, the exercises meanwhile, what to do if it gets
        worse before the appointment, and the pain log for the clinician."""
        reason = self._content.reason(escalation.reason, injury)
        advice = self._m.render(f"escalation_{escalation.level.value}", reason=reason)
        text = f"{advice}\n{self._m.render('escalation_offer_log')}"
        return Reply(text, ((Button(self._m.render("button_report"), Report()),),))

    def phase_change(self, change: Transition) -> Reply | None:
        """One sentence for a change of phase or status, with its reason (None: nothing to say,
        e.g. an escalation, whose advice is said on its own)."""
        if change.status is Status.ESCALATED:
            return None
        key = f"phase_change_{change.reason}"
        if key not in self._m:
            return None
        phase = self._content.phase(change.phase).name if change.phase else ""
        return Reply(self._m.render_markup(key, phase=escape(phase),
                                           why=self._m.render(f"why_{change.reason}")))  # fmt: skip

    def exercises(self, plan: Sequence[Exercise], group: Group | None) -> str:
        """The day's exercises, each with its dosage and how often, then the pain guide (made
        once per plan and group: plans come from the content, so there are few, and every
        prompt shows one)."""
        key = (tuple(e.id for e in plan), group)
        text = self._exercise_lists.get(key)
        if text is None:
            text = self._exercise_lists[key] = self._exercises(plan, group)
        return text

    def _exercises(self, plan: Sequence[Exercise], group: Group | None) -> str:
        m = self._m
        if not any(e.load != "rest" for e in plan):
            rest = [m.render("prompt_exercise", name=e.name, dosage=e.dosage, summary=e.summary)
                    for e in plan]  # fmt: skip
            return "\n".join([m.render("prompt_rest_day"), *rest])
        lines = [m.render("prompt_exercises_intro")]
        for e in plan:
            dosage = e.dosage
            if e.every in EVERY_KEYS:
                dosage = f"{dosage} ({m.render(EVERY_KEYS[e.every])})"
            lines.append(m.render("prompt_exercise", name=e.name, dosage=dosage, summary=e.summary))
        return "\n".join([*lines, self.pain_guide(group)])

    def pain_guide(self, group: Group | None) -> str:
        """The one exercise-pain scale, with this group's zones (Silbernagel 2007)."""
        fine, acceptable = ZONE_TOPS[group is Group.TENDON]
        return self._m.render("pain_guide", fine=f"0-{fine}", acceptable=f"{fine + 1}-{acceptable}",
                              too_much=str(acceptable + 1))  # fmt: skip

    def injury_advice(self, course: Course, day: int) -> str | None:
        """The injury's own advice that applies on `day` (sitting, no massage or heat...)."""
        items = []
        for advice in self._content.injury(course.facts.injury).advice:
            if advice.max_onset_age is not None:
                shown = course.onset_age(day) <= advice.max_onset_age
            else:
                shown = day in ADVICE_DAYS or is_screen_day(day)
            if shown:
                items.append(self._m.render("advice_item", text=advice.text))
        return "\n".join([self._m.render("advice_intro"), *items]) if items else None

    def day_zero(self, course: Course, plan: Sequence[Exercise]) -> str:
        """Day 0's plan, sent at the end of enrolment: the phase, today's exercises, advice."""
        assert course.phase is not None
        phase = self._content.phase(course.phase)
        parts = [self._m.render("plan_intro", phase=phase.name, goal=phase.goal),
                 self.exercises(plan, course.group)]  # fmt: skip
        advice = self.injury_advice(course, 0)
        return "\n\n".join([*parts, *([advice] if advice else [])])
