"""SIGKILL in the middle of a 1000-user dispatch, then a restart: every user gets their prompt,
with at most the default `DISPATCH_MAX_UNRECORDED` (3) duplicates per kill."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from coachbot.config import Settings
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.scheduler import DispatchConfig
from coachbot.testing import coachbot_environment, coachbot_process

from ..factories import add_enrolled_users
from .conftest import TOKEN

pytestmark = pytest.mark.e2e
USERS = range(10_000, 11_000)
# The dispatcher's defaults (concurrency and the unrecorded budget) are what is tested: at most
# this many prompts are sent but not yet on record, the most a kill can make Telegram send twice.
MAX_UNRECORDED = DispatchConfig().max_unrecorded
# Every answer comes this much later, so that sends are still unanswered when the kill lands.
ROUND_TRIP = 0.02


def test_the_bound_is_the_default_of_the_setting_and_the_dispatcher() -> None:
    assert Settings.model_fields["dispatch_max_unrecorded"].default == MAX_UNRECORDED == 3


def _environment(tmp_path: Path, emulator: BotApiEmulator, database_url: str) -> dict[str, str]:
    return coachbot_environment(tmp_path / "data", **{
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": emulator.url,
        "DATABASE_URL": database_url, "TELEGRAM_MAX_RATE": "10000",
        "DISPATCH_INTERVAL_SECONDS": "0.2", "DISPATCH_LEASE_SECONDS": "2", "LOG_LEVEL": "WARNING",
    })  # fmt: skip


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    """Wait for a condition the emulator's record will meet (a bounded wait, not a timing)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the bot is another process
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("kills", [1, 3])
async def test_sigkill_mid_dispatch_then_restart_prompts_everyone(
    tmp_path: Path, database_url: str, kills: int
) -> None:
    """Kill -9 mid-dispatch (once, or three times in a row), restarting each time; the last
    process sends the rest. Every user gets their prompt; the only possible extras are the
    prompts sent but not yet recorded at each kill: at most MAX_UNRECORDED (3) per kill."""
    now = datetime.now(UTC)
    await add_enrolled_users(database_url, USERS, enrolled_at=now - timedelta(days=2),
                             zone="UTC", reminder=time(0, 0), due=now - timedelta(minutes=1))  # fmt: skip
    emulator = BotApiEmulator(token=TOKEN, latency=ROUND_TRIP)
    await emulator.start()
    emulator.open_private_chats(USERS)
    env = _environment(tmp_path, emulator, database_url)

    def prompts() -> dict[int, int]:
        return emulator.sent_messages_per_chat()

    async def start() -> asyncio.subprocess.Process:
        return await coachbot_process("run", cwd=tmp_path, env=env,
                                      stdout=asyncio.subprocess.DEVNULL)  # fmt: skip

    try:
        for kill in range(1, kills + 1):
            process = await start()
            reached = 300 * kill if kills == 1 else 200 * kill
            await _until(lambda: len(prompts()) >= reached, seconds=60)  # noqa: B023
            process.send_signal(signal.SIGKILL)
            await process.wait()
            assert reached <= sum(prompts().values()) < len(USERS), "the kill landed mid-dispatch"
        last = await start()
        await _until(lambda: len(prompts()) == len(USERS), seconds=60)
        last.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(last.communicate(), timeout=30)
        assert last.returncode == 0, errors.decode()
    finally:
        await emulator.stop()
    counts = prompts()
    assert set(counts) == set(USERS)
    duplicates = sum(counts.values()) - len(USERS)
    assert duplicates <= kills * MAX_UNRECORDED, f"{duplicates} duplicates after {kills} kills"
