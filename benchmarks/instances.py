"""Dispatch by several instances sharing PostgreSQL: messages a second and duplicates (must be 0).

    python -m benchmarks.instances                          # 3 instances, 3000 users, elected
    python -m benchmarks.instances --no-elect               # all three send (SKIP LOCKED split)
    python -m benchmarks.instances --rate-limited           # emulator enforcing Telegram's limits

Prints one JSON line. The emulator runs in its own process; the three instances (each its own
engine, bot and dispatcher, as separate processes would have) run in this one against a fresh
database on the local PostgreSQL server, ticking at the same time until every prompt is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

import httpx

from coachbot.bot.app import build_application
from coachbot.clock import FakeClock
from coachbot.scheduler import DispatchConfig, Dispatcher
from coachbot.services.container import create_services
from tests import postgres

from .common import TOKEN, due_users, start_emulator

FIRST_USER = 3_000_000
TELEGRAM_RATE = 30.0


async def run(users: int, instances: int, elect: bool, rate_limited: bool) -> dict[str, Any]:
    emulator, url = start_emulator(rate_limited)
    database = f"coachbot_bench_{uuid.uuid4().hex[:8]}"
    postgres.create_database(database)
    database_url = postgres.url_of(database)
    made: list[tuple[Any, Any, Dispatcher]] = []
    try:
        ids = range(FIRST_USER, FIRST_USER + users)
        now = await due_users(database_url, url, ids)
        async with httpx.AsyncClient(base_url=url) as sandbox:
            clock = FakeClock(now)
            for _ in range(instances):
                services = create_services(database_url, "UTC", clock=clock)
                application = build_application(
                    TOKEN, url, services, max_rate=TELEGRAM_RATE if rate_limited else 1e9
                )
                await application.initialize()
                config = DispatchConfig(elect=elect, claim_batch=200, take_batch=50)
                made.append((services, application, Dispatcher(services, application.bot, clock,
                                                               config)))  # fmt: skip
            sent = [0] * instances
            started = time.perf_counter()
            while sum(sent) < users:
                reports = await asyncio.gather(*(d.tick() for _, _, d in made))
                for index, report in enumerate(reports):
                    sent[index] += report.sent
                if not any(report.sent or report.claimed for report in reports):
                    break
            elapsed = time.perf_counter() - started
            stats = (await sandbox.get("/_sandbox/stats")).json()
        return {
            "benchmark": "instances", "engine": "postgresql", "instances": instances,
            "elected": elect, "rate_limited": rate_limited, "users": users,
            "msgs_per_s": round(stats["sent"] / elapsed, 1), "sent_by_instance": sent,
            "users_prompted": stats["chats"], "duplicates": stats["sent"] - stats["chats"],
            "too_many_requests": stats["too_many_requests"],
        }  # fmt: skip
    finally:
        for services, application, dispatcher in made:
            await dispatcher.close()
            await application.shutdown()
            await services.close()
        emulator.terminate()
        emulator.wait()
        postgres.drop_database(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--no-elect", dest="elect", action="store_false")
    parser.add_argument("--rate-limited", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.users, args.instances, args.elect, args.rate_limited))))


if __name__ == "__main__":
    main()
