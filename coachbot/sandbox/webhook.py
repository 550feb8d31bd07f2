"""Webhook delivery for the Bot API emulator: pending updates POSTed to the bot, one at a time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass

import httpx

from coachbot.sandbox.params import JsonDict
from coachbot.sandbox.world import UpdateQueue

__all__ = ["Webhook", "WebhookDelivery"]

WEBHOOK_TIMEOUT_SECONDS = 10.0
WEBHOOK_MAX_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True)
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int


class WebhookDelivery:
    """Posts pending updates to the webhook one at a time, in order, retrying on failure."""

    def __init__(self, webhook: Webhook, updates: UpdateQueue) -> None:
        self.webhook = webhook
        self._updates = updates
        self.last_error: tuple[int, str] | None = None
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        headers = {"Content-Type": "application/json"}
        if self.webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook.secret_token
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS, headers=headers) as client:
            failures = 0
            while True:
                batch = self._updates.peek(1)
                if not batch:
                    await self._updates.changed.wait()
                    continue
                if await self._post(client, batch[0]):
                    self._updates.confirm(batch[0]["update_id"] + 1)
                    failures = 0
                else:
                    failures += 1
                    await asyncio.sleep(min(0.05 * 2**failures, WEBHOOK_MAX_BACKOFF_SECONDS))

    async def _post(self, client: httpx.AsyncClient, update: JsonDict) -> bool:
        try:
            response = await client.post(self.webhook.url, content=json.dumps(update))
        except httpx.HTTPError as error:
            self.last_error = (int(time.time()), f"Connection failed: {error!r}")
            return False
        if response.is_success:
            return True
        reason = f"{response.status_code} {response.reason_phrase}"
        self.last_error = (int(time.time()), f"Wrong response from the webhook: {reason}")
        return False
