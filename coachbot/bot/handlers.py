"""One handler per user intent: decode the update, call one service, render what it returns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast

from telegram import Bot, InputFile, MaybeInaccessibleMessage, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from coachbot.bot.callbacks import decode
from coachbot.bot.lean import edit_text, markup_json, remove_keyboard
from coachbot.bot.render import send_replies
from coachbot.bot.updates import Redelivered
from coachbot.services import actions as a
from coachbot.services.container import Services
from coachbot.services.data_rights import Document
from coachbot.services.replies import Outcome, Reply
from coachbot.services.who import Who

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
SERVICES_KEY = "services"
RETIRED_KEY = "retired_keyboards"  # chat_data: messages whose keyboard a press retired ...
RETIRED_KEPT = 20  # ... the latest few (a double tap is answered within seconds)


def services_of(context: Context) -> Services:
    return cast(Services, context.application.bot_data[SERVICES_KEY])


def _who(update: Update) -> Who:
    assert update.effective_user is not None and update.effective_chat is not None
    return Who(update.effective_user.id, update.effective_chat.id)


async def _say(update: Update, context: Context, *replies: Reply) -> None:
    assert update.effective_chat is not None
    await send_replies(context.bot, update.effective_chat.id, replies, services_of(context).media)


async def log_update(update: Update, context: Context) -> None:
    """(No reply.) Log which kind of update arrived, from whom: ids and event names only."""
    kind = next(
        (
            name
            for name in ("message", "edited_message", "callback_query")
            if getattr(update, name) is not None
        ),
        "other",
    )
    user = update.effective_user.id if update.effective_user else None
    log.debug("update %s: %s from user %s", update.update_id, kind, user)


async def on_start(update: Update, context: Context) -> None:
    """/start: the welcome and consent question, the question left unanswered, or keep-or-restart."""
    outcome = await services_of(context).enrolment.start(_who(update))
    await _say(update, context, *outcome.replies)


async def on_help(update: Update, context: Context) -> None:
    """/help: the list of commands."""
    await _say(update, context, services_of(context).help())


async def on_text(update: Update, context: Context) -> None:
    """Typed text: a 0-10 answer to the check-in, an enrolment answer, or the open question again."""
    assert update.message is not None and update.message.text is not None
    services, who, text = services_of(context), _who(update), update.message.text
    outcome = (
        await services.checkin.typed_number(who, text)
        or await services.checkin.typed_text(who)
        or await services.enrolment.text(who, text)
    )
    await _say(update, context, *outcome.replies)


async def on_today(update: Update, context: Context) -> None:
    """/today (and /pain): today's check-in (day 0: the day's plan)."""
    outcome = await services_of(context).checkin.today(_who(update))
    await _say(update, context, *outcome.replies)


async def on_exercises(update: Update, context: Context) -> None:
    """/exercises: the current phase's exercises, a button each for its animation."""
    outcome = await services_of(context).checkin.exercises(_who(update))
    await _say(update, context, *outcome.replies)


async def on_symptom(update: Update, context: Context) -> None:
    """/symptom: the warning signs as one-tap buttons; any of them escalates at once."""
    outcome = await services_of(context).checkin.symptom(_who(update))
    await _say(update, context, *outcome.replies)


async def _send_files(update: Update, context: Context, outcome: Outcome,
                      documents: tuple[Document, ...], *, caption: str | None = None) -> None:  # fmt: skip
    """The outcome's replies, then its files: PNGs as photos, anything else as documents."""
    await _say(update, context, *outcome.replies)
    assert update.effective_chat is not None
    for document in documents:
        upload = InputFile(document.data, filename=document.name)
        if document.name.endswith(".png"):
            await context.bot.send_photo(update.effective_chat.id, upload, caption=caption)
        else:
            await context.bot.send_document(update.effective_chat.id, upload)


async def on_export(update: Update, context: Context) -> None:
    """/export: all the data held about the user, as JSON and CSV documents."""
    await _send_files(update, context, *await services_of(context).data.export(_who(update)))


async def on_progress(update: Update, context: Context) -> None:
    """/progress: the summary, then the pain chart."""
    services = services_of(context)
    outcome, files = await services.progress.progress(_who(update))
    await _send_files(update, context, outcome, files, caption=services.progress.chart_caption())


async def on_report(update: Update, context: Context) -> None:
    """/report: the one-page PDF for a clinician."""
    await _send_files(update, context, *await services_of(context).progress.report(_who(update)))


async def on_delete(update: Update, context: Context) -> None:
    """/delete: asks for confirmation; the button erases everything."""
    await _say(update, context, *services_of(context).data.ask_delete().replies)


