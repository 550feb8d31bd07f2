"""The enrolment and settings questions as messages with buttons, and what to say to a wrong answer."""

from __future__ import annotations

from coachbot.content import Content
from coachbot.domain import intake
from coachbot.services.actions import Answer, IntakeFlag, Question
from coachbot.services.checkin import score_keyboard
from coachbot.services.replies import Button, Keyboard, Reply, rows

REMINDER_TIMES = ("07:00", "08:00", "09:00", "12:00", "18:00", "20:00")
COMMON_ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
                "Asia/Kolkata", "Australia/Sydney")  # fmt: skip
ONSET_DAY_BUTTONS = ((0, "button_days_0"), (1, "button_days_1"), (2, None), (3, None),
                     (7, None), (14, None))  # fmt: skip
# Questions answered by typing as well as by tapping; the rest are buttons only.
TYPED = frozenset({Question.AGE, Question.ONSET_DAYS, Question.BASELINE_PAIN, Question.ACTIVITY,
                   Question.FUNCTION_BASELINE, Question.REMINDER_TIME, Question.TIMEZONE,
                   Question.NEW_TIME, Question.NEW_TIMEZONE})  # fmt: skip
# (question, the values its buttons give, the message key prefix of their labels, per row)
CHOICES: dict[Question, tuple[tuple[str, ...], str, int]] = {
    Question.CONSENT: (("yes", "no"), "button_consent", 1),
    Question.ONSET: (intake.ONSETS, "button_onset", 2),
    Question.MECHANISM: (intake.MECHANISMS, "button_mechanism", 1),
    Question.LOCATION: (intake.LOCATIONS, "button_location", 1),
    Question.GRADE: (intake.GRADES, "button_grade", 2),
    Question.WALKING: (intake.WALKING, "button_walking", 1),
    Question.PREVIOUS_INJURY: (intake.YES_NO, "button_previous_injury", 2),
    Question.GOAL: (intake.GOALS, "button_goal", 1),
}
INVALID = {Question.AGE: "invalid_age", Question.ONSET_DAYS: "invalid_onset_days",
           Question.BASELINE_PAIN: "invalid_pain", Question.FUNCTION_BASELINE: "invalid_pain",
           Question.ACTIVITY: "invalid_activity", Question.REMINDER_TIME: "invalid_time",
           Question.NEW_TIME: "invalid_time", Question.TIMEZONE: "invalid_timezone",
           Question.NEW_TIMEZONE: "invalid_timezone"}  # fmt: skip


class Questions:
    """Renders each question of the enrolment and settings dialogs."""

    def __init__(self, content: Content, default_zone: str) -> None:
        self._content = content
        self._m = content.messages
        self._default_zone = default_zone

    def ask(self, question: Question, *, lead: str | None = None, lead_text: str | None = None,
            activity: str | None = None) -> Reply:  # fmt: skip
        """The question, optionally after a leading message (e.g. why it is asked again)."""
        text, buttons = self._parts(question, activity)
        first = lead_text or (self._m.render(lead) if lead else None)
        return Reply(f"{first}\n\n{text}" if first else text, buttons)

    def ask_flag(self, flag: str, number: int, count: int, *, intro: bool = False) -> Reply:
        """One red-flag question of the enrolment screening (yes = the warning sign)."""
        m = self._m
        text = m.render("ask_red_flag", number=number, count=count,
                        question=self._content.red_flag(flag).question)  # fmt: skip
        buttons = rows([Button(m.render("button_yes"), IntakeFlag(flag, True)),
                        Button(m.render("button_no"), IntakeFlag(flag, False))], 2)  # fmt: skip
        return Reply(
            f"{m.render('red_flags_intro', count=count)}\n\n{text}" if intro else text, buttons
        )

    def _parts(self, question: Question, activity: str | None) -> tuple[str, Keyboard]:
        m = self._m
        if question in CHOICES:
            values, prefix, per_row = CHOICES[question]
            buttons = [Button(m.render(f"{prefix}_{v}"), Answer(question, v)) for v in values]
            key = "welcome" if question is Question.CONSENT else f"ask_{question.value}"
            return m.render(key), rows(buttons, per_row)
        if question is Question.INJURY:
            options = "\n".join(m.render("injury_option", label=i.label, description=i.description)
                                for i in self._content.injuries)  # fmt: skip
            buttons = [Button(i.label, Answer(question, i.id)) for i in self._content.injuries]
            return m.render_markup("ask_injury", options=options), rows(buttons, 1)
        if question is Question.AGE:
            return m.render("ask_age"), ()
        if question is Question.ONSET_DAYS:
            buttons = [Button(m.render(key) if key else str(days), Answer(question, str(days)))
                       for days, key in ONSET_DAY_BUTTONS]  # fmt: skip
            return m.render("ask_onset_days"), rows(buttons, 3)
        if question in (Question.BASELINE_PAIN, Question.FUNCTION_BASELINE):
            key = f"ask_{question.value}"
            text = m.render(key, activity=activity or "") if activity else m.render(key)
            return text, score_keyboard(lambda n: Answer(question, str(n)))
        if question is Question.ACTIVITY:
            return m.render("ask_activity"), (
                (Button(m.render("button_skip"), Answer(question, intake.SKIP)),),
            )
        if question in (Question.REMINDER_TIME, Question.NEW_TIME):
            buttons = [Button(t, Answer(question, t)) for t in REMINDER_TIMES]
            key = "ask_reminder_time" if question is Question.REMINDER_TIME else "ask_new_time"
            return m.render(key), rows(buttons, 3)
        if question in (Question.TIMEZONE, Question.NEW_TIMEZONE):
            zones = [self._default_zone, *(z for z in COMMON_ZONES if z != self._default_zone)]
            labels = [m.render("button_timezone_default", zone=zones[0]), *zones[1:]]
            buttons = [
                Button(label, Answer(question, z)) for label, z in zip(labels, zones, strict=True)
            ]
            key = "ask_timezone" if question is Question.TIMEZONE else "ask_new_timezone"
            return m.render(key), rows(buttons, 2)
        raise ValueError(f"{question} is not asked with a message of its own")

    def invalid(self, step: str, value: str) -> str:
        """What to say when `value` does not answer the question `step`."""
        m = self._m
        question = Question(step) if step in Question._value2member_map_ else None
        key = INVALID.get(question) if question else None
        if key is None:
            return m.render("press_a_button")
        return m.render(key, min=intake.MIN_AGE, max=_max(question), value=value)


def _max(question: Question | None) -> int:
    if question is Question.AGE:
        return intake.MAX_AGE
    if question is Question.ONSET_DAYS:
        return intake.MAX_ONSET_DAYS
    return intake.MAX_ACTIVITY_LENGTH
