"""/progress and /report latency for a 90-day course while 50 other users keep the bot busy.

    python -m benchmarks.progress                 # 20 of each, 50 other users
    python -m benchmarks.progress --samples 50 --others 100

Prints one JSON line. The emulator runs in its own process; the bot (the real PTB Application,
long polling) and the simulated users run in this one, on a fresh SQLite database. One user has
a 90-day course (tests/courses.py); the others loop "/today, then a pain rating", each waiting
for the bot's answer before the next message. Figures:
- progress_ms / report_ms: median and 95th percentile from sending the command to the chart
  photo (or the PDF) arriving in the chat;
- background_updates_per_s: the other users' messages handled meanwhile;
- max_loop_stall_ms: the longest the event loop went without running a 5 ms heartbeat (drawing
  happens in a worker thread; this shows what it still costs the loop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from coachbot.bot.app import build_application, polling
from coachbot.bot.updates import FloodLimit
from coachbot.clock import FakeClock
from coachbot.services.container import create_services
from coachbot.storage.migrate import upgrade_to_head
from coachbot.testing import BotEvent, EmulatorClient, add_enrolled_users
from tests.courses import ME, START, ninety_day_course

from .common import TOKEN, LoopMonitor, latency_ms, start_emulator

OTHERS_FROM = 500_000


async def run(samples: int, others: int) -> dict[str, Any]:
    emulator, url = start_emulator(rate_limited=False)
    folder = tempfile.mkdtemp(prefix="coachbot-bench-")
    database_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
    try:
        await asyncio.to_thread(upgrade_to_head, database_url)
        clock = FakeClock(START)
        services = create_services(database_url, "Europe/London", clock=clock)
        await ninety_day_course(services, clock)
        other_ids = list(range(OTHERS_FROM, OTHERS_FROM + others))
        await add_enrolled_users(database_url, other_ids, enrolled_at=clock.now - timedelta(days=3))
        async with httpx.AsyncClient(base_url=url) as sandbox:
            await sandbox.post(
                "/_sandbox/chats", json={"user_ids": [ME.telegram_user_id, *other_ids]}
            )
        # The simulated users answer at machine speed: flood control would drop them.
        application = build_application(TOKEN, url, services, max_rate=1e9,
                                        flood=FloodLimit(burst=1_000_000))  # fmt: skip
        async with polling(application), EmulatorClient(url) as client:
            stop = asyncio.Event()
            handled = [0]

            async def busy(user_id: int) -> None:
                user = client.user(user_id)
                pain = user_id % 11
                while not stop.is_set():
                    await user.send("/today")
                    await user.wait_for("Did you do today's exercises?", timeout=60)
                    await user.send(str(pain))  # typed: the rating of today's check-in
                    await user.wait_for(lambda e: f"pain {pain}/10" in e.text
                                        or "Already recorded" in e.text, timeout=60)  # fmt: skip
                    handled[0] += 2

            me = client.user(ME.telegram_user_id)

            async def timed(command: str, arrived: Any) -> float:
                started = time.perf_counter()
                await me.send(command)
                await me.wait_for(arrived, timeout=60)
                return time.perf_counter() - started

            def photo(event: BotEvent) -> bool:
                return event.photo is not None

            def document(event: BotEvent) -> bool:
                return event.document is not None

            await timed("/progress", photo)  # warm-up: imports and font caches
            crowd = [asyncio.create_task(busy(user_id)) for user_id in other_ids]
            with LoopMonitor() as monitor:
                began = time.perf_counter()
                progress = [await timed("/progress", photo) for _ in range(samples)]
                report = [await timed("/report", document) for _ in range(samples)]
                elapsed = time.perf_counter() - began
            stop.set()
            failed = [r for r in await asyncio.gather(*crowd, return_exceptions=True) if r]
            assert not failed, failed[:1]
        return {
            "benchmark": "progress", "engine": "sqlite", "course_days": 90, "samples": samples,
            "other_users": others, "progress_ms": latency_ms(progress, 95),
            "report_ms": latency_ms(report, 95),
            "background_updates_per_s": round(handled[0] / elapsed, 1),
            "max_loop_stall_ms": round(monitor.longest * 1000, 1),
        }  # fmt: skip
    finally:
        emulator.terminate()
        emulator.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--others", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.samples, args.others))))


if __name__ == "__main__":
    main()
