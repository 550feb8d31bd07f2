"""Webhook mode: a small HTTP server in front of the PTB Application, with a health check.

Telegram POSTs each update to WEBHOOK_URL with the secret given to setWebhook in the
``X-Telegram-Bot-Api-Secret-Token`` header. This server:

* refuses (403) a request whose header is missing or wrong before it looks at the body, comparing
  in constant time (`hmac.compare_digest`; PTB's own webhook server compares with ``!=``, which is
  why it is not used);
* refuses bodies over 1 MB (413) and bodies that are not a JSON object (400);
* puts every other update on the Application's update queue and answers 200 at once: handlers run
  after the answer, exactly as with polling.

``GET /healthz`` answers 200 when the database answers ``SELECT 1`` within 2 s and the dispatch
job's scheduler runs (a bot without a dispatch job reports it "off", which is healthy), else 503.
It needs no secret and shows no user data.

Only update ids and event names are logged: never a body (users' health data) or the secret.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import signal
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import tornado.netutil
import tornado.web
from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
)
from apscheduler.schedulers.base import STATE_RUNNING  # type: ignore[import-untyped]
from sqlalchemy import text
from telegram import Update
from tornado.httpserver import HTTPServer

from coachbot.bot import handlers
from coachbot.bot.app import ALLOWED_UPDATES, DISPATCH_JOB, DISPATCHER_KEY, AnyApplication, polling
from coachbot.config import HEALTH_CHECK_PATH
from coachbot.services.container import Services

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # an update is a few kilobytes; Telegram never sends near this
# A refused body (wrong secret, too big) is read and dropped up to this size, so the sender gets
# a clean answer; a request announcing more is cut off by tornado with a 400 and a closed socket.
DISCARD_LIMIT_BYTES = 16 * MAX_BODY_BYTES
BODY_TIMEOUT_SECONDS = 30.0
DATABASE_TIMEOUT_SECONDS = 2.0


class ListenError(Exception):
    """The webhook server cannot listen where it was told to; one line for the operator."""


class WebhookServer:
    """The update endpoint at `path` and /healthz, for one Application; with no `path`, /healthz
    alone (polling mode with HEALTH_LISTEN set)."""

    def __init__(self, application: AnyApplication, *, path: str | None, secret: str) -> None:
        if path is not None and (not path.startswith("/") or path == HEALTH_CHECK_PATH):
            raise ValueError(f"the webhook path must start with / and not be {HEALTH_CHECK_PATH}")
        if path is not None and not secret:
            raise ValueError("webhook mode needs a secret token")
        self.application = application
        self._secret = secret.encode("ascii")
        self.last_dispatch: datetime | None = None  # when the last dispatch tick finished
        routes: list[Any] = [(re.escape(HEALTH_CHECK_PATH), _HealthHandler, {"server": self})]
        if path is not None:
            # An exact path, matched as a whole (tornado anchors the pattern at both ends).
            routes.append((re.escape(path), _UpdateHandler, {"server": self}))
        self._http = HTTPServer(
            tornado.web.Application(routes, log_function=_log_request),
            max_body_size=DISCARD_LIMIT_BYTES,
            body_timeout=BODY_TIMEOUT_SECONDS,
        )
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, sockets: Sequence[socket.socket]) -> None:
        """Serve on already bound sockets and start watching the dispatch job."""
        self._http.add_sockets(sockets)
        if self.application.job_queue is not None:
            self.application.job_queue.scheduler.add_listener(
                self._on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
            )
        self._started = True

    async def stop(self) -> None:
        """Stop listening and close every connection (a delivery cut short is sent again)."""
        if not self._started:
            return
        self._started = False
        if self.application.job_queue is not None:
            self.application.job_queue.scheduler.remove_listener(self._on_job_event)
        self._http.stop()
        await self._http.close_all_connections()

    # -- the update endpoint ---------------------------------------------------------------

    def authentic(self, supplied: str | None) -> bool:
        """Whether the request carries our secret, compared in constant time."""
        if supplied is None:
            return False
        # tornado decodes header values as Latin-1, so this gives back the bytes sent.
        return hmac.compare_digest(supplied.encode("latin-1", "replace"), self._secret)

    async def accept(self, body: bytes) -> int:
        """Queue the update in an authenticated body; the HTTP status to answer."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            log.warning("webhook: refused a body that is not JSON (400)")
            return 400
        if not isinstance(data, dict):
            log.warning("webhook: refused JSON that is not an object (400)")
            return 400
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception as exc:  # whatever PTB makes of a malformed update, it is not one
            log.warning("webhook: refused a malformed update (%s, 400)", type(exc).__name__)
            return 400
        await self.application.update_queue.put(update)
        events = ", ".join(str(key) for key in data if key != "update_id")
        log.debug("webhook: update %s queued (%s)", update.update_id, events)
        return 200

    # -- the health check ------------------------------------------------------------------

    async def health(self) -> tuple[int, dict[str, str]]:
        """(HTTP status, report) for /healthz."""
        report = {"database": await self._database(), "scheduler": self._scheduler()}
        if self.last_dispatch is not None:
            report["last_dispatch"] = self.last_dispatch.isoformat()
        next_dispatch = self._next_dispatch()
        if next_dispatch is not None:
            report["next_dispatch"] = next_dispatch.isoformat()
        healthy = report["database"] == "ok" and report["scheduler"] in ("running", "off")
        return (200 if healthy else 503), report

    async def _database(self) -> str:
        services: Services = self.application.bot_data[handlers.SERVICES_KEY]
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
                async with services.db.connection() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure is "error"; the type says which, the URL stays out
            log.warning("healthz: the database did not answer (%s)", type(exc).__name__)
            return "error"
        return "ok"

    def _scheduler(self) -> str:
        if DISPATCHER_KEY not in self.application.bot_data:
            return "off"  # no scheduled prompts in this process: nothing to be stuck
        job_queue = self.application.job_queue
        if job_queue is None or job_queue.scheduler.state != STATE_RUNNING:
            return "stopped"  # a paused scheduler sends nothing either
        return "running" if job_queue.get_jobs_by_name(DISPATCH_JOB) else "stopped"

    def _next_dispatch(self) -> datetime | None:
        job_queue = self.application.job_queue
        if job_queue is None or job_queue.scheduler.state != STATE_RUNNING:
            return None  # a job's next run time exists only while the scheduler runs
        for job in job_queue.get_jobs_by_name(DISPATCH_JOB):
            if job.next_t is not None:
                return job.next_t
        return None

    def _on_job_event(self, event: Any) -> None:
        """APScheduler's listener: note when a dispatch tick finished (PTB's job wrapper hands
        exceptions to the error handler, so a failed tick is "executed" too)."""
        job_queue = self.application.job_queue
        job = job_queue.scheduler.get_job(event.job_id) if job_queue is not None else None
        if job is not None and job.name == DISPATCH_JOB:
            self.last_dispatch = datetime.now(UTC)


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    """POST <webhook path>: the verdict is taken from the headers, the answer after the body."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, server: WebhookServer) -> None:
        self._server = server
        self._refusal: int | None = None
        self._chunks: list[bytes] = []
        self._size = 0

    def prepare(self) -> None:
        if not self._server.authentic(self.request.headers.get(SECRET_HEADER)):
            self._refusal = 403  # the body is read and dropped unseen
            return
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            self._refusal = 413

    def data_received(self, chunk: bytes) -> None:
        if self._refusal is not None:
            return
        self._size += len(chunk)
        if self._size > MAX_BODY_BYTES:  # a chunked body gives no Content-Length up front
            self._refusal = 413
            self._chunks.clear()
            return
        self._chunks.append(chunk)

    async def post(self) -> None:
        if self._refusal == 403:
            log.warning(
                "webhook: refused a request from %s without the right secret token (403)",
                self.request.remote_ip,
            )
            status = 403
        elif self._refusal is not None:
            log.warning("webhook: refused a body over %s bytes (413)", MAX_BODY_BYTES)
            status = self._refusal
        else:
            status = await self._server.accept(b"".join(self._chunks))
        self._chunks.clear()
        self.set_status(status)
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish()  # no page, no traceback: a status is all a client needs


class _HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: a JSON report, 200 when healthy, 503 otherwise."""

    SUPPORTED_METHODS = ("GET",)

    def initialize(self, server: WebhookServer) -> None:
        self._server = server

    async def get(self) -> None:
        status, report = await self._server.health()
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(report)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish()


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """One debug line a request: no path (a probe's may be anything) and no body."""
    route = {_UpdateHandler: "webhook", _HealthHandler: "healthz"}.get(type(handler), "other")
    log.debug("%s %s: %s", handler.request.method, route, handler.get_status())


