"""The async engine and session factory; SQLite gets WAL mode and a busy timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 5000


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock when the transaction starts. SQLite's default (deferred) transaction
    # upgrades from reading to writing at its first write, and when another connection has
    # written meanwhile that upgrade fails at once with "database is locked", busy timeout or
    # not. Update handlers and the dispatch job run concurrently, so every transaction begins
    # IMMEDIATE and waits its turn instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN is turned off; `_sqlite_begin_immediate` emits ours.
    dbapi_connection.isolation_level = None
    # WAL lets readers run beside the one writer; the busy timeout makes a second writer wait
    # instead of failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is safe against a crashed or killed process (only a power cut can lose
    # the last commits) and makes each commit far cheaper than FULL's fsync.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An engine for `url`; for a SQLite file, its folder is created first."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


class Database:
    """One engine and its session factory; services open one transaction per use case.

    SQLite has one writer at a time, and its busy timeout makes a waiting writer block a driver
    thread for up to 5 s and then fail. So on SQLite this process runs its transactions one at a
    time, in the order they were asked for, behind an asyncio lock: a burst of updates waits its
    turn on the event loop instead of failing with "database is locked". (Transactions never
    nest, so the lock cannot deadlock; other processes still meet the busy timeout.) PostgreSQL
    runs them concurrently.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        serial = self.engine.dialect.name == "sqlite"
        self._turn: asyncio.Lock | contextlib.nullcontext[None] = (
            asyncio.Lock() if serial else contextlib.nullcontext()
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on any error."""
        async with self._turn, self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (a use case's one write goes in `transaction`)."""
        async with self._turn, self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a transaction (for bulk statements), committed on success."""
        async with self._turn, self.engine.begin() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()
