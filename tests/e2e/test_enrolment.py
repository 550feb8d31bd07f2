"""A person enrols over Telegram: consent, injury, intake facts, red flags, time and zone."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from coachbot.bot.app import AnyApplication
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.storage.db import Database
from coachbot.storage.models import Escalation, RedFlagAnswer, User
from coachbot.testing import EmulatorClient, SandboxUser

from .conftest import TOKEN, USER_ID, StartBot
from .flows import (
    INTAKE_FLAG_COUNT,
    Intake,
    consent_and_injury,
    day_0_pictures,
    everything_in_the_database,
    intake_facts,
    screening,
    time_and_zone,
)

pytestmark = pytest.mark.e2e


async def stored_user(database_url: str) -> User:
    db = Database(database_url)
    async with db.transaction() as session:
        row = await session.scalar(select(User).where(User.telegram_user_id == USER_ID))
    await db.dispose()
    assert row is not None
    return row


class TestEnrolment:
    async def test_a_whole_enrolment_by_buttons_and_typed_answers(
        self, bot: AnyApplication, user: SandboxUser, client: EmulatorClient, database_url: str
    ) -> None:
        """Buttons and typed answers take a person from /start to the summary; all is stored."""
        await consent_and_injury(user)
        await intake_facts(user)
        await screening(user)
        summary = await time_and_zone(user)
        assert "Pulled hamstring" in summary and "07:45" in summary
        assert "America/Argentina/Buenos_Aires" in summary
        row = await stored_user(database_url)
        assert (row.status, row.age, row.onset_days_ago, row.grade, row.baseline_pain) == (
            "active",
            29,
            3,
            2,
            5,
        )
        assert row.next_prompt_at is not None
        calls = [r["method"] for r in await client.requests()]
        assert "setMyCommands" in calls

    async def test_a_red_flag_yes_is_answered_at_once_with_its_level(
        self, bot: AnyApplication, user: SandboxUser, database_url: str
    ) -> None:
        """A yes to the cold-leg question brings the emergency advice before the next question."""
        await consent_and_injury(user)
        await intake_facts(user)
        await user.wait_for("Safety question 1 of")
        await user.press("No")
        await user.wait_for("Safety question 2 of")
        await user.press("Yes")  # cold_pale_leg
        advice = await user.wait_for("emergency number")
        assert "blood supply" in advice.text
        await user.wait_for("Safety question 3 of")
        db = Database(database_url)
        async with db.transaction() as session:
            escalations = (await session.execute(select(Escalation.level, Escalation.reason))).all()
            answers = (
                await session.execute(select(RedFlagAnswer.flag_id, RedFlagAnswer.answer))
            ).all()
        await db.dispose()
        assert escalations == [("emergency", "cold_pale_leg")]
        assert answers == [("saddle_numbness_or_bladder_bowel", False), ("cold_pale_leg", True)]

    async def test_the_pressed_keyboard_is_retired(
        self, bot: AnyApplication, user: SandboxUser, client: EmulatorClient
    ) -> None:
        """After a press the buttons disappear from that message, so it cannot be pressed twice."""
        await user.send("/start")
        welcome = await user.wait_for("Do you agree?")
        await user.press("I agree")
        await user.wait_for("Which of these")
        response = await user.press_data(
            welcome.message_id, welcome.button("I agree").callback_data
        )
        assert response.status_code == 400  # like a real client: the button is gone


class TestTheVersion2Questions:
    async def test_the_new_questions_are_asked_and_the_enrolment_ends_with_day_0s_plan(
        self, bot: AnyApplication, user: SandboxUser, database_url: str
    ) -> None:
        """How it happened, walking, a previous injury, the goal and one activity with how able
        the user is to do it are asked and stored; the summary shows them and is followed by
        day 0's plan: the phase and today's exercises."""
        await consent_and_injury(user)
        await intake_facts(user, Intake(activity="running for the bus", ability="3"))
        assert await screening(user) == INTAKE_FLAG_COUNT
        summary = await time_and_zone(user)
        assert "Goal: Running and sport" in summary
        assert "Your activity: running for the bus (3/10 now)" in summary
        assert "Today's plan follows below" in summary
        plan = await user.wait_for("Your plan starts today")
        assert "Protect" in plan.text
        assert "Ice and raise the leg" in plan.text and "Gentle pain-free walk" in plan.text
        pictures = await day_0_pictures(user, plan)  # then each exercise, moving
        assert [p.text.split(" (")[0] for p in pictures] == [
            "Protect and rest the leg", "Ice and raise the leg", "Gentle pain-free walk"]  # fmt: skip
        assert await user.next_events(timeout=0.5) == []  # the last word
        row = await stored_user(database_url)
        assert (row.mechanism, row.walking, row.previous_injury, row.goal, row.activity,
                row.function_baseline, row.grade, row.phase, row.status) == (
            "sprint", "limp", False, "sport", "running for the bus", 3, 2, "protect", "active",
        )  # fmt: skip

    async def test_a_gradual_onset_is_not_asked_how_it_happened_and_skip_skips_the_score(
        self, bot: AnyApplication, user: SandboxUser, database_url: str
    ) -> None:
        """Tendon pain, gradual: no mechanism and no grade question; Skip at the activity goes
        straight to the safety questions; day 0's plan still follows the summary."""
        await consent_and_injury(user, "Tendon pain (tendinopathy)")
        await intake_facts(user, Intake(onset="Gradually", days="30", mechanism=None, grade=None,
                                         location="Top, near the sit bone", walking="Normally",
                                         goal="Everyday life"))  # fmt: skip
        await screening(user)
        await time_and_zone(user)
        plan = await user.wait_for("Your plan starts today")
        assert "Gentle activation" in plan.text
        row = await stored_user(database_url)
        assert (row.onset, row.mechanism, row.grade, row.walking, row.goal, row.activity,
                row.function_baseline) == ("gradual", None, None, "normal", "everyday", None, None)  # fmt: skip

    async def test_an_under_16_is_turned_away_and_nothing_is_kept(
        self, bot: AnyApplication, user: SandboxUser, database_url: str
    ) -> None:
        """Age 15: the safety advice, then "I'm made for people aged 16 and over ... with a
        parent or carer"; no row about them is left in any table, and a later message starts
        from scratch."""
        await consent_and_injury(user)
        await user.send("15")
        first = await user.wait_for("First, your safety")
        assert "112 / 911 / 999" in first.text
        second = await user.wait_for("16 and over")
        assert "parent or carer" in second.text and "haven't kept anything" in second.text
        assert second.seq > first.seq
        stored = await everything_in_the_database(database_url)
        # `processed_updates` holds bare update ids and times (no user).
        assert [table for table, _ in stored if table != "processed_updates"] == []
        assert not any(USER_ID in row for _, row in stored)
        await user.send("hello")
        await user.wait_for("Send /start to begin")


