"""What a user can do with a button or a typed answer, as small typed actions.

Each action is a frozen dataclass; the bot encodes it into a button's callback data and decodes it
back in one module (coachbot/bot/callbacks.py), then routes it by its type to the one service
method that owns it (coachbot/bot/handlers.py). Services build buttons from these, never from
strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Question(StrEnum):
    """The question awaiting an answer outside the daily check-in (stored as `enrolment_step`)."""

    CONSENT = "consent"
    INJURY = "injury"
    AGE = "age"
    ONSET = "onset"
    ONSET_DAYS = "onset_days"
    MECHANISM = "mechanism"
    LOCATION = "location"
    GRADE = "grade"
    WALKING = "walking"
    PREVIOUS_INJURY = "previous_injury"
    BASELINE_PAIN = "baseline_pain"
    GOAL = "goal"
    ACTIVITY = "activity"
    FUNCTION_BASELINE = "function_baseline"
    RED_FLAGS = "red_flags"  # the enrolment screening: the next unanswered flag is asked
    REMINDER_TIME = "reminder_time"
    TIMEZONE = "timezone"
    NEW_TIME = "new_time"  # /time after enrolment
    NEW_TIMEZONE = "new_timezone"  # /timezone after enrolment


class PromptsOff(StrEnum):
    """Why the daily prompts are off (`users.prompts_off`; None: they are on)."""

    PAUSED = "paused"  # /pause
    STOPPED = "stopped"  # /stop
    BLOCKED = "blocked"  # the user blocked the bot
    SILENT = "silent"  # a week without a rating (rule 9)


class SettingsChoice(StrEnum):
    TIME = "time"
    TIMEZONE = "timezone"
    PAUSE = "pause"
    RESUME = "resume"
    WEEKLY_ON = "weekly_on"
    WEEKLY_OFF = "weekly_off"


class Session(StrEnum):
    """Did you do today's exercises?"""

    DONE = "done"
    PARTLY = "partly"
    SKIPPED = "skipped"


class ScreenKind(StrEnum):
    WEEKLY = "weekly"  # rule 13: every 7th day
    RESCREEN = "rescreen"  # rules 6 and 10: after a flare-up or a rating of 8 or more


class DailyQuestion(StrEnum):
    """The questions of a day's check-in that can be answered again to correct them."""

    SESSION = "session"
    EXERCISE_PAIN = "exercise_pain"
    REST_PAIN = "rest_pain"


# Enrolment and settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A button answering an enrolment or settings question."""

    question: Question
    value: str


@dataclass(frozen=True)
class IntakeFlag:
    """Yes or no to one red-flag question of the enrolment screening."""

    flag: str
    yes: bool


@dataclass(frozen=True)
class Restart:
    """An enrolled user's /start: keep the program, or start over."""

    start_over: bool


@dataclass(frozen=True)
class Settings:
    choice: SettingsChoice


@dataclass(frozen=True)
class DeleteData:
    confirm: bool


@dataclass(frozen=True)
class Report:
    """Send the clinician report (offered with every escalation)."""


# The daily check-in (each names the check-in, so a late answer stays with its day) ------------


@dataclass(frozen=True)
class Did:
    check_in: int
    session: Session


@dataclass(frozen=True)
class ExercisePain:
    """The worst pain during the day's exercises, 0-10."""

    check_in: int
    pain: int


@dataclass(frozen=True)
class RestPain:
    """Pain at rest now, 0-10: the day's rating."""

    check_in: int
    pain: int


@dataclass(frozen=True)
class Check:
    """A function check answered: yes means it passes."""

    check_in: int
    check: str
    passed: bool


@dataclass(frozen=True)
class Function:
    """The weekly function score for the activity named at enrolment, 0-10."""

    check_in: int
    score: int


@dataclass(frozen=True)
class Seen:
    """Have you seen a professional yet? (rule 12)"""

    check_in: int
    seen: bool


@dataclass(frozen=True)
class Screen:
    """A red flag reported from a weekly screen or a re-screen, or `flag` None: none of these."""

    check_in: int
    kind: ScreenKind
    flag: str | None


@dataclass(frozen=True)
class Revise:
    """Ask one of the day's questions again, to correct the answer."""

    check_in: int
    question: DailyQuestion


@dataclass(frozen=True)
class Instructions:
    """The full instructions of the day's exercises."""

    check_in: int


@dataclass(frozen=True)
class ClearStart:
    """First step of the clearance: "a professional examined me and said I may exercise"."""

    check_in: int


@dataclass(frozen=True)
class ClearConfirm:
    """Second step: "yes, I'm sure"."""

    check_in: int


@dataclass(frozen=True)
class ClearCancel:
    check_in: int


@dataclass(frozen=True)
class Symptom:
    """/symptom: a red flag reported at any time, or `flag` None: none of these."""

    flag: str | None


@dataclass(frozen=True)
class ShowExercise:
    """/exercises: one exercise's animation and instructions."""

    exercise: str


@dataclass(frozen=True)
class Legacy:
    """A button from an earlier version of the bot (still in users' chats); never sent."""


Action = (
    Answer | IntakeFlag | Restart | Settings | DeleteData | Report | Did | ExercisePain | RestPain
    | Check | Function | Seen | Screen | Revise | Instructions | ClearStart | ClearConfirm
    | ClearCancel | Symptom | ShowExercise | Legacy
)  # fmt: skip
DAILY_ACTIONS = (Did, ExercisePain, RestPain, Check, Function, Seen, Screen, Revise,
                 Instructions, ClearStart, ClearConfirm, ClearCancel)  # fmt: skip
