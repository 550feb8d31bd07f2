"""The sandbox (`coachbot demo`): the real bot on a clock the sandbox moves, with the inspector.

A week of a course in a few seconds: /next jumps to each morning's prompt, the user answers it,
and the inspector explains what the rules decided, with the numbers. /skip shows silence.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from coachbot.clock import FakeClock
from coachbot.sandbox.controls import state_text
from coachbot.sandbox.demo import DEMO_USER_ID, Sandbox, sandbox
from coachbot.sandbox.terminal import run_demo
from coachbot.testing import EmulatorClient, SandboxUser

from ..conftest import ENGINE
from ..e2e.flows import Answers, answer_day, enrol

pytestmark = pytest.mark.skipif(
    ENGINE != "sqlite", reason="the sandbox always runs on its own SQLite file: the SQLite leg runs these"
)

START = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # noon in Buenos Aires, where flows.enrol lives


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    async with sandbox("UTC", real=FakeClock(START)) as started:
        yield started


@pytest.fixture
async def you(box: Sandbox) -> AsyncIterator[SandboxUser]:
    async with EmulatorClient(box.emulator.url) as client:
        yield client.user(DEMO_USER_ID, first_name="You")


async def next_day(you: SandboxUser, pain: int) -> None:
    await you.send("/next")
    prompt = await you.wait_for(lambda e: e.type == "message" and "Day " in e.text and bool(e.buttons))
    await answer_day(you, prompt, Answers(pain=pain))


async def test_a_week_of_check_ins_in_seconds_with_the_rules_explained(
    box: Sandbox, you: SandboxUser
) -> None:
    """A strain 3 days old, rest pain 5 every day: on to isometric after day 1 (rule 7), and
    no improvement by day 7 (rule 4), each with the numbers behind it."""
    await enrol(you)
    before = await box.controls.inspect(DEMO_USER_ID)
    assert (before["day"], before["phase"], before["status"]) == (0, "protect", "active")
    for _ in range(7):
        await next_day(you, pain=5)
    seen = await box.controls.inspect(DEMO_USER_ID)
    assert (seen["day"], seen["phase"], seen["phase_since"]) == (7, "isometric", 2)
    assert seen["holds"] == ["no_improvement since day 7"]
    latest, progression = seen["decisions"][0], seen["decisions"][1]
    assert latest == {
        "day": 7, "rule": "rule 4", "kind": "escalation",
        "summary": "routine advice: no_improvement",
        "why": "day 7 >= 7, last ratings 5, 5, 5 not down to 3.5 (baseline 5), "
               "no downward trend over days 1-7",
    }  # fmt: skip
    assert progression == {"day": 1, "rule": "rule 7", "kind": "progression",
                           "summary": "protect → isometric",
                           "why": "onset 4 days ago >= 3, pain 5 <= 5"}  # fmt: skip
    assert seen["local_time"] == "Mon 7 Dec, 07:45 America/Argentina/Buenos_Aires"


async def test_skipping_days_shows_the_silence_rule(box: Sandbox, you: SandboxUser) -> None:
    """/skip 8 answering nothing: seven prompts, then the pause of rule 9 after 7 silent days."""
    await enrol(you)
    await you.send("/skip 8")
    said = await you.wait_for("Jumped 8 days ahead")
    assert "7 prompts sent and left unanswered" in said.text
    seen = await box.controls.inspect(DEMO_USER_ID)
    assert (seen["status"], seen["prompts_off"], seen["next_prompt"]) == ("paused", "silent", None)
    assert seen["decisions"][0]["rule"] == "rule 9"
    assert seen["decisions"][0]["why"] == "no rating for 7 days"


async def test_state_and_bad_input_in_the_chat(box: Sandbox, you: SandboxUser) -> None:
    await you.send("/state")
    assert "Not enrolled yet" in (await you.wait_for("Not enrolled")).text
    await you.send("/next")
    assert "nothing to jump to" in (await you.wait_for("nothing to jump to")).text
    for bad in ("/skip", "/skip 0", "/skip 29", "/skip two", "/skip 1 2"):
        await you.send(bad)
        await you.wait_for("For example /skip 3")
    await enrol(you)
    await you.send("/state")
    text = (await you.wait_for("Last decisions")).text
    assert text == state_text(await box.controls.inspect(DEMO_USER_ID))
    assert "Phase: protect since day 0 (1 days)" in text


async def test_the_controls_answer_json_and_refuse_what_they_cannot_do(box: Sandbox) -> None:
    async with EmulatorClient(box.emulator.url) as client:
        assert (await client.post("control/inspect", {"user_id": 5}))["enrolled"] is False
        for body, error in (({}, "user_id"), ({"user_id": 5, "days": 0}, "1-28"),
                            ({"user_id": 5}, "days")):  # fmt: skip
            response = await client.post_raw("control/skip", body)
            assert response.status_code == 400 and error in response.json()["error"]
        assert (await client.post_raw("control/warp", {"user_id": 5})).status_code == 404


async def test_the_terminal_demo_travels_in_time_from_a_script() -> None:
    """`printf ... | coachbot demo` keeps working, and knows /next and /state."""
    out = io.StringIO()
    assert await run_demo("UTC", io.StringIO("/state\n/next\n"), out) == 0
    assert "Not enrolled yet" in out.getvalue()
    assert "nothing to jump to" in out.getvalue()
