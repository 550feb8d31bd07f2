"""Lean sends: a text message and its inline keyboard through PTB's request layer, without its
objects.

`Bot.send_message` builds an `InlineKeyboardMarkup` of `InlineKeyboardButton`s for every message,
turns them back into a dict, and parses Telegram's answer into a `Message` (with its `User`,
`Chat`, entities and keyboard), of which a sender that only keeps the message id uses nothing.
At thousands of prompts a tick that is most of the dispatcher's CPU beside httpx. Here the
keyboard is written as its JSON text once per message and the answer stays the dict Telegram sent.

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

_COMPACT = (",", ":")


def markup_json(buttons: Keyboard) -> str | None:
    """The `reply_markup` parameter for these buttons, as the JSON text Telegram reads (what
    `render.keyboard(buttons)` serialises to); None without buttons."""
    if not buttons:
        return None
    rows = [[{"text": b.label, "callback_data": encode(b.action)} for b in row] for row in buttons]
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False, separators=_COMPACT)


async def send_text(bot: Bot, chat_id: int, text: str, markup: str | None = None) -> int:
    """Send an HTML message with an optional `markup_json` keyboard; the new message's id."""
    data: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML.value}
    if markup is not None:
        data["reply_markup"] = markup
    result = await bot._post("sendMessage", data)
    return int(result["message_id"])
