"""Dispatch benchmark: N due users through the whole pipeline against the local emulator.

    python -m benchmarks.dispatch --users 10000            # pipeline vs bare sends, no rate limit
    python -m benchmarks.dispatch --users 300 --rate-limited
    python -m benchmarks.dispatch --users 600 --rate-limited --latency-ms 50   # Telegram-like

Prints one JSON line. The emulator runs in its own process (no added latency unless
--latency-ms: then every Bot API answer comes that much later, like Telegram's round trip of
about 50 ms); the bot side is this process, on a fresh SQLite database (the default engine).
Figures:
- pipeline_msgs_per_s: claim, render, send and record, through `Dispatcher.tick`;
- bare_send_msgs_per_s: plain `bot.send_message` calls of the same prompt (text and buttons) to
  the same emulator with the same number in flight: the ceiling the pipeline is measured
  against, and the ratio of the two;
- bare_lean_send_msgs_per_s: the same with the dispatcher's lean sends (coachbot/bot/lean.py,
  no PTB objects), and pipeline_vs_bare_lean: what claiming, deciding and recording cost beside
  the sends themselves;
- bot_cpu_ms_per_prompt and bot_cpu_pct: this process's CPU time during the tick (the whole
  pipeline but the emulator), a prompt and in % of one core; emulator_cpu_pct the emulator's
  over the same time; bare_bot_cpu_pct this process's during the bare sends;
- peak_rss_mb: this process's peak resident memory by the end of the tick, all N users
  enrolled and prompted (the migration and the seeding run in a child process, so this is the
  bot's own memory);
- max_loop_stall_ms: the longest the event loop went without running a 5 ms heartbeat during
  the tick.
With --rate-limited the emulator enforces Telegram's limits and the bot runs its AIORateLimiter
at 30 a second: it reports the achieved rate and the 429s. With --rate-limited --latency-ms 50
the achieved rate says whether the settings keep up with Telegram's limit over its round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from telegram.constants import ParseMode

from coachbot.bot.app import build_application
from coachbot.bot.lean import markup_json, send_text
from coachbot.bot.render import keyboard
from coachbot.clock import FakeClock
from coachbot.scheduler import DispatchConfig, Dispatcher
from coachbot.services.container import create_services
from coachbot.services.replies import Reply
from coachbot.storage import dispatch
from coachbot.storage.models import CheckIn

from .common import TOKEN, LoopMonitor, cpu_between, cpu_seconds, due_users, start_emulator

FIRST_USER = 1_000_000
TELEGRAM_RATE = 30.0


async def run(users: int, rate_limited: bool, concurrency: int, unrecorded: int,
              latency_ms: float = 0.0) -> dict[str, Any]:  # fmt: skip
    emulator, url = start_emulator(rate_limited, latency_ms)
    folder = tempfile.mkdtemp(prefix="coachbot-bench-")
    database_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
    try:
        ids = range(FIRST_USER, FIRST_USER + users)
        now = await due_users(database_url, url, ids)
        async with httpx.AsyncClient(base_url=url) as sandbox:
            clock = FakeClock(now)
            services = create_services(database_url, "UTC", clock=clock)
            application = build_application(TOKEN, url, services,
                                             max_rate=TELEGRAM_RATE if rate_limited else 1e9)  # fmt: skip
            await application.initialize()
            assert application.post_init is not None and application.post_shutdown is not None
            await application.post_init(application)  # as `coachbot run` starts: the heap frozen
            dispatcher = Dispatcher(services, application.bot, clock,
                                    DispatchConfig(concurrency=concurrency, max_unrecorded=unrecorded))  # fmt: skip
            with LoopMonitor() as monitor:
                started, cpu = time.perf_counter(), time.process_time()
                emulator_cpu = cpu_seconds(emulator.pid)
                report = await dispatcher.tick()
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                emulator_busy = cpu_between(emulator_cpu, cpu_seconds(emulator.pid)) / elapsed
            peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            result: dict[str, Any] = {
                "benchmark": "dispatch", "users": users, "engine": "sqlite",
                "concurrency": concurrency, "max_unrecorded": unrecorded,
                "latency_ms": latency_ms, "sent": report.sent,
                "bot_cpu_ms_per_prompt": round(cpu * 1000 / max(report.sent, 1), 3),
                "bot_cpu_pct": round(100 * cpu / elapsed, 1),
                "emulator_cpu_pct": round(100 * emulator_busy, 1),
                "max_loop_stall_ms": round(monitor.longest * 1000, 1),
            }  # fmt: skip
            if rate_limited:
                stats = (await sandbox.get("/_sandbox/stats")).json()
                result |= {"mode": "rate_limited", "achieved_msgs_per_s": round(report.sent / elapsed, 1),
                           "limit_msgs_per_s": TELEGRAM_RATE,
                           "too_many_requests": stats["too_many_requests"]}  # fmt: skip
            else:
                prompt = await a_prompt(services)
                bare, bare_cpu = await bare_sends(application.bot, ids, concurrency, prompt)
                lean, _ = await bare_sends(application.bot, ids, concurrency, prompt, lean=True)
                pipeline = report.sent / elapsed
                result |= {"mode": "no_rate_limit", "pipeline_msgs_per_s": round(pipeline, 1),
                           "bare_send_msgs_per_s": round(bare, 1),
                           "bare_bot_cpu_pct": bare_cpu,
                           "pipeline_vs_bare": round(pipeline / bare, 3),
                           "bare_lean_send_msgs_per_s": round(lean, 1),
                           "pipeline_vs_bare_lean": round(pipeline / lean, 3)}  # fmt: skip
            result["peak_rss_mb"] = peak_rss_mb
            await application.shutdown()
            await application.post_shutdown(application)  # closes the services
            return result
    finally:
        emulator.terminate()
        emulator.wait()


async def a_prompt(services: Any) -> Reply:
    """One prompt as the pipeline rendered it (text and keyboard), for the bare sends."""
    async with services.db.transaction() as session:
        first = await session.scalar(select(CheckIn.id).limit(1))
        (due,) = await dispatch.load_prompts(session, [first])
    reply: Reply | None = (await services.checkin.decide(due)).reply
    assert reply is not None
    return reply


async def bare_sends(bot: Any, ids: range, concurrency: int, prompt: Reply,
                     lean: bool = False) -> tuple[float, float]:  # fmt: skip
    """The ceiling: the same messages (text and buttons), `concurrency` in flight, nothing else:
    no claim, no rendering, no recording. `lean`: through `lean.send_text`, as the dispatcher.
    (messages a second, this process's CPU meanwhile in % of a core)"""
    queue = iter(ids)

    async def worker() -> None:
        for chat_id in queue:
            if lean:
                await send_text(bot, chat_id, prompt.text, markup_json(prompt.buttons))
            else:
                await bot.send_message(chat_id, prompt.text, parse_mode=ParseMode.HTML,
                                       reply_markup=keyboard(prompt.buttons))  # fmt: skip

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return len(ids) / elapsed, round(100 * (time.process_time() - cpu) / elapsed, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=DispatchConfig().concurrency)
    parser.add_argument("--max-unrecorded", type=int, default=DispatchConfig().max_unrecorded)
    parser.add_argument("--rate-limited", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="added by the emulator to every Bot API answer (Telegram: ~50)")  # fmt: skip
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.users, args.rate_limited, args.concurrency,
                                     args.max_unrecorded, args.latency_ms))))  # fmt: skip


if __name__ == "__main__":
    main()
