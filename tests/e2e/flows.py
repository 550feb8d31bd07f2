"""User journeys over the emulator, shared by the end-to-end tests."""

from __future__ import annotations

import re
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
        await user.wait_for("Your plan starts today")
    return summary


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
