"""The emulator as a whole: envelopes, tokens, the real PTB ``Application``, faults and limits."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters

from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.testing import EmulatorClient, SandboxUser
from tests.sandbox.conftest import TOKEN

# -- envelope and authentication ------------------------------------------------------------------


async def test_get_me_and_telegram_envelopes(emulator: BotApiEmulator, bot: Bot) -> None:
    assert bot.username == "coachbot_sandbox_bot"
    assert bot.id == 123456789
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        unknown = await http.post(f"/bot{TOKEN}/sendTelepathy")
        malformed = await http.get("/botnot-a-token/getMe")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert malformed.status_code == 401
    assert malformed.json()["description"] == "Unauthorized"


async def test_a_given_token_accepts_only_itself() -> None:
    emulator = BotApiEmulator(token=TOKEN)
    await emulator.start()
    try:
        other = "987654321:" + "B" * 35
        with pytest.raises(InvalidToken):
            async with Bot(other, base_url=f"{emulator.url}/bot"):
                pass
        async with Bot(TOKEN, base_url=f"{emulator.url}/bot") as bot:
            assert (await bot.get_me()).is_bot
    finally:
        await emulator.stop()


async def test_latency_delays_every_answer_without_blocking_the_others() -> None:
    """Each Bot API answer comes at least ``latency`` after its request; calls made together
    wait together (an asyncio sleep), not one after another."""
    emulator = BotApiEmulator(latency=0.25)
    await emulator.start()
    try:
        async with httpx.AsyncClient(base_url=emulator.url) as http:
            started = time.monotonic()
            answer = await http.get(f"/bot{TOKEN}/getMe")
            alone = time.monotonic() - started
            started = time.monotonic()
            together = await asyncio.gather(*(http.get(f"/bot{TOKEN}/getMe") for _ in range(4)))
            four = time.monotonic() - started
    finally:
        await emulator.stop()
    assert answer.json()["ok"] and all(a.json()["ok"] for a in together)
    assert alone >= 0.25 and four >= 0.25
    assert four < 4 * 0.25, f"four calls at once took {four:.2f} s: answered one after another"


# -- the real Application -------------------------------------------------------------------------


async def test_application_polls_and_echoes(
    emulator: BotApiEmulator, client: EmulatorClient
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html("<b>Welcome</b>, &lt;friend&gt;")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    application = ApplicationBuilder().token(TOKEN).base_url(f"{emulator.url}/bot").build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    user = client.user(42, first_name="Ada")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=10)
        await user.send("/start")
        welcome = await user.wait_for("Welcome")
        await user.send("hello there")
        reply = await user.wait_for("echo:")
        await application.updater.stop()
        await application.stop()
    assert welcome.text == "Welcome, <friend>"
    assert welcome.parse_mode == "HTML"
    assert reply.text == "echo: hello there"
    assert emulator.rejected() == []


# -- blocked users --------------------------------------------------------------------------------


async def test_unknown_chat_and_blocked_user(
    emulator: BotApiEmulator, bot: Bot, sam: SandboxUser
) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hello?")
    emulator.set_blocked(sam.user_id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(sam.chat_id, "still there?")
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member is not None
    assert member.new_chat_member.status == "kicked"
    await sam.send("/start")  # what the client's Restart button does
    await bot.send_message(sam.chat_id, "welcome back")
    assert [r.error_code for r in emulator.rejected()] == [400, 403]


# -- flood control --------------------------------------------------------------------------------


async def test_injected_429_reaches_ptb_as_retry_after(
    emulator: BotApiEmulator, bot: Bot, sam: SandboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns on RetryAfter.retry_after otherwise
    emulator.fail_next(
        "sendMessage", error_code=429, description="Too Many Requests: retry after 7", retry_after=7
    )
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(sam.chat_id, "now?")
    assert caught.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]
    await bot.send_message(sam.chat_id, "now.")
    assert emulator.rejected() == []
    assert [r.injected for r in emulator.requests if r.method == "sendMessage"] == [True, False]


async def test_rate_limits_per_chat_and_overall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emulator = BotApiEmulator(enforce_rate_limits=True)
    now = [1000.0]
    emulator.clock = lambda: now[0]
    await emulator.start()
    try:
        async with (
            EmulatorClient(emulator.url) as users,
            Bot(TOKEN, base_url=f"{emulator.url}/bot") as bot,
        ):
            for user_id in range(1, 32):
                await users.user(user_id).send("hi")
            await bot.send_message(1, "first")
            with pytest.raises(RetryAfter):
                await bot.send_message(1, "second in the same second")
            now[0] += 1.0
            await bot.send_message(1, "a second later")
            for user_id in range(2, 31):
                await bot.send_message(user_id, "broadcast")
            with pytest.raises(RetryAfter):
                await bot.send_message(31, "the 31st in one second")
        assert emulator.too_many_requests_count == 2
    finally:
        await emulator.stop()
