"""The daily loop over the emulator: prompts at each user's local time, answers, escalations."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from coachbot.bot.app import AnyApplication
from coachbot.clock import FakeClock
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.scheduler import Dispatcher
from coachbot.storage.models import CheckIn, User
from coachbot.testing import EmulatorClient, SandboxUser

from ..factories import ENROLLED, add_enrolled_users
from .flows import Answers, answer_day, enrol, question_of, rows

pytestmark = pytest.mark.e2e
# The flows' user enrols at 09:00 UTC on 24 Nov with 07:45 in Buenos Aires (UTC-3) = 10:45 UTC.
DAY1 = datetime(2026, 11, 25, 10, 45, tzinfo=UTC)


class TestTheDailyConversation:
    async def test_enrolled_prompted_answered_in_place_then_a_flare_up_and_a_red_flag(
        self,
        bot: AnyApplication,
        user: SandboxUser,
        dispatcher: Dispatcher,
        clock: FakeClock,
        database_url: str,
    ) -> None:
        """Day 1 at 07:45 local: exercises; done, exercise pain 1 and rest pain 3, one question
        at a time in the same message; the move on is explained; day 2's pain of 8 steps back,
        re-asks the red flags, and a cold leg brings the emergency advice."""
        await enrol(user)
        clock.now = DAY1 - timedelta(minutes=1)
        assert (await dispatcher.tick()).sent == 0
        clock.now = DAY1
        assert (await dispatcher.tick()).sent == 1
        prompt = await user.wait_for("Day 1 - Protect")
        assert "Ice and raise the leg" in prompt.text and prompt.button("Full instructions")
        assert question_of(prompt) == "session"
        await user.press("Done")
        asked = await user.wait_for("Recorded: done.")
        assert question_of(asked) == "exercise_pain"
        await user.press("1")
        asked = await user.wait_for("Recorded: done, exercise pain 1/10.")
        assert question_of(asked) == "rest_pain"
        await user.press("3")
        edited = await user.wait_for("Recorded: done, exercise pain 1/10, pain 3/10.")
        assert edited.message_id == prompt.message_id  # edited in place, not a new message
        assert question_of(edited) == "done"
        assert "Change: pain at rest" in edited.labels
        move = await user.wait_for("From tomorrow you move on to")
        assert "Gentle activation" in move.text
        await user.press("Full instructions")
        await user.wait_for("Stop if:")

        clock.now = DAY1 + timedelta(days=1)
        assert (await dispatcher.tick()).sent == 1
        prompt = await user.wait_for("Day 2 - Gentle activation")
        day = await answer_day(user, prompt, Answers(pain=8, screen="cold_pale_leg"))
        assert day.asked == ("session", "exercise_pain", "rest_pain", "rescreen")
        assert any("Tomorrow we step back to Protect" in text for text in day.said)
        (advice,) = [text for text in day.said if "emergency number" in text]
        assert "blood supply" in advice
        pains = await rows(database_url, select(CheckIn.day, CheckIn.pain, CheckIn.adherence,
                                                CheckIn.exercise_pain).order_by(CheckIn.day))  # fmt: skip
        assert pains == [(date(2026, 11, 25), 3, "done", 1), (date(2026, 11, 26), 8, "done", 1)]
        assert await rows(database_url, select(User.status)) == [("escalated",)]

    async def test_a_typed_number_answers_the_0_to_10_question_being_asked(
        self, bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
        database_url: str,
    ) -> None:  # fmt: skip
        """ "3" typed while the exercise pain is asked is the exercise pain; "4" typed after it is
        the pain at rest, each shown in the check-in (sent again, since typing moved the chat on)."""
        await enrol(user)
        clock.now = DAY1
        await dispatcher.tick()
        await user.wait_for("Day 1")
        await user.press("Done")
        await user.wait_for("worst pain during the exercises")
        await user.send("3")
        await user.wait_for(lambda e: e.type == "message" and "exercise pain 3/10" in e.text)
        await user.send("4")
        shown = await user.wait_for(lambda e: e.type == "message" and "pain 4/10" in e.text)
        assert "exercise pain 3/10, pain 4/10" in shown.text
        assert await rows(database_url, select(CheckIn.exercise_pain, CheckIn.pain)) == [(3, 4)]

    async def test_a_typed_number_before_the_session_answer_is_the_pain_at_rest(
        self, bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
        database_url: str,
    ) -> None:  # fmt: skip
        """ "4" typed while "did you do them?" is showing is that day's pain at rest."""
        await enrol(user)
        clock.now = DAY1
        await dispatcher.tick()
        await user.wait_for("Day 1")
        await user.send("4")
        await user.wait_for("Recorded: pain 4/10.")
        assert await rows(database_url, select(CheckIn.pain)) == [(4,)]

    async def test_free_text_during_the_check_in_gets_the_question_again(
        self, bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
        database_url: str,
    ) -> None:  # fmt: skip
        """Words where a tap is expected: "please tap one of the buttons" and the open question
        again, with its buttons; nothing is stored."""
        await enrol(user)
        clock.now = DAY1
        await dispatcher.tick()
        await user.wait_for("Day 1")
        await user.press("Done")
        await user.wait_for("worst pain during the exercises")
        await user.send("it was fine I think")
        again = await user.wait_for(lambda e: e.type == "message" and "tap one of" in e.text)
        assert question_of(again) == "exercise_pain" and again.button("2")
        await user.press("2", message_id=again.message_id)
        await user.wait_for("exercise pain 2/10")
        assert await rows(database_url, select(CheckIn.exercise_pain, CheckIn.pain)) == [(2, None)]

    async def test_a_late_answer_belongs_to_its_own_day_and_a_change_corrects_it(
        self, bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
        database_url: str,
    ) -> None:  # fmt: skip
        """Day 1's buttons pressed after day 2's prompt answer day 1; "Change: pain at rest"
        asks it again and the new value replaces the old."""
        await enrol(user)
        clock.now = DAY1
        await dispatcher.tick()
        day1 = await user.wait_for("Day 1")
        clock.now = DAY1 + timedelta(days=1)
        await dispatcher.tick()
        await user.wait_for("Day 2")
        await user.press("Not today", message_id=day1.message_id)
        await user.wait_for(
            lambda e: e.message_id == day1.message_id and "not done today" in e.text
        )
        await user.press("5", message_id=day1.message_id)
        await user.wait_for("pain 5/10")
        await user.press("Change: pain at rest", message_id=day1.message_id)
        await user.wait_for(lambda e: e.message_id == day1.message_id
                            and question_of(e) == "rest_pain")  # fmt: skip
        await user.press("2", message_id=day1.message_id)
        await user.wait_for("pain 2/10")
        found = await rows(database_url, select(CheckIn.day, CheckIn.pain, CheckIn.adherence)
                           .order_by(CheckIn.day))  # fmt: skip
        assert found == [(date(2026, 11, 25), 2, "skipped"), (date(2026, 11, 26), None, None)]

    async def test_commands(
        self, bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
    ) -> None:  # fmt: skip
        """/today on day 0 shows day 0's plan and on day 1 the check-in; /pause stops prompts,
        /resume brings them; /time changes it."""
        await enrol(user)
        await user.send("/today")
        day0 = await user.wait_for("Your plan starts today")
        assert "Ice and raise the leg" in day0.text
        clock.now = DAY1 + timedelta(hours=2)
        await dispatcher.tick()
        await user.wait_for("Day 1")
        await user.send("/today")
        await user.wait_for("Day 1 - Protect")
        await user.send("/pause")
        await user.wait_for("paused")
        clock.now = DAY1 + timedelta(days=1)
        assert (await dispatcher.tick()).sent == 0
        await user.send("/resume")
        await user.wait_for("back on")
        await user.send("/time")
        await user.wait_for("from now on")
        await user.send("21:30")
        await user.wait_for("now comes at 21:30")
        await user.send("/settings")
        settings = await user.wait_for("Your settings")
        assert "21:30" in settings.text and "Prompts: on" in settings.text


