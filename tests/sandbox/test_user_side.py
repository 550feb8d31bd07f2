"""The users' side (``/_sandbox/``): what users do, and what they see of the bot."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import BadRequest

from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.testing import SandboxUser
from tests.sandbox.conftest import keyboard

# -- buttons --------------------------------------------------------------------------------------


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


# -- messages -------------------------------------------------------------------------------------


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
