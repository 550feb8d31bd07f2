"""Storage: the migrations build exactly the models' schema, and SQLite is set up for concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from coachbot.storage import dispatch
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.migrate import SchemaAheadError, SchemaState, schema_state, upgrade_to_head
from coachbot.storage.models import Base, CheckAnswer, CheckIn, RedFlagAnswer
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


DAY = date(2026, 11, 25)


async def _user_in(db: Database, telegram_user_id: int = 1) -> int:
    async with db.transaction() as session:
        return (await repo.create_user(session, telegram_user_id, 1, step="consent", now=NOW)).id


async def _save(db: Database, user_id: int, day: date = DAY, **answers: Any) -> None:
    async with db.transaction() as session:
        await repo.save_day_answers(session, user_id, day, now=NOW, **answers)


async def _answers(db: Database, user_id: int, day: date = DAY) -> repo.DayAnswers:
    async with db.transaction() as session:
        return await repo.answers_on(session, user_id, day)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


class TestSaveDayAnswers:
    async def test_a_rating_replaces_the_days_earlier_one_and_nothing_else(
        self, db: Database
    ) -> None:
        """A second rating replaces the first; answers not given stay as they were."""
        uid = await _user_in(db)
        await _save(db, uid, pain=7, adherence="done", exercise_pain=3, function=4)
        await _save(db, uid, pain=3)
        found = await _answers(db, uid)
        assert (found.pain, found.adherence, found.exercise_pain, found.function) == (
            3,
            "done",
            3,
            4,
        )
        async with db.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(CheckIn)) == 1

    async def test_a_skipped_session_clears_the_exercise_pain(self, db: Database) -> None:
        """Changing the session to skipped drops that day's exercise pain."""
        uid = await _user_in(db)
        await _save(db, uid, adherence="done", exercise_pain=6)
        await _save(db, uid, adherence="skipped")
        found = await _answers(db, uid)
        assert (found.adherence, found.exercise_pain) == ("skipped", None)

    async def test_a_session_done_or_partly_keeps_the_exercise_pain(self, db: Database) -> None:
        """Changing done to partly keeps the exercise pain given with it."""
        uid = await _user_in(db)
        await _save(db, uid, adherence="done", exercise_pain=6)
        await _save(db, uid, adherence="partly")
        found = await _answers(db, uid)
        assert (found.adherence, found.exercise_pain) == ("partly", 6)

    @pytest.mark.parametrize("earlier", [None, "skipped"])
    async def test_exercise_pain_without_a_session_is_refused(
        self, db: Database, earlier: str | None
    ) -> None:
        """No session that day, or a skipped one: an exercise pain is a ValueError and nothing
        of that call is stored."""
        uid = await _user_in(db)
        if earlier:
            await _save(db, uid, adherence=earlier)
        with pytest.raises(ValueError, match="exercise pain"):
            await _save(db, uid, pain=2, exercise_pain=4)
        with pytest.raises(ValueError, match="exercise pain"):
            await _save(db, uid, adherence="skipped", exercise_pain=4)
        found = await _answers(db, uid)
        assert (found.pain, found.adherence, found.exercise_pain) == (None, earlier, None)

    @pytest.mark.parametrize("session_done", ["done", "partly"])
    async def test_exercise_pain_with_a_session_is_stored(
        self, db: Database, session_done: str
    ) -> None:
        """An exercise pain is stored with a session done or partly, given in the same call or
        earlier that day; a later one replaces it."""
        uid = await _user_in(db)
        await _save(db, uid, adherence=session_done, exercise_pain=4)
        await _save(db, uid, exercise_pain=1)
        assert (await _answers(db, uid)).exercise_pain == 1

    async def test_a_check_answer_replaces_the_days_earlier_answer_to_that_check(
        self, db: Database
    ) -> None:
        """The latest answer to a check that day counts; other checks and days are kept."""
        uid = await _user_in(db)
        await _save(db, uid, checks={"walk_normal": False, "stairs": True})
        await _save(db, uid, checks={"walk_normal": True})
        await _save(db, uid, DAY + timedelta(days=1), checks={"walk_normal": False})
        assert (await _answers(db, uid)).checks == (("walk_normal", True), ("stairs", True))
        later = await _answers(db, uid, DAY + timedelta(days=1))
        assert later.checks == (("walk_normal", False),)
        async with db.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(CheckAnswer)) == 3
            # Checks have their own table: no check-in is made for them.
            assert await session.scalar(select(func.count()).select_from(CheckIn)) == 0

    async def test_the_same_red_flag_is_recorded_once_a_day(self, db: Database) -> None:
        """A flag reported twice that day (any screening) is one row; the next day it is new."""
        uid = await _user_in(db)
        await _save(db, uid, red_flags=("fever_or_unwell",))
        await _save(db, uid, red_flags={"fever_or_unwell": True}, screening="weekly")
        await _save(db, uid, DAY + timedelta(days=1), red_flags=("fever_or_unwell",))
        async with db.transaction() as session:
            rows = (await session.execute(select(RedFlagAnswer.day, RedFlagAnswer.screening))).all()
        assert rows == [(DAY, "daily"), (DAY + timedelta(days=1), "daily")]
        assert (await _answers(db, uid)).red_flags == ("fever_or_unwell",)

    async def test_no_answers_are_kept_but_only_yes_answers_are_red_flags(
        self, db: Database
    ) -> None:
        """A weekly screen's no answers are stored; the day's red flags are its yes answers."""
        uid = await _user_in(db)
        await _save(db, uid, red_flags={"cold_pale_leg": False, "fever_or_unwell": False},
                    screening="weekly")  # fmt: skip
        await _save(db, uid, red_flags={"cold_pale_leg": True}, screening="rescreen")
        async with db.transaction() as session:
            stored = await session.execute(
                select(RedFlagAnswer.flag_id, RedFlagAnswer.answer, RedFlagAnswer.screening)
            )
            reported = await repo.flags_reported_on(session, uid, DAY)
        assert stored.all() == [("cold_pale_leg", False, "weekly"),
                                ("fever_or_unwell", False, "weekly"),
                                ("cold_pale_leg", True, "rescreen")]  # fmt: skip
        assert reported == {"cold_pale_leg"}
        assert (await _answers(db, uid)).red_flags == ("cold_pale_leg",)

    async def test_a_symptom_on_the_enrolment_day_belongs_to_that_day(self, db: Database) -> None:
        """A /symptom on day 0 is kept with the enrolment date and screening symptom: the day's
        answers show it, the intake answers do not."""
        uid = await _user_in(db)
        day0 = DAY - timedelta(days=1)
        async with db.transaction() as session:
            await repo.record_red_flag_answer(session, uid, "cold_pale_leg", False,
                                              screening="intake", now=NOW)  # fmt: skip
        await _save(db, uid, day0, red_flags=("tense_swollen_thigh",), screening="symptom")
        async with db.transaction() as session:
            intake = await repo.red_flag_answers(session, uid, "intake")
            every_day = await repo.day_answers(session, uid)
        assert intake == [("cold_pale_leg", False)]
        assert every_day == [repo.DayAnswers(day0, red_flags=("tense_swollen_thigh",))]

    async def test_cleared_and_seen_once_said_stay_for_the_day(self, db: Database) -> None:
        """cleared and seen are set by True and never withdrawn by a later call."""
        uid = await _user_in(db)
        await _save(db, uid, seen=True)
        await _save(db, uid, cleared=True, pain=2)
        await _save(db, uid, pain=1)
        found = await _answers(db, uid)
        assert (found.seen, found.cleared, found.pain) == (True, True, 1)
        other = await _answers(db, uid, DAY + timedelta(days=1))
        assert (other.seen, other.cleared) == (False, False)

    @pytest.mark.parametrize(
        "bad",
        [{"pain": 11}, {"function": -1}, {"adherence": "maybe"}, {"screening": "intake"},
         {"adherence": "done", "exercise_pain": 11}],
    )  # fmt: skip
    async def test_out_of_range_answers_are_refused(
        self, db: Database, bad: dict[str, Any]
    ) -> None:
        """Programming errors: nothing is stored."""
        uid = await _user_in(db)
        with pytest.raises(ValueError):
            await _save(db, uid, red_flags=("cold_pale_leg",), **bad)
        assert await _answers(db, uid) == repo.DayAnswers(DAY)


