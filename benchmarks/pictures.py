"""Exercise pictures: every exercise's animation and still drawn from scratch, as the bot draws
them (in its drawing worker process), while the event loop is watched.

    python -m benchmarks.pictures

Prints one JSON line:
- render_all_s: wall time to draw every exercise's GIF and PNG, nothing drawn before (target
  under 60 s on this 2-core machine);
- max_loop_stall_ms: the longest the event loop went without its 5 ms heartbeat meanwhile
  (target under 10 ms: drawing must never hold up other users' updates);
- idle_loop_stall_ms: the same measure over as long with nothing drawn, for comparison (the
  scheduling jitter of the machine itself);
- largest_gif_kb and exercises.
"""

from __future__ import annotations

import asyncio
import json
import time

from coachbot.content import default_content
from coachbot.services.media import MediaService
from coachbot.services.progress import Renderer

from .common import LoopMonitor


async def run() -> dict[str, object]:
    content = default_content()
    renderer = Renderer()
    media = MediaService(content, renderer)
    try:
        await renderer.run(len, b"")  # the worker is started with the bot; nothing drawn yet
        with LoopMonitor() as monitor:
            started = time.perf_counter()
            gifs = [await media.animation(e.id) for e in content.exercises]
            for e in content.exercises:
                await media.still(e.id)
            elapsed = time.perf_counter() - started
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
        "largest_gif_kb": round(max(len(g) for g in gifs) / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run())))
