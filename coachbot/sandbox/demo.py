"""One sandbox: the real bot against the in-repo emulator, on a throwaway database and a clock
the sandbox controls. `coachbot demo` chats with it in a terminal, `coachbot demo --web` in a
browser; both get the time travel commands (/next, /skip N, /state)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from coachbot.bot.app import DISPATCHER_KEY, AnyApplication, build_application, polling
from coachbot.bot.updates import FloodLimit
from coachbot.clock import Clock, TravelClock, system_clock
from coachbot.sandbox.controls import CHAT_COMMANDS, CONTROLS_KEY, Controls
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.scheduler import DispatchConfig
from coachbot.services.container import create_services
from coachbot.storage.migrate import upgrade_to_head

DEMO_TOKEN = "100000001:sandbox-demo-token-not-a-real-telegram-token"
DEMO_USER_ID = 424242
# One person trying weeks of a course in minutes (or a browser test clicking) taps far faster
# than anyone on Telegram: the flood limit stays, but far above what the sandbox sees.
SANDBOX_FLOOD = FloodLimit(burst=1000, per_second=100.0)


@dataclass(frozen=True)
class Sandbox:
    emulator: BotApiEmulator
    application: AnyApplication
    controls: Controls
    clock: TravelClock


@asynccontextmanager
async def sandbox(default_zone: str, *, host: str = "127.0.0.1", port: int = 0,
                  real: Clock = system_clock) -> AsyncIterator[Sandbox]:  # fmt: skip
    """Start emulator and bot (polling, with the daily dispatch job); stop both at the end.
    `real`: the time the sandbox's clock runs from (tests fix it)."""
    with tempfile.TemporaryDirectory(prefix="coachbot-demo-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'demo.sqlite3'}"
        await asyncio.to_thread(upgrade_to_head, url)
        clock = TravelClock(real)
        emulator = BotApiEmulator(host=host, port=port)
        await emulator.start()
        try:
            services = create_services(url, default_zone, clock=clock)
            application = build_application(DEMO_TOKEN, emulator.url, services, clock=clock,
                                            dispatch=DispatchConfig(), flood=SANDBOX_FLOOD,
                                            extra_commands=CHAT_COMMANDS)  # fmt: skip
            controls = Controls(services, application.bot_data[DISPATCHER_KEY], clock)
            application.bot_data[CONTROLS_KEY] = controls
            emulator.controls = controls
            async with polling(application):
                yield Sandbox(emulator, application, controls, clock)
        finally:
            await emulator.stop()
