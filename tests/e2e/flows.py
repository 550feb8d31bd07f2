"""User journeys over the emulator, shared by the end-to-end tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from coachbot.content import default_content
from coachbot.storage.db import Database
from coachbot.storage.models import Base
from coachbot.testing import BotEvent, SandboxUser

CONTENT = default_content()
FLAGS = CONTENT.red_flags
QUESTION_OF = {flag.id: flag.question for flag in FLAGS}
SAFETY = re.compile(r"Safety question (\d+) of (\d+)")
INTAKE_FLAG_COUNT = 10  # the §1.3 `I` flags of a strain (no hard lump: contusions only)


@dataclass(frozen=True)
class Intake:
    """The answers a scripted user gives (labels of the buttons, or typed text). The defaults
    are a grade 2 sprinting strain, 3 days old, pain 5 at rest, back to sport, no activity."""

    age: str = "29"
    onset: str = "Suddenly"
    days: str = "3"  # typed
    mechanism: str | None = "Running fast"  # asked for a sudden onset only
    location: str = "Middle"
    grade: str | None = "Grade 2 (partial tear)"  # asked for strains only
    walking: str = "With a limp"
    previous: str = "No, this is the first time"
    pain: str = "5"
    goal: str = "Running and sport"
    activity: str | None = None  # None: Skip
    ability: str = "3"  # how able now, when an activity is named


GRADE_1 = Intake(grade="Grade 1 (mild)")


async def consent_and_injury(user: SandboxUser, injury: str = "Pulled hamstring") -> None:
    await user.send("/start")
    await user.wait_for("Do you agree?")
    await user.press("I agree")
    await user.wait_for("Which of these sounds most like your pain?")
    await user.press(injury)
    await user.wait_for("How old are you?")


async def intake_facts(user: SandboxUser, answers: Intake = Intake()) -> None:
    """Age to the activity question's answer (the age question is showing)."""
    await user.send(answers.age)
    await user.wait_for("suddenly")
    await user.press(answers.onset)
    await user.wait_for("How many days ago")
    await user.send(answers.days)
    if answers.mechanism is not None:
        await user.wait_for("How did it happen?")
        await user.press(answers.mechanism)
    await user.wait_for("Where on the back of your thigh")
    await user.press(answers.location)
    if answers.grade is not None:
        await user.wait_for("grade of your strain")
        await user.press(answers.grade)
    await user.wait_for("How are you walking right now?")
    await user.press(answers.walking)
    await user.wait_for("same problem in the same thigh")
    await user.press(answers.previous)
    await user.wait_for("How bad is the pain right now")
    await user.press(answers.pain)
    await user.wait_for("What do you want to get back to?")
    await user.press(answers.goal)
    await user.wait_for("Name one activity")
    if answers.activity is None:
        await user.press("Skip")
    else:
        await user.send(answers.activity)
        await user.wait_for("How able are you to do this now")
        await user.press(answers.ability)


def safety_question(event: BotEvent) -> tuple[int, int] | None:
    found = SAFETY.search(event.text)
    return (int(found[1]), int(found[2])) if found else None


async def screening(user: SandboxUser, yes: tuple[str, ...] = ()) -> int:
    """Answer every safety question asked ("Yes" to the flags in `yes`); how many there were."""
    number, count = 0, 1
    while number < count:
        event = await user.wait_for(lambda e: safety_question(e) is not None, types=("message",))
        asked = safety_question(event)
        assert asked is not None and asked[0] == number + 1, (asked, number)
        number, count = asked
        said_yes = any(QUESTION_OF[flag] in event.text for flag in yes)
        await user.press("Yes" if said_yes else "No", message_id=event.message_id)
    return count


async def time_and_zone(user: SandboxUser) -> str:
    await user.wait_for("What time should I send your daily exercises?")
    await user.send("07:45")
    await user.wait_for("Which time zone are you in?")
    await user.send("America/Argentina/Buenos_Aires")
    return (await user.wait_for("You're enrolled")).text


async def enrol(user: SandboxUser, answers: Intake = Intake(), *,
                injury: str = "Pulled hamstring", yes: tuple[str, ...] = (),
                plan: bool = True) -> str:  # fmt: skip
    """A whole enrolment (by default a grade 2 strain, pain 5, 07:45 in Buenos Aires); the
    summary text. With `plan`, day 0's plan (which follows the summary) is waited for too."""
    await consent_and_injury(user, injury)
    await intake_facts(user, answers)
    await screening(user, yes)
    summary = await time_and_zone(user)
    if plan:
        await day_0_pictures(user, await user.wait_for("Your plan starts today"))
    return summary


async def day_0_pictures(user: SandboxUser, plan: BotEvent) -> list[BotEvent]:
    """The animations that follow day 0's plan, one per exercise it lists ("- Name: dosage")."""
    listed = [e for e in CONTENT.exercises if f"- {e.name}:" in plan.text]
    return [await user.wait_for(lambda event: event.animation is not None) for _ in listed]


