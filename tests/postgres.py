"""The PostgreSQL test server: create and drop databases for the PostgreSQL leg of the suite."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlsplit

import asyncpg

SERVER = os.environ.get("COACHBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
T = TypeVar("T")


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` on its own event loop in a thread (fixtures may be inside a running loop)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(work())).result()  # type: ignore[arg-type]


async def _execute(sql: str) -> None:
    connection = await asyncpg.connect(SERVER, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def unavailable() -> str | None:
    """Why the PostgreSQL leg cannot run (None: it can)."""
    try:
        _run(lambda: _execute("SELECT 1"))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"no PostgreSQL server at {SERVER} ({type(exc).__name__}: {exc})"
    return None


def create_database(name: str, template: str | None = None) -> None:
    suffix = f' TEMPLATE "{template}"' if template else ""
    _run(lambda: _execute(f'CREATE DATABASE "{name}"{suffix}'))


def drop_database(name: str) -> None:
    _run(lambda: _execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def url_of(name: str) -> str:
    """The SQLAlchemy URL of database `name` on the test server."""
    server = urlsplit(SERVER)
    return f"postgresql+asyncpg://{server.netloc}/{name}"
