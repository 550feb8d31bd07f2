"""The `coachbot` command (no subcommand: run with a token, else the sandbox demo)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from coachbot.config import ConfigError, Settings, load_settings
from coachbot.content import ContentError, default_content
from coachbot.logs import configure_logging
from coachbot.paths import CONTENT_DIR
from coachbot.storage.migrate import SchemaAheadError, SchemaState, schema_state, upgrade_to_head

EXIT_USAGE = 2
EXIT_CONTENT = 1
WEB_PORT = 8088  # the web sandbox: http://127.0.0.1:8088/


class StartupError(Exception):
    """Start-up cannot go on; the message is one line for the operator."""


def _prepare_database(settings: Settings) -> None:
    """SQLite is upgraded in place; a shared PostgreSQL is migrated only by `coachbot migrate`."""
    try:
        if settings.is_default_sqlite:
            upgrade_to_head(settings.database_url)
            return
        state = asyncio.run(schema_state(settings.database_url))
    except SchemaAheadError as exc:
        raise StartupError(f"DATABASE_URL: {exc}") from None
    except OSError as exc:
        raise StartupError(f"DATABASE_URL: cannot reach the database ({exc})") from None
    if state is SchemaState.AHEAD:
        raise StartupError(
            "DATABASE_URL: the database is ahead of this coachbot; refusing to start"
        )
    if state is SchemaState.BEHIND:
        raise StartupError("DATABASE_URL: the schema is behind; run `coachbot migrate` first")


def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    """Run the bot: by webhook when WEBHOOK_URL is set, else by long polling (the default)."""
    from coachbot.bot.app import ALLOWED_UPDATES, build_application
    from coachbot.scheduler import DispatchConfig
    from coachbot.services.container import create_services

    token = settings.require_token()
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    if settings.webhook_url is not None and secret is None:  # Settings refuses this already
        raise ConfigError("WEBHOOK_SECRET: required when WEBHOOK_URL is set")
    configure_logging(settings.log_level, [token] + ([secret] if secret else []))
    default_content()  # fail fast on broken content
    _prepare_database(settings)
    services = create_services(settings.database_url, settings.default_timezone)
    dispatch = DispatchConfig(
        interval=settings.dispatch_interval_seconds,
        concurrency=settings.dispatch_concurrency,
        max_unrecorded=settings.dispatch_max_unrecorded,
        lease=timedelta(seconds=settings.dispatch_lease_seconds),
    )
    application = build_application(
        token, settings.api_root, services, dispatch=dispatch,
        max_rate=settings.telegram_max_rate, admin_ids=settings.admins,
    )  # fmt: skip
    webhook = settings.webhook_url is not None and secret is not None
    if not webhook and not settings.health_listen:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
        return 0
    from coachbot.bot.webhook import ListenError, parse_listen, run_until_signalled

    listen, variable = (
        (settings.webhook_listen, "WEBHOOK_LISTEN") if webhook
        else (settings.health_listen, "HEALTH_LISTEN")
    )  # fmt: skip
    host, port = parse_listen(listen)
    url = str(settings.webhook_url) if webhook else None
    try:
        asyncio.run(run_until_signalled(application, url=url, secret=secret or "", host=host,
                                        port=port))  # fmt: skip
    except ListenError as exc:
        raise StartupError(f"{variable}: {exc}") from None
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging("WARNING", [])
    if args.web:
        from coachbot.sandbox.web_demo import run_web

        return asyncio.run(run_web(settings.default_timezone, host=args.host, port=args.port))
    from coachbot.sandbox.terminal import run_demo

    return asyncio.run(run_demo(settings.default_timezone))


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    configure_logging(settings.log_level, [])
    try:
        upgrade_to_head(settings.database_url)
    except SchemaAheadError as exc:
        raise StartupError(f"DATABASE_URL: {exc}") from None
    print(f"database at head ({asyncio.run(schema_state(settings.database_url)).value})")
    return 0


def cmd_emulator(_settings: Settings, args: argparse.Namespace) -> int:
    from coachbot.sandbox.emulator import main as emulator_main

    return emulator_main(["--port", str(args.port)])


def cmd_simulate(_settings: Settings, args: argparse.Namespace) -> int:
    from coachbot.services.simulation import ScenarioError, load_scenario, simulate, table

    content = default_content()
    try:
        scenario = load_scenario(Path(args.scenario), content)
    except ScenarioError as exc:
        raise StartupError(str(exc)) from None
    result = simulate(scenario, content)
    print(json.dumps(result) if args.json else table(scenario, result))
    return 0


def cmd_content_check(_settings: Settings, args: argparse.Namespace) -> int:
    from coachbot.content_check import check_directory

    problems = check_directory(Path(args.directory))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return EXIT_CONTENT
    print(f"content in {args.directory}: no problems")
    return 0


def cmd_default(settings: Settings, args: argparse.Namespace) -> int:
    """Run the bot when a token is configured; otherwise the web sandbox."""
    if settings.telegram_bot_token is not None:
        return cmd_run(settings, args)
    return cmd_demo(settings, argparse.Namespace(web=True, host="127.0.0.1", port=WEB_PORT))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coachbot", description=__doc__)
    parser.set_defaults(handler=cmd_default)
    sub = parser.add_subparsers(title="commands")
    sub.add_parser(
        "run", help="run the bot (long polling, or a webhook when WEBHOOK_URL is set)"
    ).set_defaults(handler=cmd_run)
    demo = sub.add_parser(
        "demo", help="chat with the bot in this terminal (or in a browser: --web), in a sandbox"
    )
    demo.add_argument("--web", action="store_true", help="serve the web sandbox instead")
    demo.add_argument("--host", default="127.0.0.1", help="--web: the address to listen on")
    demo.add_argument("--port", type=int, default=WEB_PORT, help="--web: the port (0: any free)")
    demo.set_defaults(handler=cmd_demo)
    sub.add_parser("migrate", help="upgrade the database to the newest schema").set_defaults(
        handler=cmd_migrate
    )
    simulate = sub.add_parser("simulate", help="run a scripted user through the rules")
    simulate.add_argument("scenario", help="a scenario YAML file (see content/scenarios/)")
    simulate.add_argument("--json", action="store_true", help="print the spec's JSON object")
    simulate.set_defaults(handler=cmd_simulate)
    content = sub.add_parser("content", help="content tools").add_subparsers(title="content")
    check = content.add_parser("check", help="lint the content set against the clinical spec")
    check.add_argument("directory", nargs="?", default=str(CONTENT_DIR))
    check.set_defaults(handler=cmd_content_check)
    emulator = sub.add_parser("emulator", help="serve the Bot API emulator on 127.0.0.1")
    emulator.add_argument("--port", type=int, default=8081)
    emulator.set_defaults(handler=cmd_emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    try:
        return handler(load_settings(), args)
    except (ConfigError, ContentError, StartupError) as exc:
        print(f"coachbot: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
