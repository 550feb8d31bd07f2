"""The user's data is theirs: /export gives all of it, /delete erases all of it."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from coachbot.bot.app import AnyApplication
from coachbot.clock import FakeClock
from coachbot.scheduler import Dispatcher
from coachbot.testing import EmulatorClient, SandboxUser

from .conftest import USER_ID
from .flows import INTAKE_FLAG_COUNT, enrol, everything_in_the_database

pytestmark = pytest.mark.e2e
DAY1 = datetime(2026, 11, 25, 10, 45, tzinfo=UTC)


async def a_rated_day(user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock) -> None:
    await enrol(user)
    clock.now = DAY1
    await dispatcher.tick()
    await user.wait_for("Day 1")
    await user.press("Partly")
    await user.wait_for("worst pain during the exercises")
    await user.press("2")
    await user.wait_for("pain at rest right now")
    await user.press("4")
    await user.wait_for("exercise pain 2/10, pain 4/10")


async def test_export_round_trips_what_was_stored(
    bot: AnyApplication, user: SandboxUser, client: EmulatorClient, dispatcher: Dispatcher,
    clock: FakeClock, database_url: str,
) -> None:  # fmt: skip
    """/export sends a JSON and a CSV zip holding exactly the rows stored about the user."""
    await a_rated_day(user, dispatcher, clock)
    await user.send("/export")
    await user.wait_for("everything I hold about you")
    json_doc = await user.wait_for(lambda e: e.document is not None)
    zip_doc = await user.wait_for(lambda e: e.document is not None)
    assert json_doc.document and zip_doc.document
    exported = json.loads(await client.file(json_doc.document.file_id))
    assert exported["format"] == "coachbot-export/2"
    stored = await everything_in_the_database(database_url)
    tables = exported["tables"]
    assert {name: len(rows) for name, rows in tables.items()} == {
        name: sum(1 for table, _ in stored if table == name) for name in tables
    }
    assert tables["users"][0]["telegram_user_id"] == USER_ID
    assert [(c["day"], c["pain"], c["adherence"], c["exercise_pain"])
            for c in tables["check_ins"]] == [("2026-11-25", 4, "partly", 2)]  # fmt: skip
    assert len(tables["red_flag_answers"]) == INTAKE_FLAG_COUNT
    archive = zipfile.ZipFile(io.BytesIO(await client.file(zip_doc.document.file_id)))
    assert sorted(archive.namelist()) == sorted(f"{name}.csv" for name in tables)
    check_ins = list(csv.DictReader(io.StringIO(archive.read("check_ins.csv").decode())))
    assert [(row["day"], row["pain"]) for row in check_ins] == [("2026-11-25", "4")]


async def test_delete_after_confirmation_leaves_nothing_about_the_user(
    bot: AnyApplication, user: SandboxUser, client: EmulatorClient, dispatcher: Dispatcher,
    clock: FakeClock, database_url: str,
) -> None:  # fmt: skip
    """/delete asks first; "No" keeps everything; "Yes" erases every row, table by table, and a
    later message starts from scratch. Another user's data is untouched."""
    other = client.user(2002)
    await other.send("/start")
    await other.press("I agree")
    await a_rated_day(user, dispatcher, clock)
    await user.send("/delete")
    await user.wait_for("Delete everything?")
    await user.press("No, keep my data")
    await user.wait_for("Nothing was deleted")
    assert any(table == "check_ins" for table, _ in await everything_in_the_database(database_url))
    await user.send("/delete")
    await user.wait_for("Delete everything?")
    await user.press("Yes, delete everything")
    await user.wait_for("everything I held about you is erased")
    remaining = await everything_in_the_database(database_url)
    assert [table for table, row in remaining if USER_ID in row] == []
    # Only the other user's row; `processed_updates` holds bare update ids and times (no user).
    assert [table for table, _ in remaining if table != "processed_updates"] == ["users"]
    await user.send("hello")
    await user.wait_for("Send /start to begin")
