"""A Telegram Bot API emulator for tests and demos: real HTTP on localhost, Telegram's rules.

Why it exists: a bot is only as correct as the requests it sends. Mocking ``telegram.Bot``
hides exactly the mistakes Telegram punishes in production (bad HTML, over-long text, stale
buttons, 64-byte callback data, flood limits), so the real PTB ``Application`` talks HTTP to
this emulator instead, and the emulator refuses what Telegram refuses, with Telegram's status
codes and error descriptions.

Two faces, one server (``BotApiEmulator.url``):

* ``/bot<token>/<method>``: the Bot API subset coachbot uses, reached through
  ``ApplicationBuilder().base_url(f"{url}/bot")``. Parameters may come as a query string,
  ``application/x-www-form-urlencoded`` (objects JSON-encoded into strings, as PTB sends them),
  ``multipart/form-data`` (uploads) or a JSON body.
* ``/_sandbox/...``: the users' side, used by :mod:`coachbot.testing` and the demos:
  send and edit messages, press buttons, block the bot, watch what the bot did, inject faults;
  with :class:`SandboxControls` attached, the bot-side controls of ``coachbot demo``.
* ``/`` and ``/web/<name>``: the web page of ``coachbot demo --web`` (files in ``web/``), a
  Telegram-like chat on the ``/_sandbox/`` routes.

Only ``parse_mode="HTML"`` is checked (strictly, see :mod:`coachbot.sandbox._html`). Any other
parse mode, ``MarkdownV2`` and ``Markdown`` included, is refused with Telegram's
``Bad Request: unsupported parse_mode``: a bot switching parse modes must fail loudly here
rather than pass unchecked.

Known differences from Telegram, all on the side of refusing or of simplicity:

* webhooks may be plain ``http://`` on any port (tests have no certificates);
* files are uploads or file_ids the emulator issued; URLs are not fetched and are refused
  with Telegram's ``failed to get HTTP URL content``; photos must be PNG, JPEG or GIF;
* the ``entities``/``caption_entities`` parameters, inline messages (``inline_message_id``),
  replies and channels are not emulated; chats are private chats and groups;
* no 48-hour limit on editing or deleting, no expiry of callback queries, no 20-per-minute
  group limit and no 24-hour retention limit for pending updates.

This module is the facade (start-up, fault injection, what tests inspect) and the command line;
the parts are:

* :mod:`~coachbot.sandbox.params`: request parameters and Telegram's rules for them;
* :mod:`~coachbot.sandbox._html`: the HTML parse mode;
* :mod:`~coachbot.sandbox.world`: users, chats, messages, files, the update queue and event log;
* :mod:`~coachbot.sandbox.bot_api`: the Bot API methods, the request log and injected faults;
* :mod:`~coachbot.sandbox.webhook`: webhook delivery;
* :mod:`~coachbot.sandbox.user_side`: the ``/_sandbox/`` routes and the web page's files;
* :mod:`~coachbot.sandbox.server`: the tornado server and its handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable, Iterable
from pathlib import Path

from coachbot.sandbox.bot_api import DROP_CONNECTION, TOKEN_SHAPE, BotApi, RecordedRequest
from coachbot.sandbox.params import ApiError, make_png
from coachbot.sandbox.server import EmulatorServer
from coachbot.sandbox.user_side import SandboxControls, UserSide
from coachbot.sandbox.world import World

__all__ = [
    "DROP_CONNECTION",
    "ApiError",
    "BotApiEmulator",
    "RecordedRequest",
    "SandboxControls",
    "main",
    "make_png",
]


class BotApiEmulator:
    """The Bot API and the users' side of one Telegram bot, served on localhost.

    Start it inside a running event loop; everything then happens on that loop, so the state
    needs no locks. ``clock`` (monotonic seconds) times requests and rate limits, and may be
    replaced by tests that need to move time. ``controls`` (also settable later) answers
    ``POST /_sandbox/control/<action>``; ``web_root`` replaces the web page's folder.
    ``latency`` (seconds) is added to every Bot API answer, like Telegram's round trip (about
    0.05 from a server near Telegram's); the users' side answers at once.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "coachbot_sandbox_bot",
        enforce_rate_limits: bool = False,
        controls: SandboxControls | None = None,
        web_root: Path | None = None,
        latency: float = 0.0,
    ) -> None:
        if token is not None and not TOKEN_SHAPE.fullmatch(token):
            raise ValueError("token must look like Telegram's: <digits>:<30+ letters>")
        self._host = host
        self._port = port
        bot_id = int(token.split(":")[0]) if token else 1
        self._world = World(bot_id=bot_id, bot_username=bot_username)
        self._bot_api = BotApi(self._world, token=token, enforce_rate_limits=enforce_rate_limits,
                               latency=latency)  # fmt: skip
        self._user_side = UserSide(self._world, self._bot_api, controls=controls, web_root=web_root)
        self._server = EmulatorServer(self._bot_api, self._user_side)

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one)."""
        self._port = self._server.listen(self._host, self._port)

    async def stop(self) -> None:
        """Stop webhook delivery, then close the server and every connection to it."""
        await self._bot_api.stop_webhook()
        await self._server.close()

    @property
    def url(self) -> str:
        """The Bot API root, ``http://host:port``; PTB's base_url is ``f"{url}/bot"``."""
        return f"http://{self._host}:{self._port}"

    # -- settings --------------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        return self._bot_api.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._bot_api.clock = clock

    @property
    def latency(self) -> float:
        """Seconds added to every Bot API answer (0: answered at once)."""
        return self._bot_api.latency

    @property
    def controls(self) -> SandboxControls | None:
        """The bot-side controls behind ``/_sandbox/control/<action>``, if any."""
        return self._user_side.controls

    @controls.setter
    def controls(self, controls: SandboxControls | None) -> None:
        self._user_side.controls = controls

    @property
    def enforce_rate_limits(self) -> bool:
        """Whether Telegram's flood limits are enforced (429 with retry_after beyond them)."""
        return self._bot_api.enforce_rate_limits

    @enforce_rate_limits.setter
    def enforce_rate_limits(self, enforce: bool) -> None:
        self._bot_api.enforce_rate_limits = enforce

    # -- inspection and fault injection ----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every Bot API call, in order, with the emulator's verdict."""
        return self._bot_api.requests

    @property
    def too_many_requests_count(self) -> int:
        """How many messages the flood limits refused."""
        return self._bot_api.too_many_requests_count

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting now, e.g. the bot under test is up."""
        return self._bot_api.polling

    def rejected(self) -> list[RecordedRequest]:
        """The calls Telegram's rules refused (injected faults excluded)."""
        return self._bot_api.rejected()

    def sent_messages_per_chat(self) -> dict[int, int]:
        """How many messages the bot sent successfully into each chat."""
        return self._bot_api.sent_messages_per_chat()

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with this error, before any checks.
        ``error_code`` 0 drops the connection without an answer (``DROP_CONNECTION``)."""
        self._bot_api.fail_next(method, error_code=error_code, description=description,
                                retry_after=retry_after, migrate_to_chat_id=migrate_to_chat_id,
                                count=count)  # fmt: skip

    # -- the users' side -------------------------------------------------------------------

    def set_blocked(self, user_id: int, blocked: bool = True) -> None:
        """Block or unblock the bot for a user; the bot gets a my_chat_member update."""
        self._world.set_blocked(user_id, blocked)

    def open_private_chats(self, user_ids: Iterable[int]) -> None:
        """Users who started the bot before this emulator did (e.g. users already in a test
        database): their private chats exist, with no update queued."""
        self._world.open_private_chats(user_ids)


# -- command line ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run a standalone emulator until SIGINT or SIGTERM, printing its URL on one line."""
    parser = argparse.ArgumentParser(
        prog="python -m coachbot.sandbox", description="Serve the Telegram Bot API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", help="accept only this token (default: any well-formed one)")
    parser.add_argument("--bot-username", default="coachbot_sandbox_bot")
    parser.add_argument("--enforce-rate-limits", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="added to every Bot API answer, like Telegram's round trip (e.g. 50)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.latency_ms < 0:
        parser.error("--latency-ms: zero or more milliseconds")
    emulator = BotApiEmulator(
        token=args.token,
        host=args.host,
        port=args.port,
        bot_username=args.bot_username,
        enforce_rate_limits=args.enforce_rate_limits,
        latency=args.latency_ms / 1000,
    )
    asyncio.run(_serve_until_signalled(emulator))
    return 0


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM (Ctrl-C, `docker stop`): for servers run from a command."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def _serve_until_signalled(emulator: BotApiEmulator) -> None:
    await emulator.start()
    print(emulator.url, flush=True)
    try:
        await until_signalled()
    finally:
        await emulator.stop()
