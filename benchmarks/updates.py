"""Update handling: simulated users go through the check-in against a real bot, closed or open loop.

    python -m benchmarks.updates                      # closed loop, SQLite
    python -m benchmarks.updates --engine postgresql  # closed loop, the local PostgreSQL server
    python -m benchmarks.updates --open-loop --rate 30 [--users 10000] [--seconds 30]
    python -m benchmarks.updates --saturate [--users 10000] [--start-rate 10] [--factor 1.25]

Each prints one JSON line. In every mode the emulator runs in its own process and so does the
bot: a real `coachbot run` (long polling, default settings but the overall rate limit, lifted
(TELEGRAM_MAX_RATE=100000) so that the bot's own capacity is measured, not Telegram's 30 a
second) on a fresh database with `--users` enrolled users, their chats open in the emulator.
The users are simulated here. Each goes through the version-2 check-in once: asks for today's
check-in (/today: the bot sends "Did you do today's exercises?"), presses "Done" (the message is
edited to "Recorded: done." and the worst pain during the exercises), presses a number 0-2 (edited
to "... exercise pain N/10." and the pain at rest), presses a number 0-10 (edited to ", pain
N/10."): four updates, each answered by the bot's message or edit.

Closed loop (the default; `--users` 1000, `--active` 100): `--active` users at a time, each
waiting for the bot's answer before its next action. Figures: updates handled a second, and the
latency from the user's action to the bot's answer (median and 99th percentile) for each kind.

Open loop (`--open-loop --rate R`): updates are offered at R a second whatever the bot's speed.
- Schedule: update slot s is planned at the absolute time t0 + s/R (never relative to the
  previous one, so the rate does not drift). A session (one user's four updates) starts every
  4/R s, and step i of session j takes slot 4(j + i*m) + i, where m = round(think * R / 4):
  the slots of the four kinds interleave, every slot is used once in the steady state (a
  perfectly even arrival rate R), and a user thinks about `--think` s (default 1; exactly
  (4m + 1)/R, reported as think_s) between an answer and their next tap. Steps stay in order:
  a tap whose planned time comes before the previous answer arrived is offered the moment it
  arrives (counted as late_taps; then the offered rate falls below R, which is reported as
  measured, not assumed). Nothing else waits for the bot: a slow answer delays only its own
  user's next tap.
- Latency of an action: from the update being queued at the emulator (the moment the
  `/_sandbox/send` or `/_sandbox/press` POST returned to this process) to the emulator
  recording the bot's reply or edit answering it: the `at` of that sendMessage or
  editMessageText call in the emulator's request log (`/_sandbox/requests`, read once after the
  run; the emulator's time.monotonic(), the system-wide CLOCK_MONOTONIC on Linux, the same
  clock this process uses). Events from `/_sandbox/events` carry no time. seen_p99_ms is the
  latency to the answer reaching this process through its long poll instead (an upper bound).
  An action never answered within `--answer-timeout` s counts as infinitely slow: a percentile
  that falls on one is null.
- Warm-up: the first `--warmup` s (default 5, at least the ramp-up while the sessions' later
  steps start: about 3 * think) are excluded; then a measuring window of `--seconds` (default
  30). Updates planned after the window are not offered; answers to those offered in it are
  awaited. Sessions needed, about R * (warm-up + seconds) / 4, must not exceed `--users`.
- Figures: offered_per_s (updates actually queued in the window, a second), handled_per_s
  (answers the emulator recorded in the window, a second), p50/p95/p99_ms over every action
  queued in the window and per kind (per_kind), bot_cpu_pct (the bot process and any children,
  user + system from /proc/<pid>/stat over the window, in % of one core; emulator_cpu_pct and
  loadgen_cpu_pct likewise for the emulator and this process), bot_max_loop_stall_ms (the
  bot's own event loop: the longest gap in a 5 ms heartbeat during the window, from
  benchmarks.stall_meter, which runs `coachbot run` with that heartbeat added),
  max_loop_stall_ms (this process's event loop: how late the load generator could have been),
  issue_lag_p99_ms (how late on-time updates were offered after their planned time),
  unanswered.
- The load generator stays cheap, on the same cores as the bot: one shared keep-alive HTTP
  client (common.RawHttp: about 0.1 ms of CPU a request where httpx takes 1.7), one task per
  session, a long poll (`/_sandbox/events`, 1 s at a time) only for a user awaiting an answer,
  at most `--long-polls` (default 32) at once, each starting after the newest event already
  seen so that the emulator scans little (loadgen_requests_per_update counts the requests).

Saturation (`--saturate`): open-loop windows (`--seconds`, default 10, after the warm-up) at
`--start-rate` (default 10) a second, the rate multiplied by `--factor` (default 1.25) each step,
until the p99 latency exceeds 1 s or fewer than 90% of the offered updates are handled; each
step on a fresh emulator, database (with `--users` users) and bot, so every user is new. Prints
the highest offered rate held (p99 <= 1 s) and each step's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import math
import re
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from coachbot.storage.migrate import upgrade_to_head
from coachbot.testing import (
    EmulatorClient,
    add_enrolled_users,
    coachbot_environment,
)
from tests import postgres

from .common import (
    TOKEN,
    LoopMonitor,
    RawHttp,
    cpu_between,
    cpu_seconds,
    finite_or_none,
    latency_ms,
    percentile,
    start_emulator,
)
from .stall_meter import longest_stall

FIRST_USER = 2_000_000
KINDS = ("/today", "done", "exercise_pain", "rest_pain")
LONG_POLL_S = 1.0
HELD_P99_MS = 1000.0
HELD_HANDLED_SHARE = 0.9


@dataclass(frozen=True)
class BotUnderTest:
    url: str
    ids: list[int]
    bot_pid: int
    emulator_pid: int
    stalls: str  # the bot's event-loop stalls (benchmarks.stall_meter)


@contextlib.asynccontextmanager
async def bot_under_test(users: int, engine: str) -> AsyncIterator[BotUnderTest]:
    """The emulator, a fresh database with `users` enrolled users (chats open) and a real
    `coachbot run`, answering; all removed on exit."""
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
        stalls = str(Path(folder) / "stalls.txt")
        # `coachbot run`, with the bot's own event loop watched
        meter = [sys.executable, "-m", "benchmarks.stall_meter", "run"]
        bot = await asyncio.create_subprocess_exec(
            *meter, env={**environment, "BENCH_STALLS": stalls}
        )
        async with EmulatorClient(url) as client:
            first = client.user(ids[0])
            await first.send("/help")  # the bot is up once it answers
            await first.wait_for("What I can do", timeout=60)
        yield BotUnderTest(url, ids, bot.pid, emulator.pid, stalls)
    finally:
        if bot is not None:
            bot.terminate()
            await bot.wait()
        emulator.terminate()
        emulator.wait()
        if engine == "postgresql":
            postgres.drop_database(database)


def flow(user_id: int) -> list[tuple[str, str | None, str]]:
    """A user's check-in: (kind, the button pressed (None: send /today), what the answer shows)."""
    return [("/today", None, "Did you do today's exercises?"),
            ("done", "Done", "Recorded: done."),
            ("exercise_pain", str(user_id % 3), f"exercise pain {user_id % 3}/10."),
            ("rest_pain", str(user_id % 11), f", pain {user_id % 11}/10.")]  # fmt: skip


