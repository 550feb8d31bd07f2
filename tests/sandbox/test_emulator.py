"""The Bot API emulator, driven by the real PTB ``Bot`` and ``Application`` over HTTP."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import tornado.netutil
import tornado.web
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters
from tornado.httpserver import HTTPServer

from coachbot.sandbox.emulator import BotApiEmulator, make_png
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


# -- envelope and authentication ---------------------------------------------------------------


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


async def test_json_and_query_string_parameters(emulator: BotApiEmulator, sam: SandboxUser) -> None:
    async with httpx.AsyncClient(base_url=f"{emulator.url}/bot{TOKEN}") as http:
        as_json = await http.post("/sendMessage", json={"chat_id": sam.chat_id, "text": "json"})
        as_query = await http.get("/sendMessage", params={"chat_id": sam.chat_id, "text": "query"})
    assert as_json.json()["result"]["text"] == "json"
    assert as_query.json()["result"]["message_id"] == as_json.json()["result"]["message_id"] + 1


# -- getUpdates -----------------------------------------------------------------------------------


async def test_long_poll_wakes_when_a_user_writes(
    emulator: BotApiEmulator, bot: Bot, client: EmulatorClient
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await until(lambda: emulator.polling)
    await client.user(7).send("/start@coachbot_sandbox_bot now")
    (update,) = await asyncio.wait_for(poll, timeout=5)
    assert update.message is not None
    assert update.message.text == "/start@coachbot_sandbox_bot now"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start@coachbot_sandbox_bot")
    assert update.message.chat.type == "private"


async def test_offset_confirms_updates_like_telegram(bot: Bot, client: EmulatorClient) -> None:
    user = client.user(8)
    for text in ("one", "two", "three"):
        await user.send(text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    assert len(await bot.get_updates()) == 3, "not confirmed without an offset"
    remaining = await bot.get_updates(offset=first[0].update_id + 1)
    assert [u.message.text for u in remaining if u.message] == ["two", "three"]
    assert len(await bot.get_updates(limit=1)) == 1
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["three"]
    assert await bot.get_updates(offset=last[0].update_id + 1) == ()


async def test_a_newer_get_updates_terminates_the_waiting_one(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await until(lambda: emulator.polling)
    async with Bot(TOKEN, base_url=f"{emulator.url}/bot") as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await poll


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


# -- what Telegram refuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kwargs", "error"),
    [
        ("<b>unclosed", {"parse_mode": "HTML"}, "can't parse entities: can't find end tag"),
        ("1 < 2", {"parse_mode": "HTML"}, 'unsupported start tag "" at byte offset 2'),
        ("*bold*", {"parse_mode": "MarkdownV2"}, "unsupported parse_mode"),
        ("x" * 4097, {}, "message is too long"),
        ("😀" * 2049, {}, "message is too long"),  # 4098 UTF-16 code units
        ("<b> </b>\n", {"parse_mode": "HTML"}, "message text is empty"),
        (
            "pick one",
            {"reply_markup": keyboard(("A", "a" * 65))},
            "button_data_invalid",
        ),
        (
            "pick one",
            {"reply_markup": InlineKeyboardMarkup([[InlineKeyboardButton("no action")]])},
            "text buttons are unallowed in the inline keyboard",
        ),
    ],
)
async def test_send_message_refusals(
    emulator: BotApiEmulator,
    bot: Bot,
    sam: SandboxUser,
    text: str,
    kwargs: dict[str, object],
    error: str,
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(sam.chat_id, text, **kwargs)  # type: ignore[arg-type]
    assert error in caught.value.message.lower()
    (rejected,) = emulator.rejected()
    assert rejected.method == "sendMessage"
    assert rejected.error_code == 400
    assert rejected.description is not None and error in rejected.description.lower()


async def test_limits_are_counted_after_parsing(bot: Bot, sam: SandboxUser) -> None:
    message = await bot.send_message(sam.chat_id, f"<b>{'x' * 4096}</b>", parse_mode="HTML")
    assert message.text == "x" * 4096
    assert message.entities[0].type == "bold"
    edge = await bot.send_message(sam.chat_id, "😀" * 2048)
    assert edge.text == "😀" * 2048
    await bot.send_message(sam.chat_id, "ok", reply_markup=keyboard(("A", "é" * 32)))  # 64 bytes


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


async def test_edit_must_change_something(bot: Bot, sam: SandboxUser) -> None:
    markup = keyboard(("Yes", "yes"))
    sent = await bot.send_message(
        sam.chat_id, "<b>Ready?</b>", parse_mode="HTML", reply_markup=markup
    )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>Ready?</b>", sam.chat_id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    edited = await bot.edit_message_text(
        "Ready?", sam.chat_id, sent.message_id, reply_markup=markup
    )
    assert isinstance(edited, type(sent)) and edited.entities == ()  # the bold went away
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", sam.chat_id, 4242)
    await sam.wait_for(lambda event: event.type == "edit" and event.labels == ["Yes"])


async def test_users_press_only_buttons_that_exist(
    emulator: BotApiEmulator, bot: Bot, sam: SandboxUser
) -> None:
    sent = await bot.send_message(
        sam.chat_id, "Pain today?", reply_markup=keyboard(("Low", "pain:1"), ("High", "pain:9"))
    )
    shown = await sam.wait_for("Pain today?")
    assert shown.button("High").callback_data == "pain:9"
    await sam.press("High")
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None and query.data == "pain:9"
    assert query.message is not None and query.message.message_id == sent.message_id
    await bot.answer_callback_query(query.id, text="Noted")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)
    answer = await sam.wait_for("Noted", types=("callback_answer",))
    assert answer.message_id == sent.message_id

    await bot.edit_message_reply_markup(sam.chat_id, sent.message_id)  # keyboard removed
    with pytest.raises(AssertionError, match="no button 'High'"):
        await sam.press("High", timeout=0)
    stale = await sam.press_data(sent.message_id, "pain:9")
    assert stale.status_code == 400
    await sam.press_forged(sent.message_id, "pain:9")
    forged = (await bot.get_updates())[-1].callback_query
    assert forged is not None and forged.data == "pain:9"


async def test_press_waits_for_the_button_to_appear(bot: Bot, sam: SandboxUser) -> None:
    press = asyncio.create_task(sam.press("Later"))
    await bot.send_message(sam.chat_id, "Now?", reply_markup=keyboard(("Later", "later")))
    await asyncio.wait_for(press, timeout=5)
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None and query.data == "later"


async def test_user_edits_arrive_as_edited_messages(bot: Bot, sam: SandboxUser) -> None:
    message_id = await sam.send("typo")
    await sam.edit(message_id, "fixed")
    update = (await bot.get_updates())[-1]
    assert update.edited_message is not None
    assert (update.edited_message.message_id, update.edited_message.text) == (message_id, "fixed")


async def test_messages_reflect_the_current_state(bot: Bot, sam: SandboxUser) -> None:
    sent = await bot.send_message(sam.chat_id, "draft", reply_markup=keyboard(("Go", "go")))
    await bot.send_chat_action(sam.chat_id, "typing")
    await bot.edit_message_text("final", sam.chat_id, sent.message_id)
    await bot.delete_message(sam.chat_id, sent.message_id)
    types = [event.type for event in await sam.next_events()]
    assert types == ["message", "chat_action", "edit", "delete"]
    assert [m["text"] for m in await sam.messages()] == ["hi"]


# -- files ----------------------------------------------------------------------------------------


async def test_animation_upload_round_trip(
    bot: Bot, client: EmulatorClient, sam: SandboxUser
) -> None:
    """sendAnimation takes a GIF (its size read back), stores it for its file_id to be sent
    again without a second upload, and refuses what is not an animation."""
    frames = [Image.new("RGB", (48, 32), color) for color in ("white", "black")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], loop=0)
    gif = buffer.getvalue()
    sent = await bot.send_animation(sam.chat_id, gif, caption="<b>Bridge</b>", parse_mode="HTML",
                                    filename="bridge.gif")  # fmt: skip
    assert sent.animation is not None and (sent.animation.width, sent.animation.height) == (48, 32)
    event = await sam.wait_for("Bridge")
    assert event.animation is not None and await client.file(event.animation.file_id) == gif
    again = await bot.send_animation(sam.chat_id, sent.animation.file_id)
    assert again.animation is not None and again.animation.file_id == sent.animation.file_id
    with pytest.raises(BadRequest):
        await bot.send_animation(sam.chat_id, b"not a gif", filename="x.gif")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_animation(sam.chat_id, gif, caption="x" * 1025, filename="b.gif")


async def test_photo_upload_round_trip(bot: Bot, client: EmulatorClient, sam: SandboxUser) -> None:
    png = make_png(30, 20)
    sent = await bot.send_photo(sam.chat_id, png, caption="<b>Your week</b>", parse_mode="HTML")
    assert (sent.photo[-1].width, sent.photo[-1].height) == (30, 20)
    assert sent.caption == "Your week"
    event = await sam.wait_for("Your week")
    assert event.photo is not None and event.photo.size == len(png)
    stored = await client.file(event.photo.file_id)
    assert stored == png and stored.startswith(b"\x89PNG\r\n\x1a\n")
    again = await bot.send_photo(sam.chat_id, sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(sam.chat_id, png[:-20])
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(sam.chat_id, png, caption="x" * 1025)


async def test_document_upload(bot: Bot, client: EmulatorClient, sam: SandboxUser) -> None:
    sent = await bot.send_document(sam.chat_id, b"day,pain\n1,3\n", filename="diary.csv")
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("diary.csv", "text/csv")
    assert await client.file(sent.document.file_id) == b"day,pain\n1,3\n"
    with pytest.raises(BadRequest, match="Type of file mismatch"):
        await bot.send_photo(sam.chat_id, sent.document.file_id)


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


# -- webhooks -------------------------------------------------------------------------------------


class _Receiver(tornado.web.RequestHandler):
    def initialize(
        self, received: asyncio.Queue[tuple[str | None, dict[str, object]]], failures: list[int]
    ) -> None:
        self._received = received
        self._failures = failures

    def post(self) -> None:
        secret = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self._received.put_nowait((secret, json.loads(self.request.body)))
        if self._failures:
            self.set_status(self._failures.pop())


async def test_webhook_delivery_with_secret_and_retry(
    emulator: BotApiEmulator, bot: Bot, sam: SandboxUser
) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, object]]] = asyncio.Queue()
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = HTTPServer(
        tornado.web.Application([(r"/hook", _Receiver, {"received": received, "failures": [500]})])
    )
    server.add_sockets(sockets)
    url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
    try:
        await bot.set_webhook(url, secret_token="s3cret-token")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        failed = await asyncio.wait_for(received.get(), timeout=5)  # sam's "hi", answered 500
        retried = await asyncio.wait_for(received.get(), timeout=5)
        assert failed == retried
        assert retried[0] == "s3cret-token"
        assert retried[1]["message"]["text"] == "hi"  # type: ignore[index]
        info = await bot.get_webhook_info()
        assert info.url == url
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        await bot.delete_webhook()
        await sam.send("back to polling")
        (update,) = await bot.get_updates()
        assert update.message is not None and update.message.text == "back to polling"
    finally:
        server.stop()
        await server.close_all_connections()


# -- commands -------------------------------------------------------------------------------------


async def test_bot_commands_are_validated_and_kept(bot: Bot) -> None:
    await bot.set_my_commands([("start", "Begin"), ("today", "Today's exercises")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "today"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Start", "Begin")])
    with pytest.raises(BadRequest, match="Command description must be non-empty"):
        await bot.set_my_commands([("start", " ")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
