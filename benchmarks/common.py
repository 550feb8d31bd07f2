"""What the benchmarks share: the emulator in its own process, a cheap HTTP client for it, an
event-loop stall meter, the CPU time of a process and percentiles."""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

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


class RawHttp:
    """A minimal HTTP/1.1 keep-alive JSON client for the local emulator, for load generators that
    share the cores with the bot: about 0.1 ms of CPU a request where httpx takes 1.7 (measured
    on this machine against the emulator). Content-Length bodies only (what the emulator sends);
    a connection is reused once its answer was read whole, closed otherwise."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None, url
        self.host, self.port = parts.hostname, parts.port
        self.requests = 0
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str, **query: Any) -> Any:
        return await self.request("GET", f"{path}?{urlencode(query)}" if query else path)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self.request("POST", path, body)

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The JSON answer; AssertionError unless the status is 200."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        if self._idle:
            connection = self._idle.pop()
        else:
            connection = await asyncio.open_connection(self.host, self.port)
        reader, writer = connection
        self.requests += 1
        try:
            writer.write(head.encode() + b"\r\n" + payload)
            status_line, *headers = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in headers
                          if line.lower().startswith(b"content-length:"))  # fmt: skip
            answer = await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        self._idle.append(connection)
        status = int(status_line.split()[1])
        if status != 200:
            raise AssertionError(f"{method} {path} -> {status}: {answer.decode(errors='replace')}")
        return json.loads(answer)

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


def start_emulator(
    rate_limited: bool, latency_ms: float = 0.0
) -> tuple[subprocess.Popen[str], str]:
    """The emulator in its own process, and its address; `latency_ms` is added to every Bot API
    answer (Telegram's round trip is about 50)."""
    command = [sys.executable, "-m", "coachbot.sandbox", "--port", "0", "--token", TOKEN,
               "--latency-ms", str(latency_ms)]  # fmt: skip
    if rate_limited:
        command.append("--enforce-rate-limits")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


async def due_users(database_url: str, emulator_url: str, ids: range) -> datetime:
    """Migrate the database and enrol `ids`, all due for their prompt a minute ago, with their
    chats open in the emulator; the current time (to start the bot's fake clock at). Done in a
    child process, so that the migration's and the seeding's memory is not counted in this
    (the bot's) process's peak RSS."""
    command = [sys.executable, "-m", "benchmarks.common", database_url, emulator_url,
               str(ids.start), str(ids.stop)]  # fmt: skip
    child = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE)
    out, _ = await child.communicate()
    assert child.returncode == 0, f"seeding failed ({child.returncode})"
    return datetime.fromisoformat(out.decode().strip())


async def _seed(database_url: str, emulator_url: str, ids: range) -> datetime:
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


def percentile(ordered: list[float], percent: float) -> float:
    """The nearest-rank percentile of samples sorted ascending (as `latency_ms` picks it)."""
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def _process_cpu(pid: int) -> tuple[int, float]:
    """(parent pid, user + system CPU seconds) of one process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After "pid (comm)": state ppid ... utime (14th field of the line) stime (15th).
    ticks = int(fields[11]) + int(fields[12])
    return int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU seconds of `pid` (all its threads) and of each of its descendants
    alive now, by pid, from /proc (Linux): subtract two readings with `cpu_between`."""
    times: dict[int, float] = {}
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)], times[int(entry.name)] = _process_cpu(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    tree = {pid} if pid in times else set()
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return {member: times[member] for member in tree}


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two `cpu_seconds` readings (a process born meanwhile counts
    from zero; one that ended meanwhile is lost)."""
    return sum(seconds - before.get(member, 0.0) for member, seconds in after.items())


def finite_or_none(value: float, digits: int = 1) -> float | None:
    """A figure for JSON: rounded, or None when infinite (an answer that never came)."""
    return None if math.isinf(value) else round(value, digits)


if __name__ == "__main__":  # the seeding child of `due_users`
    _url, _emulator, _first, _stop = sys.argv[1:5]
    print(asyncio.run(_seed(_url, _emulator, range(int(_first), int(_stop)))).isoformat())
