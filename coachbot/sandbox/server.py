"""The emulator's HTTP server (tornado): the routes, and the long-poll-aware request handlers.

``/bot<token>/<method>`` is the Bot API (:mod:`coachbot.sandbox.bot_api`); ``/_sandbox/...``
the users' side (:mod:`coachbot.sandbox.user_side`), ``/`` and ``/web/<name>`` its web page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any
from urllib.parse import quote

import tornado.netutil
import tornado.web
from tornado.httpserver import HTTPServer

from coachbot.sandbox.bot_api import DROP_CONNECTION, BotApi
from coachbot.sandbox.user_side import UserSide

__all__ = ["EmulatorServer", "attachment"]

MAX_BODY_BYTES = 64 * 1024 * 1024


class EmulatorServer:
    """Serves ``/bot<token>/<method>`` from ``bot_api`` and ``/_sandbox/...`` from ``user_side``."""

    def __init__(self, bot_api: BotApi, user_side: UserSide) -> None:
        self._application = tornado.web.Application(
            [
                (r"/bot([^/]*)/([^/]*)", _BotApiHandler, {"bot_api": bot_api}),
                (r"/_sandbox/files/([^/]+)", _SandboxFileHandler, {"user_side": user_side}),
                (r"/_sandbox/control/([^/]+)", _ControlHandler, {"user_side": user_side}),
                (r"/_sandbox/([a-z]+)", _SandboxHandler, {"user_side": user_side}),
                (r"/()", _WebHandler, {"user_side": user_side}),
                (r"/web/([^/]+)", _WebHandler, {"user_side": user_side}),
            ],
            log_function=lambda handler: None,
        )
        self._server: HTTPServer | None = None

    def listen(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (port 0 picks a free one); the port listened on."""
        sockets = tornado.netutil.bind_sockets(port, host)
        self._server = HTTPServer(self._application, max_body_size=MAX_BODY_BYTES)
        self._server.add_sockets(sockets)
        bound: int = sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None


class _EmulatorHandler(tornado.web.RequestHandler):
    """Runs the answer as a task that ends when the client leaves.

    A long poll whose client has gone (PTB cancelling its getUpdates at shutdown, a test
    giving up) must stop waiting: it would otherwise take the next updates for nobody, or keep
    the server from closing.
    """

    _work: asyncio.Future[tuple[int, Any]] | None = None
    _cancel_on_close = True

    async def _answer(self, work: Awaitable[tuple[int, Any]]) -> None:
        self._work = asyncio.ensure_future(work)
        try:
            status, body = await self._work
        except asyncio.CancelledError:
            return  # nobody left to answer
        if status == DROP_CONNECTION:  # an injected fault: the line goes dead mid-request
            self.request.connection.close()  # type: ignore[union-attr]
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))

    def on_connection_close(self) -> None:
        if self._work is not None and self._cancel_on_close:
            self._work.cancel()


class _BotApiHandler(_EmulatorHandler):
    """``/bot<token>/<method>``: Telegram's envelope, with Telegram's HTTP status."""

    def initialize(self, bot_api: BotApi) -> None:
        self._bot_api = bot_api

    async def get(self, token: str, method: str) -> None:
        await self._answer(self._bot_api.call(token, method, self.request))

    async def post(self, token: str, method: str) -> None:
        await self._answer(self._bot_api.call(token, method, self.request))


class _SandboxHandler(_EmulatorHandler):
    """``/_sandbox/<action>``: JSON in (the body of a POST, the query of a GET), JSON out."""

    def initialize(self, user_side: UserSide) -> None:
        self._user_side = user_side

    async def get(self, action: str) -> None:
        query = {name: values[-1].decode() for name, values in self.request.query_arguments.items()}
        await self._answer(self._user_side.answer("GET", action, query))

    async def post(self, action: str) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        await self._answer(self._user_side.answer("POST", action, body))


class _ControlHandler(_EmulatorHandler):
    """``/_sandbox/control/<action>``: a bot-side control, JSON object in, JSON out.

    A control runs to its end even if the page goes away meanwhile: time travel stopped half
    way would leave the sandbox in a state nobody asked for.
    """

    _cancel_on_close = False

    def initialize(self, user_side: UserSide) -> None:
        self._user_side = user_side

    async def post(self, action: str) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        await self._answer(self._user_side.control(action, body))


class _SandboxFileHandler(tornado.web.RequestHandler):
    """``/_sandbox/files/<file_id>``: the bytes of a file the bot or a user sent;
    ``?download=1`` asks the browser to save it under its name."""

    def initialize(self, user_side: UserSide) -> None:
        self._user_side = user_side

    async def get(self, file_id: str) -> None:
        stored = self._user_side.stored_file(file_id)
        if stored is None:
            self.set_status(404)
            self.finish({"error": f"no file {file_id}"})
            return
        self.set_header("Content-Type", stored.mime_type)
        if self.get_query_argument("download", "") in ("1", "true"):
            self.set_header("Content-Disposition", attachment(stored.file_name))
        self.finish(stored.data)


class _WebHandler(tornado.web.RequestHandler):
    """``/`` (the page, ``index.html``) and ``/web/<name>`` (its files), never cached."""

    def initialize(self, user_side: UserSide) -> None:
        self._user_side = user_side

    def get(self, name: str) -> None:  # a few small local files: read while serving
        found = self._user_side.web_file(name or "index.html")
        self.set_header("Cache-Control", "no-store")
        if found is None:
            self.set_status(404)
            self.finish({"error": f"no page file {name or 'index.html'}"})
            return
        data, content_type = found
        self.set_header("Content-Type", content_type)
        self.finish(data)


def attachment(file_name: str) -> str:
    """A Content-Disposition that saves the file as ``file_name`` (RFC 6266): a plain ASCII
    fallback for old clients, the exact name UTF-8 encoded for the rest."""
    fallback = (
        "".join(c if " " <= c <= "~" and c not in '"\\/' else "_" for c in file_name).strip()
        or "file"
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"