# -- closed loop ---------------------------------------------------------------------------------


async def run(users: int, active: int, engine: str) -> dict[str, Any]:
    async with bot_under_test(users, engine) as setup:
        latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
        gate = asyncio.Semaphore(active)
        async with EmulatorClient(setup.url) as client:

            async def one(user_id: int) -> None:
                async with gate:
                    user = client.user(user_id)
                    (today, _, asked), *taps = flow(user_id)
                    started = time.perf_counter()
                    await user.send("/today")
                    prompt = await user.wait_for(asked, timeout=60)
                    latencies[today].append(time.perf_counter() - started)
                    # Each tap, then the prompt edited to show it (the next question with it).
                    for kind, label, shown in taps:
                        assert label is not None
                        started = time.perf_counter()
                        await user.press(label, message_id=prompt.message_id)
                        await user.wait_for(shown, timeout=60)
                        latencies[kind].append(time.perf_counter() - started)

            began = time.perf_counter()
            await asyncio.gather(*(one(user_id) for user_id in setup.ids))
            elapsed = time.perf_counter() - began
        handled = sum(len(samples) for samples in latencies.values())
        return {
            "benchmark": "updates", "engine": engine, "users": users, "active_at_once": active,
            "updates_per_s": round(handled / elapsed, 1),
            **{f"{kind}": latency_ms(samples, 99) for kind, samples in latencies.items()},
        }  # fmt: skip


