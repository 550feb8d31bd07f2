"""Exercise pictures: every exercise's animation and still drawn from scratch, as the bot draws
them (in its drawing worker process), while the event loop is watched.

    python -m benchmarks.pictures

Prints one JSON line:
- render_all_s: wall time to draw every exercise's GIF and PNG, nothing drawn before (target
  under 60 s on this 2-core machine);
- max_loop_stall_ms: the longest the event loop went without its 5 ms heartbeat meanwhile
  (target under 10 ms: drawing must never hold up other users' updates);
- idle_loop_stall_ms: the same measure over as long with nothing drawn, for comparison (the
  scheduling jitter of the machine itself, which a heartbeat cannot tell apart);
- loop_steps_over_10ms: how many single steps of the event loop (a callback or a coroutine step)
  other than the heartbeat's own ran for more than 10 ms while drawing, as asyncio's debug mode
  times them: what "the drawing stalls the loop" means, without the heartbeat's wake-up jitter
  (target 0; slow_steps names the first few);
- largest_gif_kb and exercises.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from coachbot.content import default_content
from coachbot.services.media import MediaService
from coachbot.services.progress import Renderer

from .common import LoopMonitor


class _SlowSteps(logging.Handler):
    """Counts asyncio's debug-mode reports of a loop step that took too long."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The heartbeat's own trivial steps are left out: when one "takes" 10 ms, the machine
        # preempted the process (that jitter is what idle_loop_stall_ms shows).
        if "took" in record.getMessage() and "LoopMonitor" not in record.getMessage():
            self.count += 1
            self.seen.append(record.getMessage()[:160])


async def run() -> dict[str, object]:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = 0.010
    slow = _SlowSteps()
    logging.getLogger("asyncio").addHandler(slow)
    content = default_content()
    renderer = Renderer()
    media = MediaService(content, renderer)
    try:
        await renderer.run(len, b"")  # the worker is started with the bot; nothing drawn yet
        slow.count = 0
        with LoopMonitor() as monitor:
            started = time.perf_counter()
            gifs = [await media.animation(e.id) for e in content.exercises]
            for e in content.exercises:
                await media.still(e.id)
            elapsed = time.perf_counter() - started
        steps_over, which = slow.count, slow.seen[:3]
        with LoopMonitor() as idle:  # the same watch with nothing to do: the machine's jitter
            await asyncio.sleep(elapsed)
    finally:
        renderer.close()
    return {
        "benchmark": "pictures",
        "exercises": len(content.exercises),
        "render_all_s": round(elapsed, 1),
        "max_loop_stall_ms": round(monitor.longest * 1000, 1),
        "idle_loop_stall_ms": round(idle.longest * 1000, 1),
        "loop_steps_over_10ms": steps_over,
        "slow_steps": which,
        "largest_gif_kb": round(max(len(g) for g in gifs) / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run())))
