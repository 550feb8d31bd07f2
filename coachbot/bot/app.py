"""Build the PTB Application: handlers in order, rate limiter, command menu at start-up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from coachbot.bot import handlers
from coachbot.logs import cap_third_party_loggers
from coachbot.services.container import Services

log = logging.getLogger(__name__)
RATE_LIMITER_RETRIES = 3
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def bot_commands(services: Services) -> list[BotCommand]:
    """The command menu, from content (the same list /help shows)."""
    return [BotCommand(c.command, c.description) for c in services.content.commands]


async def _register_commands(application: AnyApplication) -> None:
    services: Services = application.bot_data[handlers.SERVICES_KEY]
    try:
        await application.bot.set_my_commands(bot_commands(services))
    except TelegramError as exc:  # the menu is a convenience; the bot works without it
        log.warning(
            "setMyCommands failed (%s); continuing without a command menu", type(exc).__name__
        )


async def _close_services(application: AnyApplication) -> None:
    services: Services = application.bot_data[handlers.SERVICES_KEY]
    await services.close()


def build_application(token: str, api_root: str, services: Services) -> AnyApplication:
    """The bot, talking to the Bot API at `api_root` (Telegram, a local server or the emulator)."""
    cap_third_party_loggers()
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_root}/bot")
        .base_file_url(f"{api_root}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMITER_RETRIES))
        .post_init(_register_commands)
        .post_shutdown(_close_services)
        .build()
    )
    application.bot_data[handlers.SERVICES_KEY] = services
    add_handlers(application)
    return application


def add_handlers(application: AnyApplication) -> None:
    """Route updates; the first matching handler in group 0 wins, so order matters."""
    say = handlers.reply_with
    application.add_handler(TypeHandler(Update, handlers.log_update), group=-1)
    routes = [
        MessageHandler(~filters.ChatType.PRIVATE, say("group_chat")),  # type: ignore[arg-type]
        MessageHandler(filters.UpdateType.EDITED, say("edited_message")),  # type: ignore[arg-type]
        CommandHandler("start", handlers.on_start),
        CommandHandler("help", handlers.on_help),
        MessageHandler(filters.COMMAND, say("unknown_command")),  # type: ignore[arg-type]
        MessageHandler(filters.TEXT, handlers.on_text),
        CallbackQueryHandler(handlers.on_button),
        MessageHandler(filters.ALL, say("unsupported_message")),  # type: ignore[arg-type]
    ]
    for route in routes:
        application.add_handler(route)
    application.add_error_handler(handlers.on_error)


@asynccontextmanager
async def polling(application: AnyApplication) -> AsyncIterator[AnyApplication]:
    """Run the bot by long polling inside an already running event loop (tests, the demo).

    `Application.run_polling` owns the loop and calls the post-init and post-shutdown hooks itself;
    this does the same steps for callers that own the loop.
    """
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
    await application.start()
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
