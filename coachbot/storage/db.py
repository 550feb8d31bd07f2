"""The async engine and session factory; SQLite gets WAL mode and a busy timeout."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


def _sqlite_begin_immediate(connection: Any) -> None:
    # A writing transaction takes the write lock when it starts. SQLite's default (deferred)
    # transaction upgrades from reading to writing at its first write, and when another
    # connection has written meanwhile that upgrade fails at once with "database is locked",
    # busy timeout or not. Update handlers and the dispatch job run concurrently, so every
    # writing transaction begins IMMEDIATE and waits its turn instead.
    _inline(connection).begin("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Any) -> None:
    # A reading transaction (the read engine's) reads its snapshot beside the writer (WAL).
    _inline(connection).begin("BEGIN")


def _inline(connection: Any) -> InlineSQLite:
    driver = connection.connection.driver_connection
    assert isinstance(driver, InlineSQLite), type(driver)
    return driver


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    # The read engine's connections refuse writes: a write that slipped into a read would
    # otherwise upgrade a deferred transaction and could meet "database is locked".
    dbapi_connection.execute("PRAGMA query_only=ON")


class InlineSQLite(aiosqlite.Connection):
    """aiosqlite's interface, each call made at once on the event loop's own thread.

    A statement here takes well under a millisecond. aiosqlite hands each one to its own thread
    and back, which costs a trip through the event loop per statement: under load, about 10 ms
    per transaction spent waiting for the loop (not for SQLite), with this process's SQLite turn
    (`Database._turn`) held all the while. Run inline, a transaction that awaits only the
    database runs from BEGIN to COMMIT without yielding to the loop, so the turn is held exactly
    as long as SQLite works. The cost: the loop does that work itself (a claim batch of the
    dispatcher is the longest, a few milliseconds); `benchmarks/` reports the longest stall.
    """

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no worker thread

    async def _connect(self) -> aiosqlite.Connection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def begin(self, statement: str) -> None:
        """Start a transaction (`BEGIN` or `BEGIN IMMEDIATE`) on the sqlite3 connection itself,
        from SQLAlchemy's `begin` event: as a statement executed through SQLAlchemy it cost
        about 0.05 ms more, of the 0.4-0.6 ms a small transaction costs."""
        if self._connection is None:
            raise ValueError("Connection closed")
        self._connection.execute(statement)

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN is off (the connection is opened with isolation_level
    # None); `_sqlite_begin_immediate` emits ours.
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


def create_engine(url: str, *, read_only: bool = False) -> AsyncEngine:
    """An engine for `url`; for a SQLite file, its folder is created first. `read_only`: on
    SQLite, transactions begin deferred on connections that refuse writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect = partial(sqlite3.connect, parsed.database or ":memory:", isolation_level=None)

        async def inline() -> aiosqlite.Connection:
            return await InlineSQLite(connect)

        engine = create_async_engine(url, async_creator=inline)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if read_only:
            event.listen(engine.sync_engine, "connect", _sqlite_query_only)
        begin = _sqlite_begin_deferred if read_only else _sqlite_begin_immediate
        event.listen(engine.sync_engine, "begin", begin)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


@dataclass
class FirstWrite:
    """Work the next writing transaction in this context does first, once (`run` is None once
    done): the update gate's record of an update, so that a user's action and the record that
    it was handled commit together."""

    run: Callable[[AsyncSession], Awaitable[None]] | None


_first_write: ContextVar[FirstWrite | None] = ContextVar("first_write", default=None)


class Database:
    """One engine and its session factory; services open one transaction per use case.

    SQLite has one writer at a time, and its busy timeout makes a waiting writer block for up to
    5 s and then fail. So on SQLite this process runs its writing transactions one at a time, in
    the order they were asked for, behind an asyncio lock: a burst of updates waits its turn on
    the event loop instead of failing with "database is locked". (Transactions never nest, so
    the lock cannot deadlock; other processes still meet the busy timeout.) Reads take no turn.
    PostgreSQL runs them all concurrently.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        serial = self.engine.dialect.name == "sqlite"
        self._read_engine = create_engine(url, read_only=True) if serial else self.engine
        self._readers = async_sessionmaker(self._read_engine, expire_on_commit=False)
        self._turn: asyncio.Lock | contextlib.nullcontext[None] = (
            asyncio.Lock() if serial else contextlib.nullcontext()
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on any error."""
        async with self._turn, self._sessions() as session, session.begin():
            first = _first_write.get()
            if first is not None and first.run is not None:
                run, first.run = first.run, None
                await run(session)
            yield session

    @contextlib.contextmanager
    def first_write(self, run: Callable[[AsyncSession], Awaitable[None]]) -> Iterator[FirstWrite]:
        """Within this block, the first writing transaction runs `run` before its own work; the
        FirstWrite's `run` is None afterwards if one did."""
        pending = FirstWrite(run)
        token = _first_write.set(pending)
        try:
            yield pending
        finally:
            _first_write.reset(token)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (a use case's one write goes in `transaction`). It takes no
        turn: on SQLite it reads a consistent snapshot beside the writer (WAL)."""
        async with self._readers() as session, session.begin():
            yield session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a transaction (for bulk statements), committed on success."""
        async with self._turn, self.engine.begin() as connection:
            yield connection

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work` on a Core connection in one writing transaction, committed on success: one
        synchronous call into SQLAlchemy instead of an await for the begin, each statement and
        the commit. For small transactions that run very often (the dispatcher records results
        every few prompts): about 0.07 ms cheaper than `connection()` of 0.45 on SQLite."""
        async with self._turn, self.engine.connect() as connection:
            return await connection.run_sync(_in_transaction, work)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()


def _in_transaction(connection: Connection, work: Callable[[Connection], T]) -> T:
    with connection.begin():
        return work(connection)