class TestBadInput:
    async def test_free_text_where_a_button_is_expected(
        self, bot: AnyApplication, user: SandboxUser
    ) -> None:
        """Typing at the injury question re-asks it with the keyboard."""
        await user.send("/start")
        await user.wait_for("Do you agree?")
        await user.press("I agree")
        await user.wait_for("Which of these")
        await user.send("it just hurts")
        again = await user.wait_for("Please tap one of the buttons")
        assert again.button("Not sure")

    @pytest.mark.parametrize(
        ("answer", "message"),
        [("7", "between 10 and 110"), ("130", "between 10 and 110"), ("ten", "between 10 and 110")],
    )
    async def test_out_of_range_age(
        self, bot: AnyApplication, user: SandboxUser, answer: str, message: str
    ) -> None:
        """An impossible age gets the range and the same question."""
        await consent_and_injury(user)
        await user.send(answer)
        reply = await user.wait_for(message)
        assert "How old are you?" in reply.text

    async def test_bad_pain_time_and_zone_each_get_their_own_message(
        self, bot: AnyApplication, user: SandboxUser
    ) -> None:
        """Pain 11, an over-long activity, time 25:00 and an unknown zone are each refused with
        a specific message."""
        await consent_and_injury(user)
        await user.send("29")
        await user.press("Suddenly")
        await user.wait_for("How many days ago")
        await user.send("99999")
        await user.wait_for("from 0 (today) to 3650")
        await user.press("Yesterday")
        await user.wait_for("How did it happen?")
        await user.press("A knock or blow")
        await user.wait_for("Where on the back")
        await user.press("Middle")
        await user.press("I don't know")
        await user.wait_for("How are you walking")
        await user.press("Normally")
        await user.press("No, this is the first time")
        await user.wait_for("How bad is the pain right now")
        await user.send("11")
        await user.wait_for("whole number from 0 to 10")
        await user.send("4")
        await user.press("Everyday life")
        await user.wait_for("Name one activity")
        await user.send("climbing the stairs to my flat " * 3)
        refused = await user.wait_for("60 characters or fewer")
        assert refused.button("Skip")
        await user.press("Skip")
        await screening(user)
        await user.wait_for("What time")
        await user.send("25:00")
        await user.wait_for("HH:MM in 24-hour format")
        await user.send("06:30")
        await user.send("Atlantis/<Lost> & Found")
        refused = await user.wait_for("I don't know the time zone")
        assert "Atlantis/&lt;Lost&gt; &amp; Found" not in refused.text  # shown decoded, not raw
        assert "Atlantis/<Lost> & Found" in refused.text
        await user.send("UTC+3")
        summary = await user.wait_for("You're enrolled")
        assert "UTC+3" in summary.text

    async def test_stale_and_tampered_buttons_are_answered_and_change_nothing(
        self, bot: AnyApplication, user: SandboxUser, database_url: str
    ) -> None:
        """An old question's button and forged callback data get a polite answer, nothing stored."""
        await user.send("/start")
        first = await user.wait_for("Do you agree?")
        await user.send("hello")  # consent asked again: the first message keeps its buttons
        await user.wait_for("Please tap one of the buttons")
        await user.press("I agree")
        await user.press("Not sure")
        await user.wait_for("How old are you?")
        await user.press_data(first.message_id, first.button("No thanks").callback_data)
        stale = await user.wait_for(
            lambda e: e.type == "callback_answer", types=("callback_answer",)
        )
        assert "earlier question" in stale.text
        await user.press_forged(first.message_id, "v1|age|999")
        await user.wait_for(lambda e: e.type == "callback_answer", types=("callback_answer",))
        await user.press_forged(first.message_id, "garbage\x00" * 7)
        await user.wait_for(lambda e: e.type == "callback_answer", types=("callback_answer",))
        row = await stored_user(database_url)
        assert (row.enrolment_step, row.age, row.consented_at is not None) == ("age", None, True)

    @pytest.mark.parametrize(
        ("action", "expected"),
        [
            ("sticker", "I can only read text messages"),
            ("photo", "I can only read text messages"),
            ("long", "too long"),
            ("unknown_command", "I don't know that command"),
            ("edit", "I don't read edited messages"),
            ("group", "I work only in a private chat"),
        ],
    )
    async def test_odd_messages_get_a_short_helpful_reply(
        self,
        bot: AnyApplication,
        client: EmulatorClient,
        user: SandboxUser,
        action: str,
        expected: str,
    ) -> None:
        """Stickers, photos, huge texts, unknown commands, edits and groups each get a reply."""
        await consent_and_injury(user, "Not sure")
        if action in ("sticker", "photo"):
            await user.send_kind(action)
        elif action == "long":
            await user.send("x" * 5000)
        elif action == "unknown_command":
            await user.send("/dance")
        elif action == "edit":
            message_id = await user.send("29")
            await user.wait_for("suddenly")
            await user.edit(message_id, "31")
        else:
            group = client.user(USER_ID, chat_id=-100777, chat_type="group")
            await group.send("/start")
            await group.wait_for(expected)
            return
        await user.wait_for(expected)


