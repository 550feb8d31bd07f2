"""End-to-end: the real PTB Application over HTTP against the Bot API emulator.

Every test here also checks that the emulator refused nothing by Telegram's rules (unescaped
entities, over-long text, callback data over 64 bytes...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from coachbot.bot.app import AnyApplication, build_application, polling
from coachbot.bot.updates import FloodLimit
from coachbot.clock import FakeClock
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.scheduler import DispatchConfig, Dispatcher
from coachbot.services.container import create_services
from coachbot.testing import EmulatorClient, SandboxUser

TOKEN = "123456789:AAE2e-test-token-for-the-local-emulator"
# Scripted users answer at machine speed; flood control has its own test (test_faults.py).
SCRIPTED = FloodLimit(burst=1_000_000)
USER_ID = 1001

StartBot = Callable[[], Awaitable[AnyApplication]]


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator(token=TOKEN)
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def start_bot(
    emulator: BotApiEmulator, database_url: str, clock: FakeClock
) -> AsyncIterator[Callable[[], AsyncIterator[AnyApplication]]]:
    """Start (or, called again, restart) the bot on the same database, as a new process would."""
    running: list[object] = []

    async def start() -> AnyApplication:
        services = create_services(database_url, "Europe/London", clock=clock)
        application = build_application(TOKEN, emulator.url, services, flood=SCRIPTED)
        context = polling(application)
        await context.__aenter__()
        running.append(context)
        return application

    async def stop_last() -> None:
        context = running.pop()
        await context.__aexit__(None, None, None)  # type: ignore[attr-defined]

    start.stop = stop_last  # type: ignore[attr-defined]
    yield start  # type: ignore[misc]
    while running:
        await stop_last()
    # 400s are the bot's mistakes (bad entities, long text, 65-byte callback data...); a 403 from
    # a user who blocked the bot is their choice, which tests provoke on purpose.
    refused = [r.description for r in emulator.rejected() if r.error_code == 400]
    assert refused == [], "Telegram would refuse these"


@pytest.fixture
async def bot(start_bot: StartBot) -> AnyApplication:
    return await start_bot()


@pytest.fixture
async def client(emulator: BotApiEmulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url) as emulator_client:
        yield emulator_client


@pytest.fixture
def user(client: EmulatorClient) -> SandboxUser:
    return client.user(USER_ID, first_name="Alex")


@pytest.fixture
async def dispatcher(bot: AnyApplication, clock: FakeClock) -> AsyncIterator[Dispatcher]:
    """The dispatch job's worker, ticked by the test on the fake clock (no background job)."""
    worker = Dispatcher(bot.bot_data["services"], bot.bot, clock, DispatchConfig())
    yield worker
    await worker.close()
