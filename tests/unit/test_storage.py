"""Storage: the migrations build exactly the models' schema, and SQLite is set up for concurrency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.migrate import SchemaAheadError, SchemaState, schema_state, upgrade_to_head
from coachbot.storage.models import Base, CheckIn
from coachbot.testing import coachbot_environment, coachbot_process
from tests import postgres
from tests.conftest import ON_POSTGRES

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


async def test_migrations_match_the_models(database_url: str) -> None:
    """Upgrading to head gives the schema the models describe (no missing migration)."""
    db = Database(database_url)
    async with db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await db.dispose()
    assert diff == []


async def test_a_fresh_database_is_behind_then_at_head(tmp_path: object) -> None:
    """An empty file is behind; after upgrading it is at head."""
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.sqlite3"
    assert await schema_state(url) is SchemaState.BEHIND
    await asyncio.to_thread(upgrade_to_head, url)
    assert await schema_state(url) is SchemaState.AT_HEAD


@pytest.mark.skipif(not ON_POSTGRES, reason="several instances need PostgreSQL")
async def test_instances_starting_together_migrate_one_at_a_time(tmp_path: Path) -> None:
    """Three `coachbot migrate` processes at once on an empty PostgreSQL database (instances
    starting together): all succeed, and the schema is at head."""
    name = f"coachbot_fresh_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    try:
        url = postgres.url_of(name)
        environment = coachbot_environment(tmp_path / "data", DATABASE_URL=url)
        processes = [
            await coachbot_process("migrate", env=environment, stdout=None, stderr=None)
            for _ in range(3)
        ]
        assert [await asyncio.wait_for(p.wait(), 60) for p in processes] == [0, 0, 0]
        assert await schema_state(url) is SchemaState.AT_HEAD
    finally:
        postgres.drop_database(name)


async def test_a_database_ahead_of_the_code_is_refused(database_url: str) -> None:
    """A revision this code does not know means a newer coachbot migrated it: never touch it."""
    db = Database(database_url)
    async with db.transaction() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    await db.dispose()
    assert await schema_state(database_url) is SchemaState.AHEAD
    with pytest.raises(SchemaAheadError):
        await asyncio.to_thread(upgrade_to_head, database_url)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite settings")
async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(database_url: str) -> None:
    """Readers do not block the writer, and a second writer waits instead of failing."""
    db = Database(database_url)
    async with db.engine.connect() as connection:
        mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
        timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar()
    await db.dispose()
    assert mode == "wal"
    assert timeout == 5000


async def test_one_check_in_per_user_per_day(database_url: str) -> None:
    """A second check-in row for the same user and day is refused by the database itself."""
    db = Database(database_url)
    async with db.transaction() as session:
        user = await repo.create_user(session, 1, 1, step="consent", now=NOW)
        session.add(CheckIn(user_id=user.id, day=date(2026, 11, 24)))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(CheckIn(user_id=user.id, day=date(2026, 11, 24)))
    await db.dispose()


async def test_datetimes_come_back_aware_in_utc(database_url: str) -> None:
    """What is stored as UTC is read back as the same aware instant."""
    db = Database(database_url)
    async with db.transaction() as session:
        user = await repo.create_user(session, 7, 7, step="consent", now=NOW)
        await repo.update_user(session, user.id, NOW, next_prompt_at=NOW)
    async with db.transaction() as session:
        stored = await repo.get_user(session, 7)
    await db.dispose()
    assert stored is not None and stored.next_prompt_at == NOW
    assert stored.next_prompt_at.tzinfo is not None


def test_every_table_about_users_is_exported_and_erased() -> None:
    """A table with a user_id column that export and erasure do not know would leak data."""
    from coachbot.storage.repositories import USER_TABLES

    about_users = {t.name for t in Base.metadata.sorted_tables if "user_id" in t.c} | {"users"}
    assert {name for name, _ in USER_TABLES} == about_users
