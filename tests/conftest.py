"""Shared fixtures: a migrated database in one line, a fake clock, the services.

The suite runs on SQLite by default and on PostgreSQL with COACHBOT_TEST_ENGINE=postgresql
(`make test` runs both legs). The PostgreSQL leg uses the server at COACHBOT_TEST_POSTGRES
(default postgresql://postgres@127.0.0.1:5432/test): one database migrated to head as a
template, and a fresh copy of it per test. Without a server every test that needs a database is
skipped, with the reason, never silently passed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coachbot.clock import FakeClock
from coachbot.services.container import Services, create_services
from coachbot.storage.migrate import upgrade_to_head
from tests import postgres

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ENGINE = os.environ.get("COACHBOT_TEST_ENGINE", "sqlite")
ON_POSTGRES = ENGINE == "postgresql"


def pytest_report_header() -> str:
    return f"coachbot database engine: {ENGINE}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head, copied for each test (migrating is the slow part): a SQLite
    file, or a PostgreSQL template database."""
    if ON_POSTGRES:
        problem = postgres.unavailable()
        if problem:
            pytest.skip(f"PostgreSQL leg skipped: {problem}")
        name = f"coachbot_template_{uuid.uuid4().hex[:8]}"
        postgres.create_database(name)
        upgrade_to_head(postgres.url_of(name))
        yield name
        postgres.drop_database(name)
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    yield str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    if ON_POSTGRES:
        name = f"coachbot_test_{uuid.uuid4().hex[:12]}"
        postgres.create_database(name, template=migrated_template)
        yield postgres.url_of(name)
        postgres.drop_database(name)
        return
    path = tmp_path / "coachbot.sqlite3"
    shutil.copy(migrated_template, path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def services(database_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    built = create_services(database_url, "Europe/London", clock=clock)
    yield built
    await built.close()