def parse_listen(value: str) -> tuple[str, int]:
    """WEBHOOK_LISTEN ("0.0.0.0:8443", "[::]:8443") as (host, port)."""
    host, _, port = value.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)


@asynccontextmanager
async def webhook(
    application: AnyApplication,
    *,
    url: str,
    secret: str,
    host: str = "0.0.0.0",
    port: int = 8443,
    sockets: Sequence[socket.socket] | None = None,
) -> AsyncIterator[WebhookServer]:
    """Run the bot in webhook mode inside an already running event loop.

    Like `coachbot.bot.app.polling`: initialize, post-init, start, then serve on `host:port`
    (or on `sockets`, already bound) and register `url` with Telegram; on exit stop serving, stop
    and shut down the Application and run the post-shutdown hook. The webhook stays registered
    on exit: another instance may be serving it, and Telegram keeps updates until one answers.
    """
    server = WebhookServer(application, path=urlsplit(url).path or "/", secret=secret)
    unserved: list[socket.socket] = []
    try:
        # Bind first: a port in use stops start-up before anything talks to Telegram.
        unserved = list(sockets) if sockets is not None else _bind(host, port)
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        server.start(unserved)
        addresses = ", ".join(_address(sock) for sock in unserved)
        unserved = []
        await application.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        log.info("webhook mode: serving on %s; Telegram posts updates to %s", addresses, url)
        yield server
    finally:
        for sock in unserved:
            sock.close()
        await server.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def _bind(host: str, port: int) -> list[socket.socket]:
    try:
        return tornado.netutil.bind_sockets(port, host)
    except OSError as exc:  # a port in use, an address this machine does not have...
        raise ListenError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@asynccontextmanager
async def polling_with_health(
    application: AnyApplication,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    sockets: Sequence[socket.socket] | None = None,
) -> AsyncIterator[WebhookServer]:
    """Long polling, with /healthz served on `host:port` (for a container's health check)."""
    server = WebhookServer(application, path=None, secret="")
    sockets = list(sockets) if sockets is not None else _bind(host, port)
    async with polling(application):
        server.start(sockets)
        log.info("polling; /healthz on %s", ", ".join(_address(sock) for sock in sockets))
        try:
            yield server
        finally:
            await server.stop()


async def run_until_signalled(
    application: AnyApplication, *, url: str | None, secret: str, host: str, port: int
) -> None:
    """Webhook mode (with a `url`), or polling with /healthz, until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    serving = (
        webhook(application, url=url, secret=secret, host=host, port=port)
        if url is not None
        else polling_with_health(application, host=host, port=port)
    )
    try:
        async with serving:
            await stop.wait()
            log.info("stopping")
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
