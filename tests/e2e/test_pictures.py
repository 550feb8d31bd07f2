"""Exercise pictures through the real bot (issue 11): day 0's plan, "Full instructions" and
/exercises send each exercise as an animation Telegram accepts, uploaded once per bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from coachbot.bot.app import AnyApplication
from coachbot.clock import FakeClock
from coachbot.content import default_content
from coachbot.scheduler import Dispatcher
from coachbot.testing import BotEvent, EmulatorClient, SandboxUser

from .flows import enrol, events_until

pytestmark = pytest.mark.e2e
DAY1 = datetime(2026, 11, 25, 10, 45, tzinfo=UTC)  # 07:45 in Buenos Aires, the flows' time
NAMES = {e.name: e.id for e in default_content().exercises}


async def upto(user: SandboxUser, done: Callable[[BotEvent], bool]) -> list[BotEvent]:
    """The user's events up to and including the first for which `done` holds."""
    found, before = await events_until(user, done)
    return [*before, found]


def animations(events: list[BotEvent]) -> list[BotEvent]:
    return [event for event in events if event.animation is not None]


async def uploads(client: EmulatorClient) -> tuple[int, int]:
    """sendAnimation calls that uploaded a file, and those that sent a file_id again."""
    calls = [r for r in await client.requests() if r["method"] == "sendAnimation" and r["ok"]]
    uploaded = sum(isinstance(r["params"].get("animation"), dict) for r in calls)
    return uploaded, len(calls) - uploaded


class TestExercisePictures:
    async def test_day_0s_plan_shows_each_exercise_moving(
        self, bot: AnyApplication, user: SandboxUser, client: EmulatorClient
    ) -> None:
        """After the plan, one animation per exercise of the day, captioned with its name."""
        await enrol(user, plan=False)
        plan = await user.wait_for("Your plan starts today")
        shown = animations(await upto(user, lambda e: e.animation is not None and
                                              "Gentle pain-free walk" in e.text))  # fmt: skip
        assert [e.text.split(" (")[0] for e in shown] == [
            "Protect and rest the leg", "Ice and raise the leg", "Gentle pain-free walk"]  # fmt: skip
        assert all(e.seq > plan.seq for e in shown)
        assert all(e.animation and e.animation.mime_type == "image/gif" for e in shown)
        assert all(e.animation and e.animation.width == 480 for e in shown)

    async def test_full_instructions_send_each_exercise_and_each_picture_is_uploaded_once(
        self, bot: AnyApplication, user: SandboxUser, client: EmulatorClient,
        dispatcher: Dispatcher, clock: FakeClock,
    ) -> None:  # fmt: skip
        """Two users press "Full instructions" on day 1: both get one animation per exercise
        with its steps as the caption; the second user's come from the first upload."""
        other = client.user(2002, first_name="Robin")
        for person in (user, other):
            await enrol(person)
        clock.now = DAY1
        assert (await dispatcher.tick()).sent == 2
        for person in (user, other):
            await person.wait_for("Day 1 - Protect")
            await person.press("Full instructions")
            cards = animations(await upto(person, lambda e: "Your pain limit" in e.text
                                                  or "Stop if:" in e.text and "walk" in e.text))  # fmt: skip
            assert len(cards) == 3 and all("1. " in card.text for card in cards)
        uploaded, reused = await uploads(client)
        # Day 0's plans uploaded the three pictures (the first user) and reused them (the
        # second); the instructions uploaded nothing more: 12 animations, 3 uploads.
        assert (uploaded, reused) == (3, 9)

    async def test_exercises_lists_the_phase_and_shows_one(
        self, bot: AnyApplication, user: SandboxUser
    ) -> None:
        """/exercises: the current phase's exercises as buttons; a tap shows that one."""
        await enrol(user)
        await user.send("/exercises")
        listing = await user.wait_for("Your exercises in Protect")
        assert listing.labels == ["Protect and rest the leg", "Ice and raise the leg",
                                  "Gentle pain-free walk"]  # fmt: skip
        await user.press("Ice and raise the leg")
        card = await user.wait_for(lambda e: e.animation is not None and "Ice and raise" in e.text
                                   and e.seq > listing.seq)  # fmt: skip
        assert "Stop if:" in card.text or "1. " in card.text
        assert NAMES["Ice and raise the leg"] == "ice_and_elevate"

    async def test_a_new_phase_shows_its_new_exercises_before_the_prompt(
        self, bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock
    ) -> None:
        """The first day of a phase the course moved on to: its new exercises' pictures, then
        the prompt (whose buttons stay last)."""
        from .flows import GRADE_1, Answers, answer_day

        await enrol(user, GRADE_1)
        clock.now = DAY1
        await dispatcher.tick()
        prompt = await user.wait_for("Day 1 - Protect")
        await answer_day(user, prompt, Answers(pain=1))  # protect -> isometric from day 2
        clock.now = DAY1 + timedelta(days=1)
        await dispatcher.tick()
        events = await upto(user, lambda e: "Day 2 - Gentle activation" in e.text)
        shown = [e.text.split(" (")[0] for e in animations(events)]
        assert shown and "Gentle pain-free walk" not in shown  # not new: protect had it
        assert "Double-leg bridge hold" in shown
        assert events[-1].animation is None and events[-1].buttons
