"""Migration 0007 (clinical spec v2) on a database in use: every row survives, enrolled users get
the defaults of spec section 1.2, and the new columns and table work. Runs on the leg's engine
(SQLite, or PostgreSQL with COACHBOT_TEST_ENGINE=postgresql)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncConnection

from coachbot.storage import repositories as repo
from coachbot.storage.db import Database, create_engine
from coachbot.storage.migrate import _config
from tests import postgres
from tests.conftest import ON_POSTGRES

V1_HEAD = "0006"
V2 = "0007"
NOW = datetime(2026, 11, 30, 9, 0)  # naive UTC, as the columns store it
DAY0 = date(2026, 11, 10)
TABLES = ("users", "red_flag_answers", "check_ins", "phase_history", "escalations")


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """An empty database on the leg's engine."""
    if not ON_POSTGRES:
        yield f"sqlite+aiosqlite:///{tmp_path}/v1.sqlite3"
        return
    problem = postgres.unavailable()
    if problem:
        pytest.skip(f"PostgreSQL leg skipped: {problem}")
    name = f"coachbot_migration_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    yield postgres.url_of(name)
    postgres.drop_database(name)


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    (command.downgrade if down else command.upgrade)(_config(url), revision)


async def _to(url: str, revision: str, *, down: bool = False) -> None:
    await asyncio.to_thread(_migrate, url, revision, down=down)


