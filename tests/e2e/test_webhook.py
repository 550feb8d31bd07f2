"""Webhook mode: the real Application behind our webhook server, fed by the emulator over HTTP.

The emulator delivers updates the way Telegram does: a POST to the registered URL with the
secret in X-Telegram-Bot-Api-Secret-Token, retried until it is answered 200. Requests that do
not carry the secret are posted here directly and must be refused unread.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.netutil
from apscheduler.events import EVENT_JOB_EXECUTED
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from coachbot.bot.app import AnyApplication, build_application
from coachbot.bot.webhook import (
    MAX_BODY_BYTES,
    SECRET_HEADER,
    WebhookServer,
    polling_with_health,
    webhook,
)
from coachbot.clock import FakeClock
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.scheduler import DispatchConfig
from coachbot.services.container import Services, create_services
from coachbot.storage.models import User
from coachbot.testing import EmulatorClient, SandboxUser, coachbot_environment, coachbot_process

from .conftest import TOKEN

pytestmark = pytest.mark.e2e

SECRET = "e2e_webhook-Secret_0123456789"
PATH = "/telegram/updates"
STRANGER = 2002  # the user whose forged updates are refused


@dataclass
class WebhookBot:
    application: AnyApplication
    server: WebhookServer
    root: str  # http://127.0.0.1:<port>

    @property
    def url(self) -> str:
        return f"{self.root}{PATH}"

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data["services"]
        return services


StartWebhookBot = Callable[..., Awaitable[WebhookBot]]


@pytest.fixture
async def start_webhook_bot(
    emulator: BotApiEmulator, database_url: str, clock: FakeClock
) -> AsyncIterator[StartWebhookBot]:
    """Start the bot in webhook mode on 127.0.0.1 (a port the system picks) against the emulator."""
    async with AsyncExitStack() as running:

        async def start(dispatch: DispatchConfig | None = None) -> WebhookBot:
            services = create_services(database_url, "Europe/London", clock=clock)
            application = build_application(TOKEN, emulator.url, services, dispatch=dispatch)
            sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
            root = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
            server = await running.enter_async_context(
                webhook(application, url=f"{root}{PATH}", secret=SECRET, sockets=sockets)
            )
            return WebhookBot(application, server, root)

        yield start
    refused = [r.description for r in emulator.rejected() if r.error_code == 400]
    assert refused == [], "Telegram would refuse these"


@pytest.fixture
async def webhook_bot(start_webhook_bot: StartWebhookBot) -> WebhookBot:
    return await start_webhook_bot()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def forged_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """A well-formed message update, as Telegram would post it."""
    person = {"id": user_id, "first_name": "Eve"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_795_000_000,
            "chat": {**person, "type": "private"},
            "from": {**person, "is_bot": False},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def users_with_id(services: Services, telegram_user_id: int) -> int:
    async with services.db.transaction() as session:
        query = select(func.count()).select_from(User)
        count = await session.scalar(query.where(User.telegram_user_id == telegram_user_id))
    return int(count or 0)


class TestDelivery:
    async def test_a_user_starts_through_webhook_deliveries(
        self, webhook_bot: WebhookBot, user: SandboxUser, emulator: BotApiEmulator
    ) -> None:
        """/start, the consent button and the next question all arrive by POSTs to our URL."""
        await user.send("/start")
        welcome = await user.wait_for("Do you agree?")
        assert welcome.labels == ["I agree", "No thanks"]
        await user.press("I agree")
        await user.wait_for("Which of these sounds most like your pain?")
        info = await webhook_bot.application.bot.get_webhook_info()
        assert info.url == webhook_bot.url
        assert info.last_error_message is None  # every delivery was answered 200 at once
        assert info.pending_update_count == 0
        assert not emulator.polling
        set_webhook = [r for r in emulator.requests if r.method == "setWebhook"]
        assert [r.ok for r in set_webhook] == [True]

    async def test_an_update_posted_with_the_secret_is_handled(
        self, webhook_bot: WebhookBot, client: EmulatorClient, http: httpx.AsyncClient,
        emulator: BotApiEmulator,
    ) -> None:  # fmt: skip
        """The control for the refusals below: the same kind of post, with the secret, works."""
        emulator.open_private_chats([3003])
        response = await http.post(
            webhook_bot.url,
            json=forged_update(900_001, 3003, "/start"),
            headers={SECRET_HEADER: SECRET},
        )
        assert response.status_code == 200
        await client.user(3003).wait_for("Do you agree?")


class TestRefusals:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {SECRET_HEADER: ""},
            {SECRET_HEADER: "wrong"},
            {SECRET_HEADER: SECRET[:-1]},
            {SECRET_HEADER: SECRET + "x"},
            {SECRET_HEADER: SECRET.upper()},
        ],
        ids=["missing", "empty", "wrong", "prefix", "longer", "other-case"],
    )
    async def test_without_the_right_secret_an_update_is_refused_and_never_handled(
        self, webhook_bot: WebhookBot, client: EmulatorClient, http: httpx.AsyncClient,
        emulator: BotApiEmulator, caplog: pytest.LogCaptureFixture, headers: dict[str, str],
    ) -> None:  # fmt: skip
        """403; then a real /help from the same user is the only thing the bot ever answers.

        Updates from one user are handled in arrival order, so had the forged /start been
        queued, its welcome would come before the help; /help itself stores nothing, so no user
        row means the /start never reached the services either.
        """
        caplog.set_level(logging.DEBUG)
        emulator.open_private_chats([STRANGER])  # had it been handled, the reply would arrive
        forged = forged_update(900_002, STRANGER, "/start forged-payload-7f3a")
        response = await http.post(webhook_bot.url, json=forged, headers=headers)
        assert response.status_code == 403
        assert response.content == b""

        stranger = client.user(STRANGER, first_name="Eve")
        await stranger.send("/help")
        await stranger.wait_for("What I can do")
        from_bot = [m for m in await stranger.messages() if m["from_bot"]]
        assert len(from_bot) == 1, [m["text"] for m in from_bot]
        sent = [r for r in emulator.requests if r.method == "sendMessage"]
        assert [str(r.params["chat_id"]) for r in sent] == [str(STRANGER)]
        assert await users_with_id(webhook_bot.services, STRANGER) == 0
        assert "403" in caplog.text
        assert SECRET not in caplog.text
        assert "forged-payload-7f3a" not in caplog.text

    async def test_bodies_that_are_not_an_update_are_refused(
        self, webhook_bot: WebhookBot, http: httpx.AsyncClient
    ) -> None:
        """With the secret: not JSON, not an object, not an update -> 400; over 1 MB -> 413."""
        auth = {SECRET_HEADER: SECRET}

        async def post(content: Any) -> int:
            response = await http.post(webhook_bot.url, content=content, headers=auth)
            return response.status_code

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(3):
                yield b" " * (MAX_BODY_BYTES // 2)

        assert await post(b"not json") == 400
        assert await post(b"\xff\xfe\x00") == 400
        assert await post(b"[1, 2]") == 400
        assert await post(b"{}") == 400  # no update_id
        assert await post(b" " * (MAX_BODY_BYTES + 1)) == 413
        assert await post(chunked()) == 413
        assert (await http.get(webhook_bot.url)).status_code == 405
        assert (await http.post(f"{webhook_bot.root}/elsewhere", headers=auth)).status_code == 404

    async def test_an_oversized_body_without_the_secret_is_403(
        self, webhook_bot: WebhookBot, http: httpx.AsyncClient
    ) -> None:
        """The secret is checked first: a stranger learns nothing about the other rules."""
        response = await http.post(webhook_bot.url, content=b"x" * (MAX_BODY_BYTES + 1))
        assert response.status_code == 403


class TestHealth:
    async def test_polling_mode_serves_healthz_too(
        self, emulator: BotApiEmulator, database_url: str, clock: FakeClock,
        http: httpx.AsyncClient, user: SandboxUser,
    ) -> None:  # fmt: skip
        """With HEALTH_LISTEN (the container's health check) polling serves /healthz alone."""
        services = create_services(database_url, "Europe/London", clock=clock)
        application = build_application(TOKEN, emulator.url, services)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        root = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        async with polling_with_health(application, sockets=sockets):
            health = await http.get(f"{root}/healthz")
            assert (health.status_code, health.json()["database"]) == (200, "ok")
            assert (await http.post(f"{root}{PATH}", json={})).status_code == 404  # no webhook
            await user.send("/start")
            await user.wait_for("Do you agree?")

    async def test_healthy_without_a_dispatch_job(
        self, webhook_bot: WebhookBot, http: httpx.AsyncClient
    ) -> None:
        """No secret needed; the scheduler is "off" (healthy) when there is no dispatcher."""
        response = await http.get(f"{webhook_bot.root}/healthz")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json() == {"database": "ok", "scheduler": "off"}

    async def test_the_dispatch_job_is_reported_and_a_paused_scheduler_is_unhealthy(
        self, start_webhook_bot: StartWebhookBot, http: httpx.AsyncClient
    ) -> None:
        """With a dispatcher: "running", the last and next tick; paused it is a 503."""
        bot = await start_webhook_bot(dispatch=DispatchConfig(interval=60))
        assert bot.application.job_queue is not None
        scheduler = bot.application.job_queue.scheduler
        ticked = asyncio.Event()
        scheduler.add_listener(lambda _event: ticked.set(), EVENT_JOB_EXECUTED)
        if bot.server.last_dispatch is None:  # the first tick comes half a second after start
            await asyncio.wait_for(ticked.wait(), timeout=10)

        response = await http.get(f"{bot.root}/healthz")
        assert response.status_code == 200
        report = response.json()
        assert report["database"] == "ok" and report["scheduler"] == "running"
        assert report["last_dispatch"] < report["next_dispatch"]

        scheduler.pause()
        try:
            paused = await http.get(f"{bot.root}/healthz")
        finally:
            scheduler.resume()
        assert paused.status_code == 503
        assert paused.json()["scheduler"] == "stopped"

    async def test_unhealthy_while_the_database_is_unreachable(
        self, webhook_bot: WebhookBot, http: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        """A database that cannot be opened gives 503 and "error"; back again, 200."""
        db = webhook_bot.services.db
        reachable = db.engine
        unreachable = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/db.sqlite3")
        db.engine = unreachable
        try:
            response = await http.get(f"{webhook_bot.root}/healthz")
        finally:
            db.engine = reachable
            await unreachable.dispose()
        assert response.status_code == 503
        assert response.json() == {"database": "error", "scheduler": "off"}
        assert (await http.get(f"{webhook_bot.root}/healthz")).status_code == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_coachbot_run_with_a_webhook_url_serves_it(tmp_path: Path) -> None:
    """`coachbot run` with WEBHOOK_URL/SECRET/LISTEN: registers, answers, stops on SIGTERM."""
    emulator = BotApiEmulator(token=TOKEN)
    await emulator.start()
    port = _free_port()
    env = coachbot_environment(
        tmp_path / "data",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=emulator.url,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        LOG_LEVEL="DEBUG",
    )
    process = await coachbot_process("run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.STDOUT)
    try:
        async with EmulatorClient(emulator.url) as client, httpx.AsyncClient() as http:
            user = client.user(556, first_name="Robin")
            await user.send("/start")
            await user.wait_for("Do you agree?", timeout=30)
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
            assert health.status_code == 200
            assert health.json()["scheduler"] == "running"
            refused = await http.post(f"http://127.0.0.1:{port}/hook", json={"update_id": 1})
            assert refused.status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        await emulator.stop()
    text = output.decode()
    assert process.returncode == 0, text
    assert SECRET not in text and TOKEN.split(":")[1] not in text
    assert "webhook mode: serving on 127.0.0.1:" in text
    assert emulator.rejected() == []


async def test_coachbot_run_names_webhook_listen_when_the_port_is_taken(tmp_path: Path) -> None:
    """A port already in use stops `coachbot run` with one line naming WEBHOOK_LISTEN."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = coachbot_environment(
            tmp_path / "data",
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL="http://127.0.0.1:9",  # never reached: binding comes first
            WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        )
        process = await coachbot_process("run", cwd=tmp_path, env=env)
        _, error = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    last_line = error.decode().strip().splitlines()[-1]  # after the migration's log lines
    assert last_line == (
        f"coachbot: WEBHOOK_LISTEN: cannot listen on 127.0.0.1:{port} (Address already in use)"
    )