async def on_stats(update: Update, context: Context) -> None:
    """/stats (operators in ADMIN_IDS only; the route filters): counts, no personal data."""
    await _say(update, context, await services_of(context).admin.stats())


async def on_settings(update: Update, context: Context) -> None:
    """/settings: time, zone and prompts, with buttons to change them."""
    outcome = await services_of(context).settings.show(_who(update))
    await _say(update, context, *outcome.replies)


def set_prompts(off: a.PromptsOff | None) -> Handler:
    """/pause, /resume or /stop: the daily prompts off (for that reason) or back on."""

    async def handler(update: Update, context: Context) -> None:
        outcome = await services_of(context).settings.set_prompts(_who(update), off)
        await _say(update, context, *outcome.replies)

    return handler


def ask_setting(which: a.SettingsChoice) -> Handler:
    """/time or /timezone: ask for the new value."""

    async def handler(update: Update, context: Context) -> None:
        outcome = await services_of(context).settings.ask(_who(update), which)
        await _say(update, context, *outcome.replies)

    return handler


Route = Callable[[Services, Who, Any], Coroutine[Any, Any, Outcome]]
# Each kind of button goes to the one service method that owns it.
ROUTES: dict[type, Route] = {
    a.Answer: lambda s, who, act: s.enrolment.press(who, act),
    a.IntakeFlag: lambda s, who, act: s.enrolment.press(who, act),
    a.Restart: lambda s, who, act: s.enrolment.restart(who, act),
    a.Settings: lambda s, who, act: s.settings.press(who, act),
    a.DeleteData: lambda s, who, act: s.data.delete(who, act),
    a.Symptom: lambda s, who, act: s.checkin.report_symptom(who, act),
    a.ShowExercise: lambda s, who, act: s.checkin.show_exercise(who, act),
    **{kind: (lambda s, who, act: s.checkin.answer(who, act)) for kind in a.DAILY_ACTIONS},
}


async def on_button(update: Update, context: Context) -> None:
    """A button press: stored, the pressed keyboard retired, the next question sent."""
    query = update.callback_query
    assert query is not None
    services = services_of(context)
    action = decode(query.data)
    if action is None or isinstance(action, a.Legacy):
        key = "stale_button" if action is None else "legacy_button"
        await query.answer(services.say(key).text, show_alert=action is not None)
        return
    message = query.message
    retired: list[int] = (
        context.chat_data.setdefault(RETIRED_KEY, []) if context.chat_data is not None else []
    )
    if message is not None and message.message_id in retired:
        # A second tap on a keyboard an earlier tap already retired (both were sent before the
        # first was answered): the first did the work; this one changes nothing.
        await query.answer(services.say("stale_button").text)
        return
    if isinstance(action, a.Report):
        await query.answer()
        await on_report(update, context)
        return
    outcome = await ROUTES[type(action)](services, _who(update), action)
    await query.answer(outcome.notice)
    if outcome.edit is not None and message is not None:
        await _edit(context.bot, message, outcome.edit)
    elif outcome.accepted and message is not None and getattr(message, "reply_markup", None):
        retired[:] = [*retired[-(RETIRED_KEPT - 1) :], message.message_id]
        await remove_keyboard(context.bot, message.chat.id, message.message_id)
    await _say(update, context, *outcome.replies)


async def _edit(bot: Bot, message: MaybeInaccessibleMessage, reply: Reply) -> None:
    """Rewrite the pressed message; pressing the same answer twice changes nothing, quietly."""
    try:
        await edit_text(bot, message.chat.id, message.message_id, reply.text,
                        markup_json(reply.buttons))  # fmt: skip
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


def reply_with(key: str) -> Handler:
    """A handler that answers with the fixed message `key` (groups, stickers, edits...)."""

    async def handler(update: Update, context: Context) -> None:
        await _say(update, context, services_of(context).say(key))

    handler.__doc__ = f"Anything routed here is answered with the '{key}' message."
    return handler


async def on_error(update: object, context: Context) -> None:
    """Log the failure once, with ids only, and tell the user their earlier answers are safe."""
    user = (
        update.effective_user.id if isinstance(update, Update) and update.effective_user else None
    )
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(context.error, Redelivered):
        return  # handled before (the gate logged it); its repeat was rolled back
    if isinstance(context.error, Forbidden) and user is not None:
        # They blocked the bot while it answered: their answer is already on record; only the
        # reply is lost. Not a fault of ours, so no traceback (the dispatcher does the same).
        await services_of(context).settings.blocked(user)
        log.info("user %s blocked the bot; prompts stopped until they /start again", user)
        return
    log.error("update %s from user %s failed", update_id, user, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await _say(update, context, services_of(context).say("internal_error"))
        except Exception:  # noqa: BLE001 - the apology itself failed; already logged above
            log.warning("could not tell user %s about the failure", user)
