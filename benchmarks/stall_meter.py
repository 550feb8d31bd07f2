"""`coachbot run` with an event-loop stall meter, for benchmarks that drive the bot as a process.

    BENCH_STALLS=/tmp/stalls.txt python -m benchmarks.stall_meter run

The bot's own `post_init` hook also starts a 5 ms heartbeat on the bot's event loop; every gap
over 10 ms beyond it is appended to $BENCH_STALLS as a line "<end> <gap>" (seconds: the
loop's time.monotonic(), the system-wide CLOCK_MONOTONIC shared with the benchmark process),
so that the benchmark can take the longest within its measuring window. Nothing else changes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from coachbot.bot import app
from coachbot.cli import main

HEARTBEAT = 0.005
REPORTED = 0.010


async def _beat(path: str) -> None:
    loop = asyncio.get_running_loop()
    with open(path, "a", buffering=1) as out:  # noqa: ASYNC230 - a line per rare stall
        while True:
            before = loop.time()
            await asyncio.sleep(HEARTBEAT)
            gap = loop.time() - before - HEARTBEAT
            if gap > REPORTED:
                out.write(f"{loop.time():.6f} {gap:.6f}\n")


def _metered(post_init: Any, post_shutdown: Any, path: str) -> tuple[Any, Any]:
    async def started(application: Any) -> None:
        await post_init(application)
        application.bot_data["stall_meter"] = asyncio.get_running_loop().create_task(_beat(path))

    async def stopping(application: Any) -> None:
        application.bot_data["stall_meter"].cancel()
        await post_shutdown(application)

    return started, stopping


def longest_stall(path: str, start: float, end: float) -> float:
    """The longest gap (seconds) that ended within [start, end] in a $BENCH_STALLS file."""
    if not os.path.exists(path):  # no gap over 10 ms at all
        return 0.0
    longest = 0.0
    with open(path) as lines:
        for line in lines:
            at, gap = map(float, line.split())
            if start <= at <= end:
                longest = max(longest, gap)
    return longest


if __name__ == "__main__":
    app._post_init, app._close_services = _metered(  # noqa: SLF001
        app._post_init, app._close_services, os.environ["BENCH_STALLS"]
    )
    sys.exit(main(sys.argv[1:]))
