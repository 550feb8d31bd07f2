"""Turn service replies into Telegram messages (HTML parse mode, inline keyboards)."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import ParseMode

from coachbot.bot.callbacks import encode
from coachbot.bot.lean import markup_json, send_text
from coachbot.services.media import MediaService
from coachbot.services.replies import Keyboard, Reply


def keyboard(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=encode(b.action)) for b in row]
            for row in buttons
        ]
    )


async def _send_animation(bot: Bot, chat_id: int, reply: Reply, media: MediaService) -> Message:
    """An exercise's animation with the reply as its caption: uploaded the first time, then
    sent by Telegram's file_id (to anyone)."""
    key = reply.animation
    assert key is not None
    extra: dict[str, Any] = {"caption": reply.text, "parse_mode": ParseMode.HTML,
                             "reply_markup": keyboard(reply.buttons)}  # fmt: skip
    async with media.uploading(key):
        known = media.uploaded.get(key)
        if known is None:
            upload = InputFile(await media.animation(key), filename=f"{key}.gif")
            message = await bot.send_animation(chat_id, upload, **extra)
            if message.animation is not None:
                media.uploaded[key] = message.animation.file_id
            return message
    return await bot.send_animation(chat_id, known, **extra)


async def send_reply_lean(bot: Bot, chat_id: int, reply: Reply,
                          media: MediaService | None) -> int:  # fmt: skip
    """One reply, the new message's id: a text message through `lean.send_text` (no PTB objects
    built or parsed; the same request, rate limiter and errors), an exercise's animation with
    the text as its caption through PTB (its file_id is read from the answer)."""
    if reply.animation is not None and media is not None:
        return (await _send_animation(bot, chat_id, reply, media)).message_id
    return await send_text(bot, chat_id, reply.text, markup_json(reply.buttons))


async def send_replies(bot: Bot, chat_id: int, replies: tuple[Reply, ...],
                       media: MediaService | None = None) -> None:  # fmt: skip
    """A handler's answer: nothing is read back from Telegram's, so the sends are lean."""
    for reply in replies:
        await send_reply_lean(bot, chat_id, reply, media)
