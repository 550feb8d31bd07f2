"""User journeys over the emulator, shared by the end-to-end tests."""

from __future__ import annotations

from coachbot.content import default_content
from coachbot.testing import SandboxUser

FLAGS = default_content().red_flags


async def consent_and_injury(user: SandboxUser, injury: str = "Pulled hamstring") -> None:
    await user.send("/start")
    await user.wait_for("Do you agree?")
    await user.press("I agree")
    await user.wait_for("Which of these sounds most like your pain?")
    await user.press(injury)
    await user.wait_for("How old are you?")


async def intake_facts(user: SandboxUser) -> None:
    await user.send("29")
    await user.wait_for("suddenly")
    await user.press("Suddenly")
    await user.wait_for("How many days ago")
    await user.send("3")
    await user.wait_for("Where on the back of your thigh")
    await user.press("Middle")
    await user.wait_for("grade of your strain")
    await user.press("Grade 2 (partial tear)")
    await user.wait_for("How bad is the pain right now")
    await user.press("5")


async def screening(user: SandboxUser, yes: tuple[str, ...] = ()) -> None:
    for number, flag in enumerate(FLAGS, start=1):
        await user.wait_for(f"Safety question {number} of {len(FLAGS)}")
        await user.press("Yes" if flag.id in yes else "No")


async def time_and_zone(user: SandboxUser) -> str:
    await user.wait_for("What time should I send your daily exercises?")
    await user.send("07:45")
    await user.wait_for("Which time zone are you in?")
    await user.send("America/Argentina/Buenos_Aires")
    return (await user.wait_for("You're enrolled")).text


async def enrol(user: SandboxUser) -> str:
    """A whole enrolment (a grade 2 strain, pain 5, 07:45 in Buenos Aires); the summary text."""
    await consent_and_injury(user)
    await intake_facts(user)
    await screening(user)
    return await time_and_zone(user)
