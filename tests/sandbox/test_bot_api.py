"""The Bot API methods, driven by the real PTB ``Bot`` over HTTP."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
import tornado.netutil
import tornado.web
from PIL import Image
from telegram import Bot
from telegram.error import BadRequest, Conflict
from tornado.httpserver import HTTPServer

from coachbot.sandbox.emulator import BotApiEmulator, make_png
from coachbot.testing import EmulatorClient, SandboxUser
from tests.sandbox.conftest import TOKEN, keyboard, until

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


# -- editing --------------------------------------------------------------------------------------


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