# -- open loop -----------------------------------------------------------------------------------


@dataclass
class Action:
    """One update offered; times are time.monotonic() seconds."""

    kind: str
    chat_id: int
    shown: str  # what the bot's answer shows
    planned: float
    issued: float  # the POST sent
    late: bool  # offered after its planned time because the previous answer came after it
    queued: float = math.inf  # the POST returned: the update is queued at the emulator
    seen: float = math.inf  # the answer reached this process
    recorded: float = math.inf  # the emulator recorded the answer


@dataclass(frozen=True)
class Schedule:
    rate: float
    think_sessions: int  # m: a session's step i takes slot 4 * (j + i * m) + i
    t0: float
    window_start: float
    window_end: float

    @classmethod
    def plan(cls, rate: float, think: float, warmup: float, seconds: float, t0: float) -> Schedule:
        m = max(0, round(think * rate / 4))
        ramp = (4 * 3 * m + 3) / rate  # until the first session's last step: every slot used
        window_start = t0 + max(warmup, ramp)
        return cls(rate, m, t0, window_start, window_start + seconds)

    @property
    def think(self) -> float:
        return (4 * self.think_sessions + 1) / self.rate

    @property
    def sessions(self) -> int:
        """Sessions whose first step is planned before the window ends."""
        return math.ceil((self.window_end - self.t0) * self.rate / 4)

    def planned(self, session: int, step: int) -> float:
        return self.t0 + (4 * (session + step * self.think_sessions) + step) / self.rate


class LoadGenerator:
    """Plays one check-in session per user on the schedule and keeps every action's times."""

    def __init__(self, http: RawHttp, schedule: Schedule, answer_timeout: float,
                 long_polls: int) -> None:  # fmt: skip
        self.http = http
        self.schedule = schedule
        self.answer_timeout = answer_timeout
        self.actions: list[Action] = []
        self._long_polls = asyncio.Semaphore(long_polls)
        self._newest_seq = 0  # the newest event seen in any chat

    async def session(self, number: int, user_id: int) -> None:
        cursor = self._newest_seq  # this user has no event after it: they have not acted yet
        identity = {"user_id": user_id, "chat_id": user_id, "first_name": "Sam"}
        answer: dict[str, Any] | None = None
        answered_at = -math.inf
        for step, (kind, label, shown) in enumerate(flow(user_id)):
            planned = self.schedule.planned(number, step)
            if planned >= self.schedule.window_end:
                return
            await asyncio.sleep(planned - time.monotonic())
            action = Action(kind, user_id, shown, planned, issued=time.monotonic(),
                            late=answered_at > planned)  # fmt: skip
            self.actions.append(action)
            if answer is None:
                await self.http.post("/_sandbox/send", {**identity, "text": "/today"})
            else:
                assert label is not None
                data = _callback_data(answer, label)
                await self.http.post("/_sandbox/press", {
                    **identity, "message_id": answer["message_id"], "callback_data": data})  # fmt: skip
            action.queued = time.monotonic()
            answer, cursor = await self._answer(user_id, cursor, shown, action.queued)
            if answer is None:
                return  # never answered: the session stops there
            action.seen = answered_at = time.monotonic()

    async def _answer(self, chat_id: int, cursor: int, shown: str,
                      since: float) -> tuple[dict[str, Any] | None, int]:  # fmt: skip
        """The bot's message or edit showing `shown` after event `cursor`, and the new cursor."""
        deadline = since + self.answer_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            async with self._long_polls:
                known = self._newest_seq
                wait = min(LONG_POLL_S, max(remaining, 0.01))
                events = await self.http.get("/_sandbox/events", chat_id=chat_id, after=cursor,
                                             timeout=wait)  # fmt: skip
            for event in events["events"]:
                cursor = event["seq"]
                self._newest_seq = max(self._newest_seq, cursor)
                text = event["text"] or event["caption"] or ""
                if event["type"] in ("message", "edit") and shown in text:
                    return event, cursor
            # Every event of this chat up to `known` existed before the poll, so it was in the
            # answer: the next poll starts after it and the emulator scans less.
            cursor = max(cursor, known)
        return None, cursor


def _callback_data(message: dict[str, Any], label: str) -> str:
    for row in message["buttons"]:
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    labels = [button["text"] for row in message["buttons"] for button in row]
    raise AssertionError(f"no button {label!r} on message {message['message_id']}: {labels}")


