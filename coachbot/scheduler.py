"""The dispatch job: claim the users who are due, build their prompts, send, record.

One repeating job (PTB's JobQueue) runs `Dispatcher.tick` every few seconds; never one job per
user. The database holds the schedule (coachbot/storage/dispatch.py), so a restart loses nothing.
Sending goes through the bot's AIORateLimiter (about 30 messages a second overall) with at most
`concurrency` requests in flight; Telegram's "retry after" answers are retried by the limiter,
network failures are put back for the next tick, and a user who blocked the bot is marked so and
no longer prompted. Text prompts go out as lean sends (coachbot/bot/lean.py: the same request and
rate limiter, without PTB's objects), since only their message id is kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Connection
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from coachbot.bot.render import send_reply_lean
from coachbot.clock import Clock
from coachbot.services.checkin import PromptDecision
from coachbot.services.container import Services
from coachbot.services.replies import Reply
from coachbot.storage import dispatch
from coachbot.storage.dispatch import DuePrompt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchConfig:
    interval: float = 5.0  # seconds between ticks
    claim_batch: int = 200  # users claimed per transaction (bounds the event loop's stalls)
    take_batch: int = 100  # prompts taken for sending per transaction
    concurrency: int = 4  # prompts in flight at once
    # Prompts sent but not yet on record, at most: what a crash at the worst moment can make
    # Telegram deliver twice, so "at most 3 duplicates per kill" by default. 1 sends one prompt
    # at a time (about 19 a second over a 50 ms round trip); 2 just reaches Telegram's 30 a
    # second at 50 ms, 3 up to about 100 ms (measured: benchmarks.dispatch --rate-limited
    # --latency-ms 50 or 100).
    max_unrecorded: int = 3
    # Results of sends wait at most this long (seconds) to be committed together with others.
    record_within: float = 0.1
    lease: timedelta = timedelta(minutes=2)  # a prompt left "sending" this long is taken again
    max_lateness: timedelta = timedelta(hours=3)  # older missed prompts are skipped, not sent
    # Network failures, 5xx and repeated 429s: retried after 30 s, 1, 2, 4... minutes (at most
    # 30), then given up and recorded as failed: about an hour of outage is ridden out.
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(minutes=30)
    # PostgreSQL: only the instance holding the advisory lock sends (False: every instance
    # sends, splitting the prompts with SKIP LOCKED; the rate limit is then per instance).
    elect: bool = True


@dataclass
class TickReport:
    claimed: int = 0
    skipped_late: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    paused: int = 0


# What became of one prompt: (how, check-in id, message id or user id).
_Result = tuple[str, int, int]
SENT, RETRY, FAILED, SKIPPED, BLOCKED, SILENT = (
    "sent",
    "retry",
    "failed",
    "skipped",
    "blocked",
    "silent",
)


class Dispatcher:
    """Sends each active user's daily prompt once per local day."""

    def __init__(self, services: Services, bot: Bot, clock: Clock,
                 config: DispatchConfig | None = None) -> None:  # fmt: skip
        self._services = services
        self._bot = bot
        self._clock = clock
        self.config = config or DispatchConfig()
        self._leadership = dispatch.Leadership(services.db.engine)

    async def close(self) -> None:
        """Give up the dispatcher's lead (another instance takes over at its next tick)."""
        await self._leadership.release()

    async def tick(self) -> TickReport:
        """Claim everything due, then send what is pending."""
        report = TickReport()
        if self.config.elect and not await self._leadership.held():
            return report  # another instance sends: the rate limit holds across instances
        db, config = self._services.db, self.config
        started = self._clock()
        while True:
            async with db.transaction() as session:
                claim = await dispatch.claim_due(session, self._clock(), limit=config.claim_batch,
                                                 max_lateness=config.max_lateness)  # fmt: skip
            report.claimed += claim.claimed
            report.skipped_late += claim.skipped
            if claim.claimed + claim.skipped < config.claim_batch:
                break
        # The next batch is taken and decided while this one is sent: the database work and
        # the rendering overlap the Bot API's answers instead of waiting for them.
        batch = await self._next_batch(started)
        while batch[0]:
            upcoming = asyncio.create_task(self._next_batch(started))
            try:
                await self._send_all(*batch, report)
            except BaseException:
                upcoming.cancel()  # taken but not sent: taken again once their lease runs out
                raise
            batch = await upcoming
        return report

    async def _next_batch(self, started: datetime) -> tuple[list[DuePrompt], list[PromptDecision]]:
        """Up to `take_batch` pending prompts, marked as being sent, and what each should say."""
        config = self.config
        async with self._services.db.transaction() as session:
            prompts = await dispatch.take_for_sending(
                session, self._clock(), limit=config.take_batch, lease=config.lease,
                not_tried_since=started,
            )  # fmt: skip
        return prompts, await self._services.checkin.decide_all(prompts) if prompts else []

    async def _send_all(self, prompts: list[DuePrompt], decisions: list[PromptDecision],
                        report: TickReport) -> None:  # fmt: skip
        """`concurrency` workers send; one recorder commits what they did, in batches.

        A send starts only while fewer than `max_unrecorded` sent prompts wait for their commit,
        so a crash can make Telegram deliver at most that many prompts twice, whatever the
        batch size.
        """
        queue = iter(zip(prompts, decisions, strict=True))
        done: asyncio.Queue[_Result | None] = asyncio.Queue()
        unrecorded = asyncio.Semaphore(self.config.max_unrecorded)
        sending = 0  # sends started whose result is not in `done` yet

        async def worker() -> None:
            nonlocal sending
            for prompt, decision in queue:
                await unrecorded.acquire()  # released once this prompt's result is committed
                sending += 1
                try:
                    result = await self._send(prompt, decision)
                finally:
                    sending -= 1
                await done.put(result)

        recorder = asyncio.create_task(self._record(done, unrecorded, lambda: sending, report))
        try:
            await asyncio.gather(*(worker() for _ in range(self.config.concurrency)))
        finally:
            await done.put(None)
            await recorder

    async def _record(
        self, done: asyncio.Queue[_Result | None], unrecorded: asyncio.Semaphore,
        sending: Callable[[], int], report: TickReport,
    ) -> None:  # fmt: skip
        """Commit results in batches, one transaction each. A batch is committed as soon as no
        send is in flight (nothing more is coming), or the `max_unrecorded` budget is all used
        (no send can start before a commit), or `record_within` seconds after its first result:
        fewer, bigger commits when sends are quick, no wait when they are not."""
        loop = asyncio.get_running_loop()
        budget = self.config.max_unrecorded
        finished = False
        while not finished:
            batch = [await done.get()]
            deadline = loop.time() + self.config.record_within
            while True:
                while not done.empty():
                    batch.append(done.get_nowait())
                finished = None in batch
                in_flight = sending()
                if finished or not in_flight or len(batch) + in_flight >= budget:
                    break
                try:
                    async with asyncio.timeout_at(deadline):
                        batch.append(await done.get())
                except TimeoutError:
                    break
            results = [result for result in batch if result is not None]
            if results:
                try:
                    await self._commit(results, report)
                finally:
                    for _ in results:
                        unrecorded.release()

    async def _commit(self, results: list[_Result], report: TickReport) -> None:
        by_kind: dict[str, list[tuple[int, int]]] = {}
        for kind, check_in, extra in results:
            by_kind.setdefault(kind, []).append((check_in, extra))
        now = self._clock()

        def ids(kind: str) -> list[int]:
            return [check_in for check_in, _ in by_kind.get(kind, [])]

        def record(connection: Connection) -> None:  # once per few prompts: Core, one call
            dispatch.mark_sent(connection, by_kind.get(SENT, []), now)
            dispatch.mark_retry(connection, [(c, now + self._backoff(tries))
                                             for c, tries in by_kind.get(RETRY, [])])  # fmt: skip
            dispatch.mark_state(connection, ids(FAILED) + ids(BLOCKED), dispatch.FAILED)
            dispatch.mark_state(connection, ids(SKIPPED) + ids(SILENT), "skipped")
            dispatch.set_prompts_off(connection, [u for _, u in by_kind.get(BLOCKED, [])],
                                     "blocked", now)  # fmt: skip
            dispatch.set_prompts_off(connection, [u for _, u in by_kind.get(SILENT, [])],
                                     "silent", now)  # fmt: skip

        await self._services.db.run(record)
        report.sent += len(ids(SENT))
        report.retried += len(ids(RETRY))
        report.failed += len(ids(FAILED)) + len(ids(BLOCKED))
        report.blocked += len(ids(BLOCKED))
        report.paused += len(ids(SILENT))

    def _backoff(self, attempts: int) -> timedelta:
        return min(self.config.retry_base * (1 << max(attempts - 1, 0)), self.config.retry_cap)

    async def _send(self, prompt: DuePrompt, decision: PromptDecision) -> _Result:
        if decision.reply is None:
            return (SKIPPED, prompt.check_in_id, 0)
        replies = [*decision.pictures, decision.reply]  # the prompt's buttons come last
        if decision.weekly:  # the weekly summary first
            summary = await self._services.progress.weekly(prompt.user.telegram_user_id)
            replies[:0] = [summary] if summary else []
        chat_id = prompt.user.chat_id

        async def send(reply: Reply) -> int:  # the message id
            return await send_reply_lean(self._bot, chat_id, reply, self._services.media)

        try:
            for reply in replies:
                try:
                    message_id = await send(reply)
                except ChatMigrated as moved:  # Telegram gave the chat a new id: follow it
                    chat_id = moved.new_chat_id
                    await self._services.db.run(partial(dispatch.move_chat,
                                                        user_id=prompt.user.id, chat_id=chat_id))  # fmt: skip
                    log.info("user %s: chat moved; prompt resent there", prompt.user.id)
                    message_id = await send(reply)
        except Forbidden:
            log.info("user %s blocked the bot; prompts stop", prompt.user.id)
            return (BLOCKED, prompt.check_in_id, prompt.user.id)
        except BadRequest as exc:
            log.warning("prompt %s refused: %s", prompt.check_in_id, exc.message)
            if "chat not found" in exc.message.lower():
                return (BLOCKED, prompt.check_in_id, prompt.user.id)
            return (FAILED, prompt.check_in_id, 0)
        except (NetworkError, RetryAfter) as exc:  # TimedOut is a NetworkError
            log.info("prompt %s not delivered (%s)", prompt.check_in_id, type(exc).__name__)
            if prompt.attempts >= self.config.max_attempts:
                log.warning("prompt %s given up after %s attempts", prompt.check_in_id,
                            prompt.attempts)  # fmt: skip
                return (FAILED, prompt.check_in_id, 0)
            return (RETRY, prompt.check_in_id, prompt.attempts)
        except TelegramError as exc:
            log.error("prompt %s failed: %s", prompt.check_in_id, type(exc).__name__)
            return (FAILED, prompt.check_in_id, 0)
        if decision.pause:
            return (SILENT, prompt.check_in_id, prompt.user.id)
        return (SENT, prompt.check_in_id, message_id)
