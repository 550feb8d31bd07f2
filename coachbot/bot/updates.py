"""How updates reach the handlers: once each, concurrently across users, in order per user, and
no faster than a flood limit per user.

- **Once.** Telegram redelivers an update (same `update_id`) when a webhook answer was lost;
  each update handled is recorded in `processed_updates` (kept 48 hours, Telegram keeps updates
  24), in the same transaction as the action it caused (or after the handler when it wrote
  nothing), and a later delivery is dropped before a handler sees it. Two deliveries racing on
  two instances: the second's insert fails and its action is rolled back.
- **Concurrently, in order per user.** PTB handles one update at a time by default, so one slow
  answer (a chart, a busy database) held every user's. Up to `max_concurrent` updates run at
  once; each user's own updates wait for the previous one (an answer is never applied before
  the question it answers).
- **Flood control.** Each user has a token bucket (`FloodLimit`: a burst, then a steady rate).
  Updates beyond it are dropped, and the user is told once a minute to slow down: someone
  sending hundreds of messages a minute slows only themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from coachbot.clock import Clock
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database

log = logging.getLogger(__name__)
# Slots are cheap (a semaphore); a user's queued updates hold one each while they wait their
# turn, and flood control caps those at the burst, so one user can never fill them.
MAX_CONCURRENT_UPDATES = 256
MAX_BUCKETS = 10_000
REMEMBER_UPDATES = timedelta(hours=48)
FORGET_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class FloodLimit:
    burst: int = 40  # updates at once (a whole enrolment is about 20) ...
    per_second: float = 1.0  # ... then 60 a minute
    notice_every: float = 60.0  # seconds between "slow down" notices


def user_key(update: object) -> int | None:
    """Whose update this is (None: not from a user, handled without ordering)."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None


class _Bucket:
    def __init__(self, limit: FloodLimit, now: float) -> None:
        self.tokens = float(limit.burst)
        self.at = now
        self.noticed = -limit.notice_every

    def take(self, limit: FloodLimit, now: float) -> bool:
        self.tokens = min(limit.burst, self.tokens + (now - self.at) * limit.per_second)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class UpdateGate(BaseUpdateProcessor):
    def __init__(
        self, db: Database, clock: Clock, *, flood: FloodLimit | None = None,
        flood_notice: str = "", max_concurrent: int = MAX_CONCURRENT_UPDATES,
    ) -> None:  # fmt: skip
        super().__init__(max_concurrent)
        self._db = db
        self._clock = clock
        self._flood = flood or FloodLimit()
        self._notice = flood_notice
        self.bot: Bot | None = None  # set once the application is built (for the notice)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}  # updates using each lock (to drop idle locks)
        self._buckets: dict[int, _Bucket] = {}
        self._forgot_at = self._clock() - FORGET_EVERY
        self._notices: set[asyncio.Future[None]] = set()  # "slow down" messages in flight
        self.dropped_duplicates = 0
        self.dropped_flood = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = user_key(update)
        if key is not None and not self._admit(key, update):
            _discard(coroutine)
            return
        # Take the user's place in line before anything else awaits: asyncio locks are granted
        # in the order asked, so this user's updates run in the order they arrived.
        async with self._in_line(key):
            if not isinstance(update, Update):
                await coroutine
                return
            if await self._delivered_before(update.update_id):
                self._redelivered(update.update_id)
                _discard(coroutine)
                return
            # The record that this update was handled commits with the handler's own write
            # (one transaction per action), or after the handler when it wrote nothing.
            record = partial(self._record_delivery, update.update_id)
            with self._db.first_write(record) as pending:
                await coroutine
            if pending.run is not None:
                with contextlib.suppress(Redelivered):  # another instance handled it meanwhile
                    async with self._db.transaction() as session:
                        await record(session)

    @contextlib.asynccontextmanager
    async def _in_line(self, key: int | None) -> AsyncIterator[None]:
        """One update at a time for user `key` (no ordering for updates from nobody)."""
        if key is None:
            yield
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _admit(self, key: int, update: object) -> bool:
        """The flood decision, taken at once (no await: a flood is dropped as it arrives)."""
        now = asyncio.get_running_loop().time()
        bucket = self._buckets.setdefault(key, _Bucket(self._flood, now))
        if len(self._buckets) > MAX_BUCKETS:  # forget users idle long enough to be refilled
            refill = self._flood.burst / self._flood.per_second
            self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < refill}
        if bucket.take(self._flood, now):
            return True
        self.dropped_flood += 1
        log.info("user %s: update dropped by flood control", key)
        chat = update.effective_chat if isinstance(update, Update) else None
        if now - bucket.noticed >= self._flood.notice_every and chat is not None:
            bucket.noticed = now
            notice = asyncio.ensure_future(self._tell_to_slow_down(key, chat.id))
            self._notices.add(notice)
            notice.add_done_callback(self._notices.discard)
        return False

    async def _tell_to_slow_down(self, key: int, chat_id: int) -> None:
        if self.bot is None or not self._notice:
            return
        try:
            await self.bot.send_message(chat_id, self._notice)
        except TelegramError:
            log.warning("user %s: flood notice not delivered", key)

    async def _delivered_before(self, update_id: int) -> bool:
        async with self._db.read() as session:
            return await repo.delivered_before(session, update_id)

    async def _record_delivery(self, update_id: int, session: AsyncSession) -> None:
        """Record `update_id` as handled (in the action's transaction); an update id already
        recorded (redelivered to another instance at the same time) undoes the action."""
        now = self._clock()
        first = await repo.first_delivery(session, update_id, now)
        if now - self._forgot_at >= FORGET_EVERY:
            self._forgot_at = now
            await repo.forget_updates_before(session, now - REMEMBER_UPDATES)
        if not first:
            self._redelivered(update_id)
            raise Redelivered(update_id)

    def _redelivered(self, update_id: int) -> None:
        self.dropped_duplicates += 1
        log.info("update %s: a redelivery, ignored", update_id)


class Redelivered(Exception):
    """The update was already handled: the action's transaction is rolled back (the error
    handler ignores this)."""


def _discard(coroutine: Awaitable[Any]) -> None:
    """Close a handler coroutine that will not run (no "never awaited" warning)."""
    if isinstance(coroutine, Coroutine):
        coroutine.close()