_TAG = re.compile(r"<[^>]*>")


def record_times(actions: list[Action], requests: list[dict[str, Any]]) -> int:
    """Set each answered action's `recorded` from the emulator's request log: in each chat, the
    first sendMessage or editMessageText after the previous answer, made after the action was
    offered, showing what the answer shows. Returns how many answers were not found (their
    time of arrival here is used)."""
    calls: dict[int, list[tuple[float, str]]] = {}
    for request in requests:
        params = request["params"]
        if request["ok"] and request["method"] in ("sendMessage", "editMessageText"):
            text = str(params.get("text") or "")
            if str(params.get("parse_mode") or "").upper() == "HTML":
                text = html.unescape(_TAG.sub("", text))
            calls.setdefault(int(params["chat_id"]), []).append((float(request["at"]), text))
    for in_chat in calls.values():
        in_chat.sort(key=lambda call: call[0])
    position: dict[int, int] = {}
    missing = 0
    for action in sorted(actions, key=lambda action: action.issued):
        if math.isinf(action.seen):
            continue
        in_chat = calls.get(action.chat_id, [])
        index = position.get(action.chat_id, 0)
        while index < len(in_chat) and not (
            in_chat[index][0] >= action.issued and action.shown in in_chat[index][1]
        ):
            index += 1
        if index < len(in_chat):
            action.recorded = in_chat[index][0]
            position[action.chat_id] = index + 1
        else:
            action.recorded = action.seen
            missing += 1
    return missing


def _percentiles(latencies: list[float], *percents: int) -> dict[str, float | None]:
    ordered = sorted(latencies)
    if not ordered:
        return {f"p{percent}_ms": None for percent in percents}
    return {f"p{p}_ms": finite_or_none(percentile(ordered, p) * 1000) for p in percents}


async def open_loop(
    rate: float, users: int, seconds: float, engine: str, *, think: float = 1.0,
    warmup: float = 5.0, answer_timeout: float = 60.0, long_polls: int = 32,
) -> dict[str, Any]:  # fmt: skip
    began = time.monotonic()
    needed = Schedule.plan(rate, think, warmup, seconds, 0.0).sessions
    if needed > users:
        raise SystemExit(f"{rate}/s for {seconds} s after the warm-up needs {needed} users "
                         f"(one check-in each); --users is {users}")  # fmt: skip
    async with bot_under_test(users, engine) as setup:
        http = RawHttp(setup.url)
        try:
            schedule = Schedule.plan(rate, think, warmup, seconds, time.monotonic() + 0.5)
            generator = LoadGenerator(http, schedule, answer_timeout, long_polls)
            monitor = LoopMonitor()
            usage: dict[str, float] = {}

            async def measure() -> None:
                await asyncio.sleep(schedule.window_start - time.monotonic())
                bot, emulator = cpu_seconds(setup.bot_pid), cpu_seconds(setup.emulator_pid)
                own = time.process_time()
                with monitor:
                    await asyncio.sleep(schedule.window_end - time.monotonic())
                usage["loadgen"] = time.process_time() - own
                usage["bot"] = cpu_between(bot, cpu_seconds(setup.bot_pid))
                usage["emulator"] = cpu_between(emulator, cpu_seconds(setup.emulator_pid))

            sessions = [generator.session(j, user_id)
                        for j, user_id in zip(range(schedule.sessions), setup.ids, strict=False)]  # fmt: skip
            await asyncio.gather(measure(), *sessions)
            http_requests = http.requests
            requests = await http.get("/_sandbox/requests")
        finally:
            await http.aclose()
    missing = record_times(generator.actions, requests)
    start, end = schedule.window_start, schedule.window_end
    window = [action for action in generator.actions if start <= action.queued < end]
    latencies = [action.recorded - action.queued for action in window]
    per_kind = {
        kind: _percentiles([a.recorded - a.queued for a in window if a.kind == kind], 50, 99)
        for kind in KINDS
    }
    on_time = sorted(a.issued - a.planned for a in window if not a.late)
    result: dict[str, Any] = {
        "benchmark": "updates-open-loop", "engine": engine, "users": users,
        "offered_per_s": round(len(window) / seconds, 1),
        "handled_per_s": round(sum(start <= a.recorded < end for a in generator.actions) / seconds, 1),
        **_percentiles(latencies, 50, 95, 99),
        "bot_cpu_pct": round(usage["bot"] / seconds * 100, 1),
        "max_loop_stall_ms": round(monitor.longest * 1000, 1),
        "bot_max_loop_stall_ms": round(longest_stall(setup.stalls, start, end) * 1000, 1),
        "rate_per_s": rate, "seconds": seconds, "warmup_s": round(start - schedule.t0, 2),
        "think_s": round(schedule.think, 3), "sessions": schedule.sessions,
        "per_kind": per_kind,
        "seen_p99_ms": _percentiles([a.seen - a.queued for a in window], 99)["p99_ms"],
        "issue_lag_p99_ms": round(percentile(on_time, 99) * 1000, 1) if on_time else None,
        "late_taps": sum(a.late for a in window),
        "unanswered": sum(math.isinf(a.recorded) for a in window),
        "answered_before_post_returned": sum(a.recorded < a.queued for a in window),
        "answers_not_in_request_log": missing,
        "emulator_cpu_pct": round(usage["emulator"] / seconds * 100, 1),
        "loadgen_cpu_pct": round(usage["loadgen"] / seconds * 100, 1),
        "loadgen_requests_per_update": round(http_requests / max(1, len(generator.actions)), 2),
        "wall_s": round(time.monotonic() - began, 1),
    }  # fmt: skip
    return result


