"""What the benchmarks share: the emulator in its own process and an event-loop stall meter."""

from __future__ import annotations

import asyncio
import subprocess
import sys

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
