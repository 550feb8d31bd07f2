"""Schema migrations: upgrade to head, and tell whether a database is behind or ahead of the code."""

from __future__ import annotations

import asyncio
import enum

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from coachbot.paths import MIGRATIONS_DIR
from coachbot.storage.db import create_engine


class SchemaState(enum.Enum):
    AT_HEAD = "at head"
    BEHIND = "behind the code"
    AHEAD = "ahead of the code"  # written by a newer coachbot: never touch it


class SchemaAheadError(RuntimeError):
    """The database was migrated by a newer version of coachbot."""


def _config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def schema_state(database_url: str) -> SchemaState:
    """Compare the database's revision with the newest one this code knows."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_revision_of)
    finally:
        await engine.dispose()
    scripts = ScriptDirectory.from_config(_config(database_url))
    if current == scripts.get_current_head():
        return SchemaState.AT_HEAD
    known = {script.revision for script in scripts.walk_revisions()}
    if current is not None and current not in known:
        return SchemaState.AHEAD
    return SchemaState.BEHIND


def upgrade_to_head(database_url: str) -> None:
    """Apply every pending migration (blocking: call it outside the event loop or in a thread)."""
    if asyncio.run(schema_state(database_url)) is SchemaState.AHEAD:
        raise SchemaAheadError(
            "the database was migrated by a newer coachbot; refusing to start (upgrade coachbot)"
        )
    command.upgrade(_config(database_url), "head")
