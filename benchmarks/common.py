"""What the benchmarks share: the emulator in its own process and an event-loop stall meter."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import httpx

from coachbot.storage.migrate import upgrade_to_head
from coachbot.testing import add_enrolled_users

TOKEN = "123456789:benchmark-token-for-the-local-emulator"


class LoopMonitor:
    """Measures the longest gap between 5 ms heartbeats on the event loop."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.005)
            self.longest = max(self.longest, loop.time() - before - 0.005)

    def __enter__(self) -> LoopMonitor:
        self._task = asyncio.get_running_loop().create_task(self._beat())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


def start_emulator(rate_limited: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "coachbot.sandbox", "--port", "0", "--token", TOKEN]
    if rate_limited:
        command.append("--enforce-rate-limits")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


async def due_users(database_url: str, emulator_url: str, ids: range) -> datetime:
    """Migrate the database and enrol `ids`, all due for their prompt a minute ago, with their
    chats open in the emulator; the current time (to start the bot's fake clock at)."""
    await asyncio.to_thread(upgrade_to_head, database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    await add_enrolled_users(database_url, ids, enrolled_at=now - timedelta(days=2), zone="UTC",
                             reminder=clock_time(0, 0), due=now - timedelta(minutes=1))  # fmt: skip
    async with httpx.AsyncClient(base_url=emulator_url) as sandbox:
        await sandbox.post("/_sandbox/chats", json={"user_ids": list(ids)}, timeout=120)
    return now


def latency_ms(samples: list[float], percentile: int) -> dict[str, float]:
    """The median and the given percentile of durations in seconds, in milliseconds."""
    ordered = sorted(samples)
    high = ordered[min(len(ordered) - 1, round(percentile / 100 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            f"p{percentile}_ms": round(high * 1000, 1)}  # fmt: skip
