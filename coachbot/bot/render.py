"""Turn service replies into Telegram messages (HTML parse mode, inline keyboards)."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode

from coachbot.bot.callbacks import encode
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


async def send_replies(bot: Bot, chat_id: int, replies: tuple[Reply, ...]) -> None:
    for reply in replies:
        await bot.send_message(
            chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply.buttons)
        )