class TestScheduling:
    @pytest.mark.parametrize(
        ("zone", "reminder", "day", "expected_utc"),
        [
            ("Europe/London", time(8), date(2026, 11, 26), datetime(2026, 11, 26, 8, tzinfo=UTC)),
            ("Asia/Tokyo", time(8), date(2026, 11, 26), datetime(2026, 11, 25, 23, tzinfo=UTC)),
            ("America/Los_Angeles", time(20), date(2026, 11, 25),
             datetime(2026, 11, 26, 4, tzinfo=UTC)),
        ],
    )  # fmt: skip
    async def test_each_user_at_their_own_local_time(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str, zone: str, reminder: time, day: date,
        expected_utc: datetime,
    ) -> None:  # fmt: skip
        """A prompt goes out at the user's reminder time in their zone, not a minute before."""
        await add_enrolled_users(database_url, [501], enrolled_at=ENROLLED, zone=zone,
                                 reminder=reminder)  # fmt: skip
        emulator.open_private_chats([501])
        clock.now = expected_utc - timedelta(seconds=1)
        assert (await dispatcher.tick()).sent == 0
        clock.now = expected_utc
        assert (await dispatcher.tick()).sent == 1
        assert await rows(database_url, select(CheckIn.day)) == [(day,)]

    @pytest.mark.parametrize(
        ("enrolled", "day", "expected_utc"),
        [
            # 29 March 2026: 01:30 does not exist in London; sent at 02:30 BST = 01:30 UTC.
            (datetime(2026, 3, 28, 12, tzinfo=UTC), date(2026, 3, 29),
             datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
            # 25 October 2026: 01:30 happens twice; sent once, at the first (BST) one.
            (datetime(2026, 10, 24, 12, tzinfo=UTC), date(2026, 10, 25),
             datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ],
        ids=["spring-forward", "fall-back"],
    )  # fmt: skip
    async def test_daylight_saving_transitions(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str, enrolled: datetime, day: date,
        expected_utc: datetime,
    ) -> None:  # fmt: skip
        """01:30 London across both transitions: exactly one prompt that night, at the right time,
        and the next day's at 01:30 local again."""
        await add_enrolled_users(database_url, [502], enrolled_at=enrolled, reminder=time(1, 30))
        emulator.open_private_chats([502])
        clock.now = expected_utc - timedelta(seconds=1)
        assert (await dispatcher.tick()).sent == 0
        sent = 0
        for minutes in range(0, 181, 15):  # tick through the next three hours
            clock.now = expected_utc + timedelta(minutes=minutes)
            sent += (await dispatcher.tick()).sent
        assert sent == 1
        (next_at,) = (await rows(database_url, select(User.next_prompt_at)))[0]
        assert isinstance(next_at, datetime)
        local = next_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
        assert (local.date(), local.time()) == (day + timedelta(days=1), time(1, 30))

    async def test_missed_for_hours_is_skipped_recent_is_sent(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str,
    ) -> None:  # fmt: skip
        """After downtime: 2 hours late is still sent; 4 hours late is skipped (no stale burst)."""
        await add_enrolled_users(database_url, [601], enrolled_at=ENROLLED, reminder=time(8))
        await add_enrolled_users(database_url, [602], enrolled_at=ENROLLED, reminder=time(6))
        emulator.open_private_chats([601, 602])
        clock.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
        report = await dispatcher.tick()
        assert (report.sent, report.skipped_late) == (1, 1)
        assert emulator.sent_messages_per_chat() == {601: 1}


class TestDelivery:
    async def test_a_batch_larger_than_the_rate_limit_drains_without_429(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str,
    ) -> None:  # fmt: skip
        """70 users due at once under Telegram's 30 a second: all delivered, none refused."""
        emulator.enforce_rate_limits = True
        users = range(1000, 1070)
        await add_enrolled_users(database_url, users, enrolled_at=ENROLLED)
        emulator.open_private_chats(users)
        clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        report = await dispatcher.tick()
        assert report.sent == 70
        assert emulator.too_many_requests_count == 0
        assert emulator.sent_messages_per_chat() == dict.fromkeys(users, 1)

    async def test_a_user_who_blocked_the_bot_is_not_prompted_again(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str, client: EmulatorClient,
    ) -> None:  # fmt: skip
        """403: marked blocked, skipped the next day; /start after unblocking brings them back."""
        await add_enrolled_users(database_url, [701], enrolled_at=ENROLLED)
        emulator.open_private_chats([701])
        emulator.set_blocked(701)
        clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        assert (await dispatcher.tick()).blocked == 1
        assert await rows(database_url, select(User.prompts_off)) == [("blocked",)]
        emulator.set_blocked(701, False)
        person = client.user(701)
        await person.send("/start")
        await person.press("Keep my program")
        await person.wait_for("carries on")
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        assert (await dispatcher.tick()).sent == 1

    async def test_a_user_who_blocks_the_bot_mid_reply_is_logged_in_one_line(
        self, bot: AnyApplication, emulator: BotApiEmulator, clock: FakeClock,
        database_url: str, client: EmulatorClient, caplog: pytest.LogCaptureFixture,
    ) -> None:  # fmt: skip
        """The reply to /today meets 403: the user is marked blocked, one INFO line names them,
        and nothing is logged as an error (no traceback)."""
        caplog.set_level(logging.INFO)
        await add_enrolled_users(database_url, [702], enrolled_at=ENROLLED)
        clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
        emulator.fail_next("sendMessage", error_code=403,
                           description="Forbidden: bot was blocked by the user")  # fmt: skip
        person = client.user(702)
        await person.send("/today")
        await person.send("/help")  # a user's updates are handled in order: /today is done
        await person.wait_for("/today")
        assert await rows(database_url, select(User.prompts_off)) == [("blocked",)]
        lines = [r for r in caplog.records if r.name.startswith("coachbot")]
        blocked = [r for r in lines if "blocked the bot" in r.getMessage()]
        assert [(r.levelno, "702" in r.getMessage()) for r in blocked] == [(logging.INFO, True)]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]

    async def test_a_network_error_is_retried_not_lost(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str,
    ) -> None:  # fmt: skip
        """A 502 from the Bot API puts the prompt back for 30 s (backoff); then it is delivered,
        once."""
        await add_enrolled_users(database_url, [801], enrolled_at=ENROLLED)
        emulator.open_private_chats([801])
        emulator.fail_next("sendMessage", error_code=502, description="Bad Gateway")
        clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        first = await dispatcher.tick()
        assert (first.sent, first.retried) == (0, 1)
        clock.advance(seconds=29)
        assert (await dispatcher.tick()).sent == 0  # still backing off
        clock.advance(seconds=1)
        assert (await dispatcher.tick()).sent == 1
        assert emulator.sent_messages_per_chat() == {801: 1}

    async def test_a_crash_mid_dispatch_loses_no_prompt(
        self, bot: AnyApplication, emulator: BotApiEmulator, clock: FakeClock,
        database_url: str,
    ) -> None:  # fmt: skip
        """Prompts taken for sending by a process that died are sent by the next one after the
        lease; everything else exactly once."""
        from coachbot.storage import dispatch

        services = bot.bot_data["services"]
        users = range(900, 920)
        await add_enrolled_users(database_url, users, enrolled_at=ENROLLED)
        emulator.open_private_chats(users)
        clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        async with services.db.transaction() as session:  # the first process claims and takes 4
            await dispatch.claim_due(session, clock(), limit=100, max_lateness=timedelta(hours=3))
            taken = await dispatch.take_for_sending(session, clock(), limit=4,
                                                    lease=timedelta(minutes=2))  # fmt: skip
        assert len(taken) == 4  # ... and dies before sending them
        restarted = Dispatcher(services, bot.bot, clock)
        try:
            assert (await restarted.tick()).sent == 16  # the others; the 4 are under lease
            clock.advance(minutes=3)
            assert (await restarted.tick()).sent == 4
        finally:
            await restarted.close()
        assert emulator.sent_messages_per_chat() == dict.fromkeys(users, 1)


class TestFollowUps:
    async def test_a_silent_week_nudges_once_then_pauses_and_a_rating_resumes(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str, client: EmulatorClient,
    ) -> None:  # fmt: skip
        """No answer for 3 days: the 4th prompt nudges; after 7 days prompts pause (no
        escalation); typing a rating brings them back."""
        await add_enrolled_users(database_url, [950], enrolled_at=ENROLLED)
        emulator.open_private_chats([950])
        person = client.user(950)
        for day in range(1, 10):
            clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC) + timedelta(days=day)
            await dispatcher.tick()
        events = await person.next_events(timeout=1)
        texts = [e.text for e in events if e.type == "message" and "weekly summary" not in e.text]
        assert [("haven't heard from you for a few days" in t) for t in texts].count(True) == 1
        assert "haven't heard from you for a few days" in texts[3]  # day 4
        assert "paused your daily prompts" in texts[7]  # day 8
        assert len(texts) == 8  # nothing on day 9
        assert await rows(database_url, select(User.prompts_off)) == [("silent",)]
        await person.send("3")
        await person.wait_for("Recorded: pain 3/10.")
        assert await rows(database_url, select(User.prompts_off, User.status)) == [(None, "active")]

    async def test_an_urgent_escalation_is_cleared_in_two_steps(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str, client: EmulatorClient,
    ) -> None:  # fmt: skip
        """Escalated (urgent): no exercises, the pain question and "a professional examined me";
        its first tap only asks "are you sure?", Cancel changes nothing, "Yes, I'm sure" resumes
        the program: the next prompt has exercises again."""
        await add_enrolled_users(database_url, [960], enrolled_at=ENROLLED,
                                 intake_red_flags=("fever_or_unwell",))  # fmt: skip
        emulator.open_private_chats([960])
        person = client.user(960)
        clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        await dispatcher.tick()
        check = await person.wait_for("No exercises until a professional has checked you")
        assert "Today's exercises" not in check.text and question_of(check) == "rest_pain"
        assert "Did you do" not in check.text
        await person.press("A professional examined me and said I may exercise")
        confirm = await person.wait_for("Just to be sure")
        assert confirm.message_id == check.message_id
        assert confirm.labels == ["Yes, I'm sure", "Cancel"]
        await person.press("Cancel", message_id=check.message_id)
        back = await person.wait_for(lambda e: e.type == "edit" and "No exercises until" in e.text)
        await person.wait_for("nothing changed")
        assert "A professional examined me and said I may exercise" in back.labels
        assert await rows(database_url, select(User.status)) == [("escalated",)]
        assert await rows(database_url, select(CheckIn.cleared)) == [(False,)]

        await person.press("A professional examined me and said I may exercise")
        await person.wait_for("Just to be sure")
        await person.press("Yes, I'm sure", message_id=check.message_id)
        await person.wait_for("Your exercises start again tomorrow")
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        await dispatcher.tick()
        resumed = await person.wait_for("Day 2 - Protect")
        assert "Ice and raise the leg" in resumed.text and question_of(resumed) == "session"
        assert await rows(database_url, select(User.status)) == [("active",)]
