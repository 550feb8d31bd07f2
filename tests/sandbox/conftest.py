"""Fixtures for the emulator tests: a fresh emulator, a PTB ``Bot`` and users, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.testing import EmulatorClient, SandboxUser

TOKEN = "123456789:AAE_sandbox-token-for-the-emulator-tests"


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{emulator.url}/bot") as bot:
        yield bot


@pytest.fixture
async def client(emulator: BotApiEmulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url) as client:
        yield client


@pytest.fixture
async def sam(client: EmulatorClient) -> SandboxUser:
    """A user who has opened a private chat with the bot, so the bot may write to it."""
    sam = client.user(1001)
    await sam.send("hi")
    return sam


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data)] for text, data in buttons]
    )


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the event loop until ``condition`` holds.

    Used to know that a request has reached the emulator, which no event announces;
    ``sleep(0)`` only yields, it does not wait for time to pass.
    """
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0)
