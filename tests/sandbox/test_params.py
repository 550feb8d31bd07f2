"""Telegram's rules for request parameters: encodings, limits, HTML, keyboards."""

from __future__ import annotations

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.testing import SandboxUser
from tests.sandbox.conftest import TOKEN, keyboard

# -- parameter encodings --------------------------------------------------------------------------


async def test_json_and_query_string_parameters(emulator: BotApiEmulator, sam: SandboxUser) -> None:
    async with httpx.AsyncClient(base_url=f"{emulator.url}/bot{TOKEN}") as http:
        as_json = await http.post("/sendMessage", json={"chat_id": sam.chat_id, "text": "json"})
        as_query = await http.get("/sendMessage", params={"chat_id": sam.chat_id, "text": "query"})
    assert as_json.json()["result"]["text"] == "json"
    assert as_query.json()["result"]["message_id"] == as_json.json()["result"]["message_id"] + 1


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