async def saturate(users: int, engine: str, *, start_rate: float, factor: float, seconds: float,
                   **options: Any) -> dict[str, Any]:  # fmt: skip
    began = time.monotonic()
    steps: list[dict[str, Any]] = []
    held: float | None = None
    rate = start_rate
    stopped = ""
    while not stopped:
        needed = Schedule.plan(rate, options.get("think", 1.0), options.get("warmup", 5.0),
                               seconds, 0.0).sessions  # fmt: skip
        if needed > users:
            stopped = f"{rate}/s would need {needed} users"
            break
        figures = await open_loop(rate, users, seconds, engine, **options)
        steps.append({key: figures[key] for key in (
            "rate_per_s", "offered_per_s", "handled_per_s", "p50_ms", "p99_ms", "bot_cpu_pct",
            "bot_max_loop_stall_ms", "late_taps", "unanswered")})  # fmt: skip
        p99 = figures["p99_ms"]
        if p99 is None or p99 > HELD_P99_MS:
            stopped = f"p99 over {HELD_P99_MS:.0f} ms"
        elif figures["handled_per_s"] < HELD_HANDLED_SHARE * figures["offered_per_s"]:
            stopped = "handled below 90% of offered"
        else:
            held = figures["offered_per_s"]
            rate = round(rate * factor, 1)
    return {"benchmark": "updates-saturate", "engine": engine, "users": users,
            "max_rate_held_per_s": held, "steps": steps, "stopped": stopped,
            "step_seconds": seconds, "wall_s": round(time.monotonic() - began, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--open-loop", action="store_true", help="offer updates at --rate a second")
    mode.add_argument("--saturate", action="store_true", help="raise the open-loop rate until p99 > 1 s")  # fmt: skip
    parser.add_argument("--users", type=int, help="enrolled users (1000 closed, 10000 open loop)")
    parser.add_argument("--active", type=int, default=100, help="closed loop: users at a time")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rate", type=float, default=30.0, help="open loop: updates a second")
    parser.add_argument("--seconds", type=float, help="measuring window (30 open loop, 10 a step)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds excluded first")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between answer and tap")
    parser.add_argument("--answer-timeout", type=float, help="seconds (60 open loop, 10 a step)")
    parser.add_argument("--long-polls", type=int, default=32, help="at most this many at once")
    parser.add_argument("--start-rate", type=float, default=10.0)
    parser.add_argument("--factor", type=float, default=1.25)
    args = parser.parse_args()
    if args.open_loop or args.saturate:
        users = args.users or 10000
        options = {"think": args.think, "warmup": args.warmup, "long_polls": args.long_polls}
        if args.open_loop:
            result = asyncio.run(open_loop(args.rate, users, args.seconds or 30.0, args.engine,
                                           answer_timeout=args.answer_timeout or 60.0, **options))  # fmt: skip
        else:
            result = asyncio.run(saturate(users, args.engine, start_rate=args.start_rate,
                                          factor=args.factor, seconds=args.seconds or 10.0,
                                          answer_timeout=args.answer_timeout or 10.0, **options))  # fmt: skip
    else:
        result = asyncio.run(run(args.users or 1000, args.active, args.engine))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
