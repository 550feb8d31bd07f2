"""`coachbot demo --web`: the sandbox in a browser (a Telegram-like chat, time controls and the
inspector), served by the emulator's own HTTP server at the printed address until Ctrl-C."""

from __future__ import annotations

import sys
from typing import TextIO

from coachbot.sandbox.demo import sandbox
from coachbot.sandbox.emulator import until_signalled


async def run_web(default_zone: str, *, host: str = "127.0.0.1", port: int,
                  out: TextIO = sys.stdout) -> int:  # fmt: skip
    async with sandbox(default_zone, host=host, port=port) as box:
        print(f"coachbot web sandbox: open {box.emulator.url}/ in a browser (Ctrl-C stops it; "
              "nothing is kept)", file=out, flush=True)  # fmt: skip
        await until_signalled()
    return 0