class TestCheckIns:
    async def test_showing_a_check_in_creates_it_once_as_sent(self, db: Database) -> None:
        """Shown now: made as sent the first time, found the second; a pending one becomes sent;
        the latest sent check-in is the latest date's."""
        uid = await _user_in(db)
        async with db.transaction() as session:
            assert await repo.latest_sent_check_in(session, uid) is None
            first, created = await repo.show_check_in(session, uid, DAY, now=NOW)
            again, created_again = await repo.show_check_in(session, uid, DAY, now=NOW)
            session.add(CheckIn(user_id=uid, day=DAY + timedelta(days=1), prompt_state="pending"))
            await session.flush()
            pending, made = await repo.show_check_in(session, uid, DAY + timedelta(days=1), now=NOW)
            latest = await repo.latest_sent_check_in(session, uid)
        assert (created, created_again, made) == (True, False, False)
        assert first == again and first.prompt_state == "sent"
        assert pending.prompt_state == "sent" and latest == pending


class TestErasure:
    async def test_delete_and_start_over_erase_check_answers(self, db: Database) -> None:
        """/delete and starting over remove the user's check answers (and export lists them)."""
        uid = await _user_in(db, 1)
        other = await _user_in(db, 2)
        for user_id in (uid, other):
            await _save(db, user_id, checks={"walk_normal": True}, adherence="done")
        async with db.transaction() as session:
            exported = await repo.everything_about(session, uid)
            await repo.reset_program(session, uid, step="injury", now=NOW)
            after_reset = await repo.everything_about(session, uid)
            await repo.delete_user(session, other)
            left = (await session.execute(select(CheckAnswer.user_id))).all()
        assert [(a["check_id"], a["answer"]) for a in exported["check_answers"]] == [
            ("walk_normal", True)
        ]
        assert after_reset["check_answers"] == [] and after_reset["check_ins"] == []
        assert left == []
        assert repo.user_table_columns()["check_answers"] == [
            "id", "user_id", "day", "check_id", "answer", "answered_at"]  # fmt: skip


