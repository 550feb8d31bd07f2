"""Faults a Telegram bot meets every day, injected over the emulator: every user still gets their
prompt every day, with no duplicate (crashes are in test_crash.py: at most one per kill)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from telegram import Update

from coachbot.bot.app import AnyApplication, build_application, polling
from coachbot.bot.updates import FloodLimit
from coachbot.clock import FakeClock
from coachbot.sandbox.emulator import DROP_CONNECTION, BotApiEmulator
from coachbot.scheduler import DispatchConfig, Dispatcher
from coachbot.services.container import create_services
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database
from coachbot.storage.models import CheckIn, Escalation, RedFlagAnswer, User
from coachbot.testing import BotEvent, EmulatorClient

from ..conftest import ON_POSTGRES
from ..factories import ENROLLED, add_enrolled_users
from .conftest import TOKEN
from .flows import flag_number, rows

pytestmark = pytest.mark.e2e
DAY1 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 08:00 in London, the users' reminder time
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="several instances need PostgreSQL")


@pytest.fixture
async def instances(
    emulator: BotApiEmulator, database_url: str, clock: FakeClock
) -> AsyncIterator[list[tuple[AnyApplication, Dispatcher]]]:
    """Three bot instances sharing one database, as behind a load balancer (each its own
    engine, bot and dispatcher); they elect a sender unless a test turns election off."""
    made = []
    for _ in range(3):
        services = create_services(database_url, "Europe/London", clock=clock)
        application = build_application(TOKEN, emulator.url, services)
        await application.initialize()
        made.append((application, Dispatcher(services, application.bot, clock, DispatchConfig())))
    yield made
    for application, dispatcher in made:
        await dispatcher.close()
        await application.shutdown()
        await application.bot_data["services"].close()


@postgres_only
async def test_three_dispatchers_without_election_never_send_a_prompt_twice(
    instances: list[tuple[AnyApplication, Dispatcher]], emulator: BotApiEmulator,
    database_url: str, clock: FakeClock,
) -> None:  # fmt: skip
    """SKIP LOCKED claiming: three instances ticking at once split 300 users between them."""
    users = range(3000, 3300)
    await add_enrolled_users(database_url, users, enrolled_at=ENROLLED)
    emulator.open_private_chats(users)
    for _, dispatcher in instances:
        dispatcher.config = DispatchConfig(elect=False, claim_batch=50, take_batch=20)
    for day in range(2):
        clock.now = DAY1 + timedelta(days=day)
        reports = await asyncio.gather(*(d.tick() for _, d in instances))
        assert sum(r.sent for r in reports) == len(users)
        assert sum(r.claimed for r in reports) == len(users)
        assert sum(1 for r in reports if r.sent) >= 2  # the work really was shared
    assert emulator.sent_messages_per_chat() == dict.fromkeys(users, 2)


@postgres_only
async def test_one_elected_dispatcher_sends_and_another_takes_over_when_it_stops(
    instances: list[tuple[AnyApplication, Dispatcher]], emulator: BotApiEmulator,
    database_url: str, clock: FakeClock,
) -> None:  # fmt: skip
    """An advisory lock elects one sender, so Telegram's overall rate limit holds across
    instances; when the leader goes, another instance sends from its next tick."""
    users = range(3400, 3460)
    await add_enrolled_users(database_url, users, enrolled_at=ENROLLED)
    emulator.open_private_chats(users)
    clock.now = DAY1
    reports = await asyncio.gather(*(d.tick() for _, d in instances))
    assert sorted(r.sent for r in reports) == [0, 0, len(users)]
    leader = next(i for i, r in enumerate(reports) if r.sent)
    await instances[leader][1].close()  # the leader's process stops
    clock.now = DAY1 + timedelta(days=1)
    reports = await asyncio.gather(*(d.tick() for i, (_, d) in enumerate(instances) if i != leader))
    assert sorted(r.sent for r in reports) == [0, len(users)]
    assert emulator.sent_messages_per_chat() == dict.fromkeys(users, 2)


# One instance: Bot API faults during dispatch ---------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "ticks_after"),
    [
        (dict(error_code=429, description="Too Many Requests: retry after 1", retry_after=1,
              count=2), 0),  # the rate limiter waits retry_after and retries itself
        (dict(error_code=502, description="Bad Gateway", count=3), 2),
        (dict(error_code=DROP_CONNECTION, description="connection dropped", count=2), 2),
    ],
    ids=["429-burst", "5xx", "dropped-connection"],
)  # fmt: skip
async def test_bot_api_faults_delay_a_prompt_but_never_lose_or_repeat_it(
    bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher, clock: FakeClock,
    database_url: str, fault: dict[str, object], ticks_after: int,
) -> None:  # fmt: skip
    users = range(4000, 4020)
    await add_enrolled_users(database_url, users, enrolled_at=ENROLLED)
    emulator.open_private_chats(users)
    emulator.fail_next("sendMessage", **fault)  # type: ignore[arg-type]
    clock.now = DAY1
    report = await dispatcher.tick()
    for _ in range(ticks_after):  # each retry waits its backoff (30 s, then 60 s)
        clock.advance(seconds=60)
        await dispatcher.tick()
    assert report.failed == 0
    assert emulator.sent_messages_per_chat() == dict.fromkeys(users, 1)


async def test_a_prompt_is_given_up_after_its_last_attempt_and_recorded(
    bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher, clock: FakeClock,
    database_url: str,
) -> None:  # fmt: skip
    """A Bot API down for hours: 8 attempts over about an hour, then the prompt is recorded as
    failed (the next day's prompt is claimed as usual)."""
    await add_enrolled_users(database_url, [4100], enrolled_at=ENROLLED)
    emulator.open_private_chats([4100])
    emulator.fail_next("sendMessage", error_code=500, description="Internal Server Error",
                       count=8)  # fmt: skip
    clock.now = DAY1
    failed = 0
    for _ in range(10):
        failed += (await dispatcher.tick()).failed
        clock.advance(minutes=31)
    assert failed == 1
    assert await states(database_url) == [("failed", 8)]
    clock.now = DAY1 + timedelta(days=1)
    assert (await dispatcher.tick()).sent == 1


async def test_a_migrated_chat_is_followed(
    bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher, clock: FakeClock,
    database_url: str,
) -> None:  # fmt: skip
    """Telegram answers "migrated to chat X": the prompt goes to X, and so do later ones."""
    await add_enrolled_users(database_url, [4200], enrolled_at=ENROLLED)
    emulator.open_private_chats([4200, 4201])
    emulator.fail_next("sendMessage", error_code=400, migrate_to_chat_id=4201,
                       description="Bad Request: group chat was upgraded to a supergroup chat")  # fmt: skip
    clock.now = DAY1
    assert (await dispatcher.tick()).sent == 1
    clock.now = DAY1 + timedelta(days=1)
    assert (await dispatcher.tick()).sent == 1
    assert emulator.sent_messages_per_chat() == {4201: 2}


async def states(database_url: str) -> list[tuple[str | None, int]]:
    db = Database(database_url)
    async with db.transaction() as session:
        found = (await session.execute(select(CheckIn.prompt_state, CheckIn.send_attempts))).all()
    await db.dispose()
    return [(state, attempts) for state, attempts in found]


# Updates: once each, and a flood slows only its sender ------------------------------------------


def a_message(update_id: int, user_id: int, text: str) -> dict[str, object]:
    user = {"id": user_id, "is_bot": False, "first_name": "Sam"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1764000000, "text": text, "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "Sam"},
        **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
           if text.startswith("/") else {}),
    }}  # fmt: skip