def _reflect(sync: sa.Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(sync)
    return metadata


async def _rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table about users, as the database holds it now (reflected)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            metadata = await connection.run_sync(_reflect)
            found = {}
            for name in (*TABLES, "check_answers"):
                if name not in metadata.tables:
                    continue
                table = metadata.tables[name]
                result = await connection.execute(sa.select(table).order_by(table.c.id))
                found[name] = [dict(row._mapping) for row in result]
            return found
    finally:
        await engine.dispose()


async def _insert(connection: AsyncConnection, table: str, *rows: dict[str, Any]) -> None:
    metadata = await connection.run_sync(_reflect)
    await connection.execute(sa.insert(metadata.tables[table]), list(rows))
    if connection.dialect.name == "postgresql":  # rows with explicit ids: move the sequence on
        await connection.execute(
            sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        )


def _user(user_id: int, **values: Any) -> dict[str, Any]:
    return {
        "id": user_id, "telegram_user_id": 1000 + user_id, "chat_id": 1000 + user_id,
        "status": "enrolling", "enrolment_step": None, "consented_at": NOW, "injury": None,
        "age": None, "onset": None, "onset_days_ago": None, "location": None, "grade": None,
        "baseline_pain": None, "phase": None, "phase_since": None, "reminder_time": None,
        "timezone": None, "next_prompt_at": None, "prompts_off": None, "weekly_summary": True,
        "enrolled_at": None, "enrolled_on": None, "created_at": NOW, "updated_at": NOW,
        **values,
    }  # fmt: skip


def _enrolled(user_id: int, **values: Any) -> dict[str, Any]:
    facts = {
        "status": "active", "injury": "hamstring_strain", "age": 34, "onset": "sudden",
        "onset_days_ago": 2, "location": "middle", "grade": 2, "baseline_pain": 6,
        "phase": "mobility", "phase_since": date(2026, 11, 20), "reminder_time": time(8, 30),
        "timezone": "Europe/London", "next_prompt_at": datetime(2026, 12, 1, 8, 30),
        "enrolled_at": datetime(2026, 11, 10, 9), "enrolled_on": DAY0,
    }  # fmt: skip
    return _user(user_id, **{**facts, **values})


def _check_in(check_in_id: int, user_id: int, day: date, **values: Any) -> dict[str, Any]:
    return {
        "id": check_in_id, "user_id": user_id, "day": day, "prompt_state": "sent",
        "due_at": NOW, "sending_since": None, "send_attempts": 1, "retry_at": None,
        "prompted_at": NOW, "prompt_message_id": 500 + check_in_id, "adherence": None,
        "pain": None, "rated_at": None, "cleared": False, **values,
    }  # fmt: skip


def _flag(answer_id: int, user_id: int, flag: str, answer: bool, screening: str,
          day: date | None) -> dict[str, Any]:  # fmt: skip
    return {"id": answer_id, "user_id": user_id, "flag_id": flag, "answer": answer,
            "screening": screening, "day": day, "answered_at": NOW}  # fmt: skip


async def _fill_v1(url: str) -> None:
    """Users mid-course at revision 0006: check-ins, red flags, escalations and phase history
    (plain SQL against the tables as they are at that revision)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await _insert(
                connection, "users",
                _enrolled(1),
                _enrolled(2, status="escalated", injury="hamstring_contusion", grade=None,
                          phase="isometric", prompts_off="paused"),
                _user(3, enrolment_step="age", injury=None),  # still enrolling
            )  # fmt: skip
            await _insert(
                connection, "check_ins",
                _check_in(1, 1, date(2026, 11, 11), adherence="done", pain=5,
                          rated_at=datetime(2026, 11, 11, 9, 5)),
                _check_in(2, 1, date(2026, 11, 12), adherence="skipped", pain=4,
                          rated_at=datetime(2026, 11, 12, 9, 5)),
                _check_in(3, 1, date(2026, 11, 13), adherence="partly"),
                _check_in(4, 2, date(2026, 11, 12), pain=7, rated_at=NOW, cleared=True),
                _check_in(5, 1, date(2026, 11, 30), prompt_state="pending", prompted_at=None,
                          prompt_message_id=None, send_attempts=0),
            )  # fmt: skip
            await _insert(
                connection, "red_flag_answers",
                _flag(1, 1, "cold_pale_leg", False, "intake", None),
                _flag(2, 1, "fever_or_unwell", False, "intake", None),
                _flag(3, 2, "fever_or_unwell", True, "daily", date(2026, 11, 12)),
                _flag(4, 3, "cold_pale_leg", False, "intake", None),
            )  # fmt: skip
            await _insert(
                connection, "phase_history",
                {"id": 1, "user_id": 1, "phase": "protect", "status": "active",
                 "started_on": DAY0, "reason": "enrolled", "cause": None, "created_at": NOW},
                {"id": 2, "user_id": 1, "phase": "mobility", "status": "active",
                 "started_on": date(2026, 11, 20), "reason": "progressed",
                 "cause": "three ratings at most 2", "created_at": NOW},
                {"id": 3, "user_id": 2, "phase": "isometric", "status": "escalated",
                 "started_on": date(2026, 11, 13), "reason": "fever_or_unwell",
                 "cause": "red flag reported on day 2", "created_at": NOW},
            )  # fmt: skip
            await _insert(
                connection, "escalations",
                {"id": 1, "user_id": 2, "level": "urgent", "reason": "fever_or_unwell",
                 "program_day": 2, "cause": "red flag reported on day 2", "raised_at": NOW,
                 "resolved_at": None},
            )  # fmt: skip
    finally:
        await engine.dispose()


def _without(rows: list[dict[str, Any]], *columns: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in columns} for row in rows]


NEW_USER_COLUMNS = ("mechanism", "walking", "previous_injury", "goal", "activity",
                    "function_baseline")  # fmt: skip
NEW_CHECK_IN_COLUMNS = ("exercise_pain", "function_score", "seen")


class TestUpgradeFromV1:
    async def test_every_row_survives_the_upgrade(self, empty_url: str) -> None:
        """Upgrading a database in use from 0006 keeps every row and every value."""
        await _to(empty_url, V1_HEAD)
        await _fill_v1(empty_url)
        before = await _rows(empty_url)
        await _to(empty_url, "head")
        after = await _rows(empty_url)
        assert _without(after["users"], *NEW_USER_COLUMNS) == before["users"]
        assert _without(after["check_ins"], *NEW_CHECK_IN_COLUMNS) == before["check_ins"]
        for table in ("red_flag_answers", "phase_history", "escalations"):
            assert after[table] == before[table]
        assert after["check_answers"] == []
        assert [len(after[t]) for t in TABLES] == [3, 4, 5, 3, 1]

    async def test_enrolled_users_get_the_v2_defaults_and_enrolling_ones_none(
        self, empty_url: str
    ) -> None:
        """Spec section 1.2's defaults for users enrolled under v1 (mechanism other, walking
        normal, no previous injury, goal everyday, no activity); NULL for one still enrolling."""
        await _to(empty_url, V1_HEAD)
        await _fill_v1(empty_url)
        await _to(empty_url, "head")
        users = {row["id"]: row for row in (await _rows(empty_url))["users"]}
        facts = {uid: tuple(row[c] for c in NEW_USER_COLUMNS) for uid, row in users.items()}
        assert facts == {
            1: ("other", "normal", False, "everyday", None, None),
            2: ("other", "normal", False, "everyday", None, None),
            3: (None, None, None, None, None, None),
        }
        check_ins = (await _rows(empty_url))["check_ins"]
        assert {
            (row["exercise_pain"], row["function_score"], row["seen"]) for row in check_ins
        } == {(None, None, False)}

    async def test_the_new_columns_and_table_are_usable_after_the_upgrade(
        self, empty_url: str
    ) -> None:
        """After the upgrade the repositories read the old answers and store the new ones."""
        await _to(empty_url, V1_HEAD)
        await _fill_v1(empty_url)
        await _to(empty_url, "head")
        db = Database(empty_url)
        now = NOW.replace(tzinfo=UTC)
        try:
            async with db.transaction() as session:
                user = await repo.get_user(session, 1001)
                assert user is not None and (user.mechanism, user.goal) == ("other", "everyday")
                await repo.update_user(session, user.id, now, goal="sport", activity="running",
                                       function_baseline=3)  # fmt: skip
                await repo.save_day_answers(
                    session, user.id, date(2026, 11, 13), now=now, exercise_pain=2,
                    checks={"jog_slow": True}, function=5, seen=True,
                    red_flags={"cold_pale_leg": False}, screening="weekly",
                )  # fmt: skip
            async with db.transaction() as session:
                user = await repo.get_user(session, 1001)
                answers = await repo.day_answers(session, 1)
                escalated = await repo.day_answers(session, 2)
        finally:
            await db.dispose()
        assert user is not None
        assert (user.goal, user.activity, user.function_baseline) == ("sport", "running", 3)
        assert [(a.day.day, a.adherence, a.pain, a.exercise_pain) for a in answers] == [
            (11, "done", 5, None), (12, "skipped", 4, None), (13, "partly", None, 2),
            (30, None, None, None),
        ]  # fmt: skip
        assert answers[2].checks == (("jog_slow", True),)
        assert (answers[2].function, answers[2].seen, answers[2].red_flags) == (5, True, ())
        assert [(a.pain, a.cleared, a.red_flags) for a in escalated] == [
            (7, True, ("fever_or_unwell",))
        ]


class TestDowngradeToV1:
    async def test_the_downgrade_keeps_every_row(self, empty_url: str) -> None:
        """Back to 0006: no row is lost (SQLite must not copy `users`, whose drop would cascade),
        and a yes from a v2 screening becomes a v1 daily report."""
        await _to(empty_url, V1_HEAD)
        await _fill_v1(empty_url)
        before = await _rows(empty_url)
        await _to(empty_url, "head")
        db = Database(empty_url)
        now = NOW.replace(tzinfo=UTC)
        try:
            async with db.transaction() as session:
                await repo.save_day_answers(
                    session, 1, date(2026, 11, 28), now=now, checks={"walk_normal": True},
                    red_flags={"cold_pale_leg": True, "fever_or_unwell": False},
                    screening="weekly",
                )  # fmt: skip
        finally:
            await db.dispose()
        await _to(empty_url, V1_HEAD, down=True)
        after = await _rows(empty_url)
        assert "check_answers" not in after
        assert after["users"] == before["users"]
        assert after["check_ins"] == before["check_ins"]
        assert after["phase_history"] == before["phase_history"]
        assert after["escalations"] == before["escalations"]
        added = [(r["flag_id"], r["answer"], r["screening"]) for r in after["red_flag_answers"][4:]]
        assert after["red_flag_answers"][:4] == before["red_flag_answers"]
        assert added == [("cold_pale_leg", True, "daily"), ("fever_or_unwell", False, "weekly")]
        await _to(empty_url, "head")  # and up again
        assert len((await _rows(empty_url))["users"]) == 3


class TestCoursesAfterTheUpgrade:
    async def test_each_course_replays_under_v2_from_its_stored_answers(
        self, empty_url: str
    ) -> None:
        """What an existing user sees the day after the upgrade: the course their stored answers
        make under the v2 rules (docs/architecture.md, "Upgrading to clinical v2").

        User 1, a grade-2 strain (group slow) two days old with a baseline of 6: day 1's 5 at
        onset age 3 ends protect; day 2's 4 is no flare-up (the lowest of the week is 5); no
        exercise pain or check was ever reported, so v2 holds them in isometric although v1 had
        moved them to mobility; silent since day 2 (their day-20 prompt is unanswered), the
        course paused at the end of day 9 (rule 9), as v1's dispatcher paused it. User 2 (a blow): day 2's clearance counts as seen (they were not
        escalated yet), then the fever escalates urgently; never out of protect (no day-1 rating).
        """
        from coachbot.clock import FakeClock
        from coachbot.services.container import create_services

        await _to(empty_url, V1_HEAD)
        await _fill_v1(empty_url)
        await _to(empty_url, "head")
        services = create_services(
            empty_url, "Europe/London", clock=FakeClock(NOW.replace(tzinfo=UTC))
        )
        try:
            first = await services.course.current(1001)
            second = await services.course.current(1002)
        finally:
            await services.close()
        assert (first.phase, first.status.value, first.phase_since, first.group) == (
            "isometric", "paused", 2, "slow")  # fmt: skip
        assert [(d, p) for d, p in first.ratings] == [(0, 6), (1, 5), (2, 4)]
        assert [s.kind for s in first.sessions] == ["done", "skipped", "partly"]
        assert (second.phase, second.status.value) == ("protect", "escalated")
        assert [(e.day, e.level.value, e.reason) for e in second.escalations] == [
            (2, "urgent", "fever_or_unwell")
        ]
