"""The dispatch job: claim the users who are due, build their prompts, send, record.

One repeating job (PTB's JobQueue) runs `Dispatcher.tick` every few seconds; never one job per
user. The database holds the schedule (coachbot/storage/dispatch.py), so a restart loses nothing.
Sending goes through the bot's AIORateLimiter (about 30 messages a second overall) with at most
`concurrency` requests in flight; Telegram's "retry after" answers are retried by the limiter,
network failures are put back for the next tick, and a user who blocked the bot is marked so and
no longer prompted.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from coachbot.bot.render import keyboard
from coachbot.clock import Clock
from coachbot.services.container import Services
from coachbot.storage import dispatch
from coachbot.storage.dispatch import DuePrompt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchConfig:
    interval: float = 5.0  # seconds between ticks
    claim_batch: int = 1000  # users claimed per transaction
    concurrency: int = 4  # prompts in flight at once (httpx slows down past about 8)
    lease: timedelta = timedelta(minutes=2)  # a prompt left "sending" this long is taken again
    max_lateness: timedelta = timedelta(hours=3)  # older missed prompts are skipped, not sent
    max_attempts: int = 5  # network failures before a prompt is given up


@dataclass
class TickReport:
    claimed: int = 0
    skipped_late: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    paused: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Results:
    sent: list[tuple[int, int]] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    blocked_users: list[int] = field(default_factory=list)
    silent_users: list[int] = field(default_factory=list)


class Dispatcher:
    """Sends each active user's daily prompt once per local day."""

    def __init__(self, services: Services, bot: Bot, clock: Clock,
                 config: DispatchConfig | None = None) -> None:  # fmt: skip
        self._services = services
        self._bot = bot
        self._clock = clock
        self.config = config or DispatchConfig()

    async def tick(self) -> TickReport:
        """Claim everything due, then send what is pending, chunk by chunk."""
        report = TickReport()
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
        while True:
            async with db.transaction() as session:
                prompts = await dispatch.take_for_sending(
                    session, self._clock(), limit=config.concurrency, lease=config.lease,
                    not_tried_since=started,
                )  # fmt: skip
            if not prompts:
                return report
            await self._send_chunk(prompts, report)

    async def _send_chunk(self, prompts: list[DuePrompt], report: TickReport) -> None:
        reminders = await self._services.daily.routine_reminders(prompts)
        results = _Results()
        await asyncio.gather(*(self._send(p, reminders.get(p.check_in_id, ()), results)
                               for p in prompts))  # fmt: skip
        now = self._clock()
        async with self._services.db.transaction() as session:
            await dispatch.mark_sent(session, results.sent, now)
            await dispatch.mark_state(session, results.retry, dispatch.PENDING)
            await dispatch.mark_state(session, results.failed, dispatch.FAILED)
            await dispatch.mark_state(session, results.skipped, "skipped")
            await dispatch.set_prompts_off(session, results.blocked_users, "blocked", now)
            await dispatch.set_prompts_off(session, results.silent_users, "silent", now)
        report.sent += len(results.sent)
        report.retried += len(results.retry)
        report.failed += len(results.failed)
        report.blocked += len(results.blocked_users)
        report.paused += len(results.silent_users)

    async def _send(self, prompt: DuePrompt, reminders: tuple[str, ...], results: _Results) -> None:
        decision = self._services.daily.decide(prompt, reminders)
        if decision.reply is None:
            results.skipped.append(prompt.check_in_id)
            return
        try:
            message = await self._bot.send_message(
                prompt.user.chat_id, decision.reply.text, parse_mode=ParseMode.HTML,
                reply_markup=keyboard(decision.reply.buttons),
            )  # fmt: skip
        except Forbidden:
            log.info("user %s blocked the bot; prompts stop", prompt.user.id)
            results.blocked_users.append(prompt.user.id)
            results.failed.append(prompt.check_in_id)
        except BadRequest as exc:
            log.warning("prompt %s refused: %s", prompt.check_in_id, exc.message)
            if "chat not found" in exc.message.lower():
                results.blocked_users.append(prompt.user.id)
            results.failed.append(prompt.check_in_id)
        except (NetworkError, RetryAfter) as exc:  # TimedOut is a NetworkError
            log.info(
                "prompt %s not delivered (%s); retrying", prompt.check_in_id, type(exc).__name__
            )
            if prompt.attempts >= self.config.max_attempts:
                results.failed.append(prompt.check_in_id)
            else:
                results.retry.append(prompt.check_in_id)
        except TelegramError as exc:
            log.error("prompt %s failed: %s", prompt.check_in_id, type(exc).__name__)
            results.failed.append(prompt.check_in_id)
        else:
            if decision.pause:
                results.silent_users.append(prompt.user.id)
                results.skipped.append(prompt.check_in_id)
            else:
                results.sent.append((prompt.check_in_id, message.message_id))