class TestRestartAndReturn:
    async def test_a_restart_mid_dialog_resumes_at_the_same_question(
        self, start_bot: StartBot, user: SandboxUser, database_url: str
    ) -> None:
        """The bot restarts after the age question was asked; the next typed age is taken."""
        await start_bot()
        await consent_and_injury(user, "Cramp")
        await start_bot.stop()  # type: ignore[attr-defined]
        await start_bot()
        await user.send("52")
        await user.wait_for("suddenly")
        assert (await stored_user(database_url)).age == 52

    async def test_a_second_start_offers_to_keep_or_restart(
        self, bot: AnyApplication, user: SandboxUser
    ) -> None:
        """/start by an enrolled user offers keep or start over; keeping changes nothing."""
        await consent_and_injury(user)
        await intake_facts(user)
        await screening(user)
        await time_and_zone(user)
        await user.send("/start")
        offer = await user.wait_for("keep your program or start over")
        assert offer.button("Start over")
        await user.press("Keep my program")
        await user.wait_for("carries on")

    async def test_help_lists_the_commands(self, bot: AnyApplication, user: SandboxUser) -> None:
        """/help lists /start and /help and the emergency line."""
        await user.send("/help")
        reply = await user.wait_for("What I can do")
        assert "/start" in reply.text and "emergency" in reply.text


class TestOperations:
    async def test_no_token_and_no_answers_in_logs_at_debug(
        self, bot: AnyApplication, user: SandboxUser, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A whole enrolment logged at DEBUG shows neither the token nor what the user typed."""
        caplog.set_level(logging.DEBUG)
        await consent_and_injury(user)
        await intake_facts(user)
        await screening(user)
        await time_and_zone(user)
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert caplog.records, "expected some debug logging"
        assert TOKEN not in logged
        assert TOKEN.split(":")[1] not in logged
        assert "Buenos_Aires" not in logged and "07:45" not in logged

    async def test_bot_keeps_running_when_set_my_commands_fails(
        self, emulator: BotApiEmulator, start_bot: StartBot, user: SandboxUser
    ) -> None:
        """A failing command-menu call at start-up is logged and the bot still answers."""
        emulator.fail_next("setMyCommands", error_code=500, description="Internal Server Error")
        await start_bot()
        await user.send("/start")
        await user.wait_for("Do you agree?")
