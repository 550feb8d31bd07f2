"""Lean sends and edits: a text message and its inline keyboard through PTB's request layer,
without its objects.

`Bot.send_message` builds an `InlineKeyboardMarkup` of `InlineKeyboardButton`s for every message,
turns them back into a dict, and parses Telegram's answer into a `Message` (with its `User`,
`Chat`, entities and keyboard), of which a sender that only keeps the message id uses nothing.
At thousands of prompts a tick, or a hundred button presses a second, that is much of the bot's
CPU beside the network. Here the keyboard is written as its JSON text once per message and the
answer stays the dict Telegram sent. The dispatcher's prompts, the handlers' text replies and
their edits go this way.

The request itself is PTB's: `Bot._post`, the method every `Bot` method ends in, so on an
`ExtBot` it passes the `AIORateLimiter` (its pacing and its retries of "retry after"), and
PTB's request layer maps Telegram's errors as for `send_message`: `Forbidden`, `BadRequest`,
`ChatMigrated`, `RetryAfter`, `TimedOut`, `NetworkError`, `InvalidToken`. (The public
`Bot.do_api_request` does the same but warns that `send_message` exists, and the tests turn
warnings into errors.)
"""

from __future__ import annotations

import json
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode

from coachbot.bot.callbacks import encode
from coachbot.services.replies import Keyboard

_MARKUP = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once, not per call


def markup_json(buttons: Keyboard) -> str | None:
    """The `reply_markup` parameter for these buttons, as the JSON text Telegram reads (what
    `render.keyboard(buttons)` serialises to); None without buttons."""
    if not buttons:
        return None
    rows = [[{"text": b.label, "callback_data": encode(b.action)} for b in row] for row in buttons]
    return _MARKUP.encode({"inline_keyboard": rows})


def _message(chat_id: int, text: str, markup: str | None) -> dict[str, Any]:
    """The parameters of an HTML text message with an optional `markup_json` keyboard."""
    data: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML.value}
    if markup is not None:
        data["reply_markup"] = markup
    return data


async def send_text(bot: Bot, chat_id: int, text: str, markup: str | None = None) -> int:
    """Send an HTML message with an optional `markup_json` keyboard; the new message's id."""
    result = await bot._post("sendMessage", _message(chat_id, text, markup))
    return int(result["message_id"])


async def edit_text(bot: Bot, chat_id: int, message_id: int, text: str,
                    markup: str | None = None) -> None:  # fmt: skip
    """Rewrite one of the bot's messages (HTML) and its keyboard (none: the keyboard goes)."""
    await bot._post("editMessageText", _message(chat_id, text, markup) | {"message_id": message_id})


async def remove_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take the keyboard off one of the bot's messages."""
    await bot._post("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id})
