"""The shipped commands, as an operator runs them: `coachbot run` against an emulator, `coachbot demo`."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.testing import EmulatorClient, coachbot_environment, coachbot_process

from .conftest import TOKEN
from .flows import INTAKE_FLAG_COUNT, screening

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return coachbot_environment(tmp_path / "data", **extra)


async def test_coachbot_run_enrols_a_user_against_an_emulator_it_has_never_seen(
    tmp_path: Path,
) -> None:
    """`coachbot run` with TELEGRAM_API_URL pointing at 127.0.0.1 answers /start and enrols."""
    emulator = BotApiEmulator(token=TOKEN)
    await emulator.start()
    env = _environment(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=emulator.url, LOG_LEVEL="DEBUG"
    )
    process = await coachbot_process("run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.STDOUT)
    try:
        async with EmulatorClient(emulator.url) as client:
            user = client.user(555, first_name="Robin")
            await user.send("/start")
            await user.wait_for("Do you agree?", timeout=30)
            await user.press("I agree")
            await user.press("Tight hamstrings")
            await user.wait_for("How old are you?")
            await user.send("45")
            await user.press("Gradually")
            await user.press("14")
            await user.press("Bottom, near the knee")
            await user.wait_for("How are you walking")
            await user.press("Normally")
            await user.press("No, this is the first time")
            await user.wait_for("How bad is the pain")
            await user.press("2")
            await user.press("Everyday life")
            await user.wait_for("Name one activity")
            await user.press("Skip")
            assert await screening(user) == INTAKE_FLAG_COUNT
            await user.press("18:00")
            await user.press("Europe/Berlin")
            summary = await user.wait_for("You're enrolled")
            assert "18:00 (Europe/Berlin)" in summary.text
            await user.wait_for("Your plan starts today")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        await emulator.stop()
    assert process.returncode == 0, output.decode()
    assert TOKEN.split(":")[1] not in output.decode()
    assert emulator.rejected() == []
    assert (tmp_path / "data" / "coachbot.sqlite3").exists()


async def test_run_without_a_token_names_the_variable(tmp_path: Path) -> None:
    """`coachbot run` with no token exits 2 with one line naming TELEGRAM_BOT_TOKEN."""
    process = await coachbot_process("run", cwd=tmp_path, env=_environment(tmp_path))
    _, error = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert (
        error.decode().strip() == "coachbot: TELEGRAM_BOT_TOKEN: not set (get one from @BotFather)"
    )


# /start, I agree, Pulled hamstring, age 29, Suddenly, 3 days ([4]), running fast, Middle ([2]),
# Grade 2 ([2]), with a limp ([2]), not before ([2]), pain 5 ([6]), sport ([1]), Skip ([1]), ten
# safety "No"s ([2]), 08:00 ([2]), the default zone ([1]).
DEMO_SCRIPT = ("/start\n1\n1\n29\n1\n4\n1\n2\n2\n2\n2\n6\n1\n1\n" + "2\n" * INTAKE_FLAG_COUNT
               + "2\n1\n/next\n/state\n")  # fmt: skip


async def test_demo_is_scriptable_from_stdin_and_ends_with_the_summary(tmp_path: Path) -> None:
    """`printf ... | coachbot demo` enrols through the terminal chat and exits at end of input."""
    process = await coachbot_process(
        "demo", cwd=tmp_path, env=_environment(tmp_path), stdin=asyncio.subprocess.PIPE
    )
    output, error = await asyncio.wait_for(process.communicate(DEMO_SCRIPT.encode()), timeout=120)
    text = output.decode()
    assert process.returncode == 0, error.decode()
    assert "[1] I agree" in text
    assert "You're enrolled" in text
    assert "Strain grade: 2" in text and "Pain now: 5/10" in text
    assert "Goal: Running and sport" in text
    assert text.index("Your plan starts today") > text.index("You're enrolled")
    # Time travel: the next morning's check-in at once, then what the rules see.
    assert text.index("Did you do today's exercises?") > text.index("you> /next")
    assert "Day 1" in text and "Phase: protect since day 0" in text
    assert not (tmp_path / "data").exists(), "the demo uses a throwaway database"


async def test_demo_web_serves_the_page_until_stopped(tmp_path: Path) -> None:
    """`coachbot demo --web` prints the address to open, serves the chat page and the bot's
    command menu there, and stops cleanly on SIGTERM."""
    process = await coachbot_process("demo", "--web", "--port", "0", cwd=tmp_path,
                                     env=_environment(tmp_path))  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        url = line.split("open ", 1)[1].split()[0]
        async with httpx.AsyncClient(base_url=url) as client:
            page = await client.get("/")
            assert page.status_code == 200 and "coachbot" in page.text
            commands = (await client.get("/_sandbox/commands")).json()
            assert {"next", "skip", "state"} <= {c["command"] for c in commands}
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0
