"""Update handling: 1000 simulated users press buttons and rate their pain against a real bot.

    python -m benchmarks.updates                      # SQLite
    python -m benchmarks.updates --engine postgresql  # the local PostgreSQL server

Prints one JSON line. The emulator runs in its own process and so does the bot: a real
`coachbot run` (long polling, default settings but the overall rate limit, lifted so that the
bot's own capacity is measured) on a fresh database. The users are simulated
here, `--active` at a time; each goes through the check-in: asks for today's check-in (/today),
presses "Done", then the worst pain during the exercises, then the pain at rest, waiting for the
bot's answer each time (the prompt arriving, then the prompt edited to show what was recorded and
the next question). Figures: updates handled a second, and the latency from the user's action to
the bot's answer (median and 99th percentile) for each kind of action.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from coachbot.storage.migrate import upgrade_to_head
from coachbot.testing import (
    EmulatorClient,
    add_enrolled_users,
    coachbot_environment,
    coachbot_process,
)
from tests import postgres

from .common import TOKEN, latency_ms, start_emulator

FIRST_USER = 2_000_000


async def run(users: int, active: int, engine: str) -> dict[str, Any]:
    emulator, url = start_emulator(rate_limited=False)
    folder = tempfile.mkdtemp(prefix="coachbot-bench-")
    database = f"coachbot_bench_{uuid.uuid4().hex[:8]}"
    if engine == "postgresql":
        postgres.create_database(database)
        database_url = postgres.url_of(database)
    else:
        database_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
    bot: asyncio.subprocess.Process | None = None
    try:
        await asyncio.to_thread(upgrade_to_head, database_url)
        ids = list(range(FIRST_USER, FIRST_USER + users))
        now = datetime.now(UTC)
        await add_enrolled_users(database_url, ids, enrolled_at=now - timedelta(days=2),
                                 zone="UTC", due=now + timedelta(days=1))  # no prompt meanwhile  # fmt: skip
        async with httpx.AsyncClient(base_url=url) as sandbox:
            await sandbox.post("/_sandbox/chats", json={"user_ids": ids}, timeout=120)
        environment = coachbot_environment(
            Path(folder), TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=url,
            DATABASE_URL=database_url, LOG_LEVEL="WARNING",
            # The bot's own capacity: Telegram's 30 a second overall (which every reply and
            # edit counts against) would otherwise be the bound measured.
            TELEGRAM_MAX_RATE="100000",
        )  # fmt: skip
        bot = await coachbot_process("run", env=environment, stdout=None, stderr=None)
        latencies: dict[str, list[float]] = {"/today": [], "done": [], "exercise_pain": [],
                                             "rest_pain": []}  # fmt: skip
        gate = asyncio.Semaphore(active)
        async with EmulatorClient(url) as client:
            first = client.user(ids[0])
            await first.send("/help")  # the bot is up once it answers
            await first.wait_for("What I can do", timeout=60)

            async def one(user_id: int) -> None:
                async with gate:
                    user = client.user(user_id)
                    started = time.perf_counter()
                    await user.send("/today")
                    prompt = await user.wait_for("Did you do today's exercises?", timeout=60)
                    latencies["/today"].append(time.perf_counter() - started)
                    # Each tap, then the prompt edited to show it (the next question with it).
                    taps = (("done", "Done", "Recorded: done."),
                            ("exercise_pain", str(user_id % 3), f"exercise pain {user_id % 3}/10."),
                            ("rest_pain", str(user_id % 11), f", pain {user_id % 11}/10."))  # fmt: skip
                    for kind, label, shown in taps:
                        started = time.perf_counter()
                        await user.press(label, message_id=prompt.message_id)
                        await user.wait_for(shown, timeout=60)
                        latencies[kind].append(time.perf_counter() - started)

            began = time.perf_counter()
            await asyncio.gather(*(one(user_id) for user_id in ids))
            elapsed = time.perf_counter() - began
        handled = sum(len(samples) for samples in latencies.values())
        return {
            "benchmark": "updates", "engine": engine, "users": users, "active_at_once": active,
            "updates_per_s": round(handled / elapsed, 1),
            **{f"{kind}": latency_ms(samples, 99) for kind, samples in latencies.items()},
        }  # fmt: skip
    finally:
        if bot is not None:
            bot.terminate()
            await bot.wait()
        emulator.terminate()
        emulator.wait()
        if engine == "postgresql":
            postgres.drop_database(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--active", type=int, default=100)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.users, args.active, args.engine))))


if __name__ == "__main__":
    main()