async def test_a_redelivered_update_is_handled_once(
    bot: AnyApplication, emulator: BotApiEmulator, client: EmulatorClient
) -> None:
    """The same update_id twice (a webhook retry) is answered once; a new update is answered."""
    emulator.open_private_chats([4300])
    person = client.user(4300)
    for update_id, text in [(900_001, "/help"), (900_001, "/help"), (900_002, "/help")]:
        await bot.update_queue.put(Update.de_json(a_message(update_id, 4300, text), bot.bot))
    await person.wait_for("What I can do")
    seen: list[str] = []
    # The third update's answer comes after whatever the second produced (one user's updates
    # are handled in order), so two answers in all means the redelivery was dropped.
    await person.wait_for(lambda e: seen.append(e.text) or "What I can do" in e.text)
    assert len(seen) == 1
    assert bot.update_processor.dropped_duplicates == 1  # type: ignore[attr-defined]


async def test_a_redelivery_racing_on_another_instance_is_rolled_back(
    bot: AnyApplication, emulator: BotApiEmulator, client: EmulatorClient, database_url: str,
    clock: FakeClock, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """The record that an update was handled commits with the action: when another instance
    recorded the same update between this one's check and its write, the action is undone."""
    emulator.open_private_chats([4310])
    other = Database(database_url)  # the other instance
    async with other.transaction() as session:
        await repo.first_delivery(session, 900_010, clock())
    await other.dispose()

    async def checked_before_the_other_instance_wrote(_update_id: int) -> bool:
        return False

    gate = bot.update_processor
    gate._delivered_before = checked_before_the_other_instance_wrote  # type: ignore[attr-defined]
    for update_id, text in [(900_010, "/start"), (900_011, "/help")]:
        await bot.update_queue.put(Update.de_json(a_message(update_id, 4310, text), bot.bot))
    seen: list[str] = []
    await client.user(4310).wait_for(lambda e: seen.append(e.text) or "What I can do" in e.text)
    assert len(seen) == 1  # /start was not answered ...
    assert await rows(database_url, select(User.id)) == []  # ... and its new user rolled back
    assert gate.dropped_duplicates == 1  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_button_pressed_again_is_caught_by_its_domain_key(
    bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher, clock: FakeClock,
    database_url: str, client: EmulatorClient,
) -> None:  # fmt: skip
    """Re-sent presses (new update ids) of a rating and of a red flag change nothing more: one
    rating, one red-flag answer, one escalation, one piece of advice."""
    await add_enrolled_users(database_url, [4400], enrolled_at=ENROLLED, baseline_pain=2)
    emulator.open_private_chats([4400])
    person = client.user(4400)
    clock.now = DAY1
    await dispatcher.tick()
    prompt = await person.wait_for("Day 1")
    await person.press("Not today", message_id=prompt.message_id)
    await person.wait_for("pain at rest right now")
    await person.press("1", message_id=prompt.message_id)
    await person.wait_for("pain 1/10")
    clock.now = DAY1 + timedelta(days=1)
    await dispatcher.tick()
    prompt = await person.wait_for("Day 2")
    await person.press("Not today", message_id=prompt.message_id)
    rating = (await person.wait_for("pain at rest right now")).button("6").callback_data
    assert rating is not None
    await person.press("6", message_id=prompt.message_id)  # a flare-up: re-screening
    rescreen = await person.wait_for("None of these")
    assert rescreen.message_id == prompt.message_id  # the same message, edited in place
    flag = rescreen.button(flag_number(rescreen, "fever_or_unwell")).callback_data
    assert flag is not None
    for _ in range(2):  # the second is a re-sent press of the same button
        await person.press_forged(prompt.message_id, flag)
    await person.wait_for("Please see a doctor today")
    await person.press_forged(prompt.message_id, rating)
    await person.wait_for(lambda e: e.type == "callback_answer", types=("callback_answer",))
    db = Database(database_url)
    async with db.transaction() as session:
        ratings = (await session.execute(select(CheckIn.pain).order_by(CheckIn.day))).all()
        flags = (await session.execute(
            select(RedFlagAnswer.flag_id).where(RedFlagAnswer.answer.is_(True)))).all()  # fmt: skip
        escalations = (await session.execute(select(Escalation.reason))).all()
    await db.dispose()
    assert [pain for (pain,) in ratings] == [1, 6]
    assert flags == [("fever_or_unwell",)]
    assert escalations == [("fever_or_unwell",)]
    advice = [e for e in await person.next_events(timeout=0.5) if "see a doctor" in e.text]
    assert advice == []  # the advice came once


async def test_a_flooding_user_slows_only_themselves(
    emulator: BotApiEmulator, database_url: str, clock: FakeClock, client: EmulatorClient
) -> None:
    """Beyond the burst, a user's updates are dropped with one notice; others are answered."""
    services = create_services(database_url, "Europe/London", clock=clock)
    application = build_application(TOKEN, emulator.url, services,
                                     flood=FloodLimit(burst=5, per_second=0.001))  # fmt: skip
    async with polling(application):
        flooder, other = client.user(4500), client.user(4501)
        for number in range(30):
            await flooder.send(f"hello {number}")
        answered: list[str] = []

        def burst_answered_and_noticed(event: BotEvent) -> bool:
            answered.append(event.text)  # in whichever order they come
            return (sum("/start" in text for text in answered) == 5
                    and any("sending messages very fast" in text for text in answered))  # fmt: skip

        await flooder.wait_for(burst_answered_and_noticed)
        await other.send("/help")
        await other.wait_for("What I can do")
        gate = application.update_processor
        assert gate.dropped_flood >= 1  # type: ignore[attr-defined]
        assert sum("very fast" in text for text in answered) == 1  # the burst answered, one notice
