"""Build the PTB Application: handlers in order, rate limiter, command menu at start-up."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator, Sequence
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
from coachbot.bot.http import make_request
from coachbot.bot.updates import FloodLimit, UpdateGate
from coachbot.clock import Clock, system_clock
from coachbot.logs import cap_third_party_loggers
from coachbot.scheduler import DispatchConfig, Dispatcher
from coachbot.services.actions import PromptsOff, SettingsChoice
from coachbot.services.container import Services

# Durations (RetryAfter.retry_after...) as timedelta, as PTB 23 will have them: without this
# opt-in PTB warns of the change each time the rate limiter reads a "retry after".
os.environ.setdefault("PTB_TIMEDELTA", "1")
log = logging.getLogger(__name__)
RATE_LIMITER_RETRIES = 3  # AIORateLimiter retries nothing by default: RetryAfter would reach us
TELEGRAM_MAX_RATE = 30.0  # messages a second, overall
DISPATCHER_KEY = "dispatcher"
DISPATCH_JOB = "dispatch"  # the repeating job's name (/healthz looks it up)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def bot_commands(services: Services) -> list[BotCommand]:
    """The command menu, from content (the same list /help shows)."""
    return [BotCommand(c.command, c.description) for c in services.content.commands]


# Commands only a sandbox adds (time travel): (menu entry, handler). `coachbot run` has none.
ExtraCommands = Sequence[tuple[BotCommand, handlers.Handler]]
EXTRA_COMMANDS_KEY = "extra_commands"


async def _post_init(application: AnyApplication) -> None:
    """Start the dispatch job (if any), register the command menu, and set the heap aside."""
    services: Services = application.bot_data[handlers.SERVICES_KEY]
    dispatcher = application.bot_data.get(DISPATCHER_KEY)
    if dispatcher is not None and application.job_queue is not None:
        application.job_queue.run_repeating(
            _dispatch_job,
            interval=dispatcher.config.interval,
            first=0.5,
            name=DISPATCH_JOB,
            job_kwargs={"max_instances": 1, "coalesce": True},
        )
    try:
        extra: ExtraCommands = application.bot_data.get(EXTRA_COMMANDS_KEY, ())
        await application.bot.set_my_commands(bot_commands(services) + [c for c, _ in extra])
    except TelegramError as exc:  # the menu is a convenience; the bot works without it
        log.warning(
            "setMyCommands failed (%s); continuing without a command menu", type(exc).__name__
        )
    # Everything made so far (modules, content, the bot) lives as long as the process: frozen,
    # the garbage collector's full passes no longer walk it. Each such pass over the whole heap
    # held the event loop for 70-90 ms (benchmarks.dispatch); over what is made later, 5-8 ms.
    gc.freeze()


async def _dispatch_job(context: Any) -> None:
    """The one repeating job: send whatever daily prompts are due."""
    dispatcher: Dispatcher = context.application.bot_data[DISPATCHER_KEY]
    report = await dispatcher.tick()
    if report.claimed or report.sent or report.failed:
        log.info("dispatch: claimed %s, sent %s, retried %s, failed %s, blocked %s, late %s",
                 report.claimed, report.sent, report.retried, report.failed, report.blocked,
                 report.skipped_late)  # fmt: skip


async def _close_services(application: AnyApplication) -> None:
    gc.unfreeze()  # what the application made may be garbage now (tests run many in turn)
    dispatcher: Dispatcher | None = application.bot_data.get(DISPATCHER_KEY)
    if dispatcher is not None:
        await dispatcher.close()
    services: Services = application.bot_data[handlers.SERVICES_KEY]
    await services.close()


def build_application(
    token: str,
    api_root: str,
    services: Services,
    *,
    dispatch: DispatchConfig | None = None,
    clock: Clock = system_clock,
    max_rate: float = TELEGRAM_MAX_RATE,
    flood: FloodLimit | None = None,
    admin_ids: frozenset[int] = frozenset(),
    extra_commands: ExtraCommands = (),
) -> AnyApplication:
    """The bot, talking to the Bot API at `api_root` (Telegram, a local server or the emulator)."""
    cap_third_party_loggers()
    gate = UpdateGate(services.db, clock, flood=flood,
                      flood_notice=services.content.messages.render("flood_notice"))  # fmt: skip
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_root}/bot")
        .base_file_url(f"{api_root}/file/bot")
        # PTB's default pool sizes (256 for calls, 1 for the long poll) on the lean client.
        .request(make_request(pool_size=256))
        .get_updates_request(make_request(pool_size=1))
        .rate_limiter(
            # One request per 1/rate seconds, not `rate` at once then `rate` a second: a burst
            # at the start of a big dispatch would exceed Telegram's limit in its first second.
            AIORateLimiter(
                overall_max_rate=1,
                overall_time_period=1 / max_rate,
                max_retries=RATE_LIMITER_RETRIES,
            )  # fmt: skip
        )
        .concurrent_updates(gate)
        .post_init(_post_init)
        .post_shutdown(_close_services)
        .build()
    )
    gate.bot = application.bot
    application.bot_data[handlers.SERVICES_KEY] = services
    if dispatch is not None:  # None: no scheduled prompts (tests tick a Dispatcher themselves)
        application.bot_data[DISPATCHER_KEY] = Dispatcher(
            services, application.bot, clock, dispatch
        )
    application.bot_data[EXTRA_COMMANDS_KEY] = extra_commands
    add_handlers(application, admin_ids, extra_commands)
    return application


def add_handlers(application: AnyApplication, admin_ids: frozenset[int] = frozenset(),
                 extra_commands: ExtraCommands = ()) -> None:  # fmt: skip
    """Route updates; the first matching handler in group 0 wins, so order matters."""
    say = handlers.reply_with
    application.add_handler(TypeHandler(Update, handlers.log_update), group=-1)
    # /stats answers operators only; for anyone else it is an unknown command.
    admins = [CommandHandler("stats", handlers.on_stats, filters.User(user_id=admin_ids))]
    routes = [
        *(admins if admin_ids else []),
        MessageHandler(~filters.ChatType.PRIVATE, say("group_chat")),
        MessageHandler(filters.UpdateType.EDITED, say("edited_message")),
        CommandHandler("start", handlers.on_start),
        CommandHandler("help", handlers.on_help),
        CommandHandler(["today", "pain"], handlers.on_today),
        CommandHandler("settings", handlers.on_settings),
        CommandHandler("export", handlers.on_export),
        CommandHandler("progress", handlers.on_progress),
        CommandHandler("report", handlers.on_report),
        CommandHandler("delete", handlers.on_delete),
        CommandHandler("symptom", handlers.on_symptom),
        CommandHandler("exercises", handlers.on_exercises),
        CommandHandler("pause", handlers.set_prompts(PromptsOff.PAUSED)),
        CommandHandler("resume", handlers.set_prompts(None)),
        CommandHandler("stop", handlers.set_prompts(PromptsOff.STOPPED)),
        CommandHandler("time", handlers.ask_setting(SettingsChoice.TIME)),
        CommandHandler("timezone", handlers.ask_setting(SettingsChoice.TIMEZONE)),
        *(CommandHandler(command.command, handler) for command, handler in extra_commands),
        MessageHandler(filters.COMMAND, say("unknown_command")),
        MessageHandler(filters.TEXT, handlers.on_text),
        CallbackQueryHandler(handlers.on_button),
        MessageHandler(filters.ALL, say("unsupported_message")),
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
