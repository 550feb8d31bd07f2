"""Lean sends (coachbot/bot/lean.py): the same request as `send_message`, through the same rate
limiter, with the same errors; only the PTB objects are left out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter, ExtBot

from coachbot.bot.lean import markup_json, send_text
from coachbot.bot.render import keyboard
from coachbot.sandbox.emulator import DROP_CONNECTION, BotApiEmulator
from coachbot.services import actions as a
from coachbot.services.replies import Button

from .conftest import TOKEN

pytestmark = pytest.mark.e2e
CHAT = 4242
BUTTONS = (
    (Button("Done", a.Did(check_in=7, session=a.Session.DONE)),
     Button("Not today ✋", a.Did(check_in=7, session=a.Session.SKIPPED))),
    (Button("Full instructions", a.Instructions(check_in=7)),),
)  # fmt: skip


class CountingLimiter(AIORateLimiter):
    """The app's limiter, counting what passes through it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests: list[str] = []

    async def process_request(self, *args: Any, **kwargs: Any) -> Any:
        self.requests.append(kwargs["endpoint"])
        return await super().process_request(*args, **kwargs)


@pytest.fixture
async def limited(emulator: BotApiEmulator) -> AsyncIterator[ExtBot[Any]]:
    emulator.open_private_chats([CHAT])
    limiter = CountingLimiter(max_retries=2)
    async with ExtBot(TOKEN, base_url=f"{emulator.url}/bot", rate_limiter=limiter) as bot:
        yield bot


def test_markup_is_the_keyboard_ptb_would_send() -> None:
    built = keyboard(BUTTONS)
    assert built is not None
    assert json.loads(markup_json(BUTTONS) or "") == built.to_dict()
    assert markup_json(()) is None


async def test_a_lean_send_is_send_message_without_the_objects(
    emulator: BotApiEmulator, limited: ExtBot[Any]
) -> None:
    """Same parameters on the wire (the emulator checks them as Telegram would), the message id
    of the message sent, through the rate limiter."""
    message_id = await send_text(limited, CHAT, "<b>Day 2</b> - rest", markup_json(BUTTONS))
    plain = await limited.send_message(CHAT, "<b>Day 2</b> - rest", parse_mode="HTML",
                                       reply_markup=keyboard(BUTTONS))  # fmt: skip
    assert plain.message_id == message_id + 1
    lean, ptb = [r for r in emulator.requests if r.method == "sendMessage"]
    assert lean.ok and emulator.rejected() == []
    assert {**lean.params, "reply_markup": json.loads(lean.params["reply_markup"])} == {
        **ptb.params,
        "reply_markup": json.loads(ptb.params["reply_markup"]),
    }
    assert isinstance(limited.rate_limiter, CountingLimiter)
    assert limited.rate_limiter.requests == ["getMe", "sendMessage", "sendMessage"]


async def test_the_rate_limiter_retries_a_lean_send_after_telegram_says_wait(
    emulator: BotApiEmulator, limited: ExtBot[Any]
) -> None:
    emulator.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry "
                       "after 1", retry_after=1)  # fmt: skip
    await send_text(limited, CHAT, "after the wait")
    assert [r.ok for r in emulator.requests if r.method == "sendMessage"] == [False, True]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"error_code": 403, "description": "Forbidden: bot was blocked by the user"}, Forbidden),
        ({"error_code": 400, "description": "Bad Request: chat not found"}, BadRequest),
        (
            {
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "migrate_to_chat_id": -100123,
            },
            ChatMigrated,
        ),
        (
            {
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "retry_after": 1,
                "count": 3,
            },
            RetryAfter,
        ),
        ({"error_code": 502, "description": "Bad Gateway"}, NetworkError),
        ({"error_code": DROP_CONNECTION, "description": "the line went dead"}, NetworkError),
    ],
)
async def test_telegram_errors_reach_the_caller_as_from_send_message(
    emulator: BotApiEmulator, limited: ExtBot[Any], fault: dict[str, Any],
    error: type[Exception],
) -> None:  # fmt: skip
    emulator.fail_next("sendMessage", **fault)
    with pytest.raises(error):
        await send_text(limited, CHAT, "hello")


async def test_a_plain_bot_sends_lean_too(emulator: BotApiEmulator) -> None:
    """Without a rate limiter (telegram.Bot) the same call goes straight to the request layer."""
    emulator.open_private_chats([CHAT])
    async with Bot(TOKEN, base_url=f"{emulator.url}/bot") as bot:
        assert await send_text(bot, CHAT, "plain") >= 1
    with pytest.raises(BadRequest):
        async with Bot(TOKEN, base_url=f"{emulator.url}/bot") as bot:
            await send_text(bot, CHAT, "<b>unclosed")