async def rows(database_url: str, statement: object) -> list[tuple[object, ...]]:
    """The rows a SELECT gives, read through a connection of the test's own."""
    db = Database(database_url)
    async with db.transaction() as session:
        found = (await session.execute(statement)).all()  # type: ignore[call-overload]
    await db.dispose()
    return [tuple(row) for row in found]


async def everything_in_the_database(database_url: str) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of every table (but Alembic's own), for a scan."""
    db = Database(database_url)
    found = []
    async with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in (await connection.execute(select(table))).all():
                found.append((table.name, tuple(row)))
    await db.dispose()
    return found


def flag_number(event: BotEvent, flag: str) -> str:
    """The numbered button of `flag` in a list of safety questions (re-screen, weekly, /symptom)."""
    question = QUESTION_OF[flag]
    for line in event.text.splitlines():
        number, _, text = line.partition(". ")
        if text == question and number.isdigit():
            return number
    raise AssertionError(f"{flag} is not asked in {event.text!r}")


# The daily check-in -----------------------------------------------------------------------------

# The question a check-in message is asking, from its last paragraph (content/messages.yaml).
QUESTIONS = (
    ("session", "Did you do today's exercises?"),
    ("exercise_pain", "worst pain during the exercises"),
    ("rest_pain", "pain at rest right now"),
    ("rescreen", "check these safety questions again"),
    ("check", "Quick check"),
    ("weekly", "Weekly safety check"),
    ("function", "Once a week: how able"),
    ("seen", "Have you seen a professional"),
    ("done", "All recorded for today"),
    ("confirm", "Just to be sure"),
)
ALL_EVENTS = ("message", "edit", "delete", "callback_answer", "chat_action")
UNSUPPORTED = "I can only read text messages"  # the reply to a sticker: the sentinel


def question_of(event: BotEvent) -> str:
    """Which question a check-in message shows ("done" when all are answered)."""
    last = event.text.split("\n\n")[-1]
    for kind, words in QUESTIONS:
        if words in last:
            return kind
    raise AssertionError(f"no check-in question in {event.text!r}")


@dataclass(frozen=True)
class Answers:
    """What a scripted user taps for each question of a day's check-in. A flag id for a screen
    taps that flag's number; `check` may be a callable of the check's question text."""

    session: str = "Done"
    exercise_pain: int = 1
    pain: int = 2
    check: str = "Yes"
    screen: str | None = None  # None: "None of these"
    function: int = 5
    seen: str = "I've seen a professional"


@dataclass(frozen=True)
class Day:
    """One check-in as the user lived it."""

    prompt: BotEvent  # the message as it arrived
    final: BotEvent  # the same message once everything was answered
    asked: tuple[str, ...]  # the questions, in the order asked
    said: tuple[str, ...]  # the bot's other messages meanwhile (phase changes, advice...)
    checks: tuple[str, ...] = ()  # the checks' questions


async def events_until(user: SandboxUser, done: Callable[[BotEvent], bool],
                       timeout: float = 10.0) -> tuple[BotEvent, list[BotEvent]]:  # fmt: skip  # noqa: ASYNC109
    """Consume events up to the first for which `done` holds: (it, the events before it)."""
    before: list[BotEvent] = []

    def matches(event: BotEvent) -> bool:
        if done(event):
            return True
        before.append(event)
        return False

    found = await user.wait_for(matches, timeout=timeout, types=ALL_EVENTS)
    return found, before


async def settle(user: SandboxUser) -> list[BotEvent]:
    """Every event the bot has yet to send for what the user did so far (a sticker sent after
    it is answered in order, so everything before that reply belongs to earlier actions)."""
    await user.send_kind("sticker")
    _, before = await events_until(user, lambda e: e.type == "message" and UNSUPPORTED in e.text)
    return before


async def answer_day(user: SandboxUser, prompt: BotEvent, answers: Answers = Answers()) -> Day:
    """Answer a day's check-in, one tap a question, as the message asks, until all is recorded."""
    assert prompt.message_id is not None
    current, asked, said, checks = prompt, [], [], []
    while (kind := question_of(current)) != "done":
        asked.append(kind)
        if kind == "check":
            checks.append(current.text.split("\n\n")[-1])
        label = {
            "session": answers.session,
            "exercise_pain": str(answers.exercise_pain),
            "rest_pain": str(answers.pain),
            "check": answers.check,
            "function": str(answers.function),
            "seen": answers.seen,
        }.get(kind)
        if kind in ("rescreen", "weekly"):
            label = flag_number(current, answers.screen) if answers.screen else "None of these"
        assert label is not None, f"no answer for {kind}"
        await user.press(label, message_id=prompt.message_id)
        current, others = await events_until(
            user, lambda e: e.type == "edit" and e.message_id == prompt.message_id
        )
        said += [e.text for e in others if e.type == "message"]
    said += [e.text for e in await settle(user) if e.type == "message"]
    return Day(prompt, current, tuple(asked), tuple(said), tuple(checks))