SEQUENCES: list[list[dict[str, Any]]] = [
    [{"adherence": "done"}, {"exercise_pain": 4}, {"pain": 2}, {"adherence": "skipped"}],
    [
        {"pain": 7},
        {"pain": 3, "function": 6},
        {"checks": {"walk_normal": False}},
        {"checks": {"walk_normal": True, "jog_slow": False}},
    ],  # fmt: skip
    [
        {"red_flags": {"fever_or_unwell": False, "cold_pale_leg": True}, "screening": "weekly"},
        {"red_flags": ("fever_or_unwell",), "screening": "symptom"},
        {"seen": True},
        {"cleared": True},
        {"adherence": "partly", "exercise_pain": 1},
    ],  # fmt: skip
]


@pytest.mark.parametrize("steps", SEQUENCES)
async def test_with_answers_reads_what_save_day_answers_stores(
    db: Database, steps: list[dict[str, Any]]
) -> None:
    """A use case that computes the day after a save (instead of reading it again) sees what a
    read would give, after every step."""
    uid = await _user_in(db)
    expected = await _answers(db, uid)
    for answers in steps:
        await _save(db, uid, **answers)
        expected = repo.with_answers(expected, **answers)
        assert await _answers(db, uid) == expected, answers


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's query plan")
async def test_the_dispatcher_reads_the_earliest_prompts_from_an_index(database_url: str) -> None:
    """Taking a batch of prompts reads them in due order from the (prompt_state, due_at) index
    for each state, never sorting every takeable prompt: with 100 000 prompts due at once that
    sort held the event loop about 30 ms a batch, and it grows with the number due."""
    db = Database(database_url)
    plans = []
    async with db.engine.connect() as connection:
        for statement in (dispatch.EARLIEST_ABANDONED, dispatch.EARLIEST_PENDING):
            compiled = statement.compile(db.engine)
            rows = await connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", (None,) * len(compiled.positiontup or ())
            )
            plans.append(" / ".join(row[-1] for row in rows))
    await db.dispose()
    for plan in plans:
        assert "USING INDEX ix_check_ins_prompt_state_due_at (prompt_state=?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
