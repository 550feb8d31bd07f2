"""Safety over the emulator: the weekly screen, /symptom, holds lifted by "I've seen a
professional", and buttons from an earlier version or tampered with."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from coachbot.bot.app import AnyApplication
from coachbot.clock import FakeClock
from coachbot.sandbox.emulator import BotApiEmulator
from coachbot.scheduler import Dispatcher
from coachbot.storage.models import CheckIn, Escalation, RedFlagAnswer, User
from coachbot.testing import BotEvent, EmulatorClient, SandboxUser

from ..factories import ENROLLED, add_enrolled_users
from .flows import (
    FLAGS,
    GRADE_1,
    Answers,
    Day,
    answer_day,
    consent_and_injury,
    flag_number,
    intake_facts,
    question_of,
    rows,
    screening,
    time_and_zone,
)

pytestmark = pytest.mark.e2e
EIGHT_AM = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # day 1 of the factory's users (London)
DAY1 = datetime(2026, 11, 25, 10, 45, tzinfo=UTC)  # day 1 of the flows' user (Buenos Aires)
HEADER = re.compile(r"^Day (\d+) - (.+)$", re.MULTILINE)


async def days_of_check_ins(user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
                            first: datetime, days: range,
                            answers: dict[int, Answers] | None = None) -> dict[int, Day]:  # fmt: skip
    """Each of `days`: the prompt at its time, answered (the default answers unless given)."""
    lived = {}
    for number in days:
        clock.now = first + timedelta(days=number - 1)
        assert (await dispatcher.tick()).sent == 1, f"no prompt on day {number}"
        prompt = await user.wait_for(f"Day {number}")
        lived[number] = await answer_day(user, prompt, (answers or {}).get(number, Answers()))
    return lived


def check_in_of(prompt: BotEvent) -> int:
    """The check-in id in a prompt's buttons (v2|<code>|<check-in>|...)."""
    for row in prompt.buttons:
        for button in row:
            found = re.fullmatch(r"v2\|dd\|(\d+)\|\w+", button.callback_data or "")
            if found:
                return int(found[1])
    raise AssertionError(f"no check-in button on {prompt.text!r}: {prompt.labels}")


class TestTheWeeklyScreen:
    async def test_a_yes_in_the_weekly_screen_escalates(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str, client: EmulatorClient,
    ) -> None:  # fmt: skip
        """Day 7's check-in carries the weekly safety check; tapping the swollen calf's number
        brings the urgent advice at once, and day 8's prompt has no exercises."""
        await add_enrolled_users(database_url, [3100], enrolled_at=ENROLLED)
        emulator.open_private_chats([3100])
        person = client.user(3100)
        lived = await days_of_check_ins(person, dispatcher, clock, EIGHT_AM, range(1, 8),
                                        {7: Answers(screen="calf_swelling_redness")})  # fmt: skip
        assert [n for n, day in lived.items() if "weekly" in day.asked] == [7]
        (advice,) = [text for text in lived[7].said if "Please see a doctor today" in text]
        assert "blood clot" in advice
        assert await rows(database_url, select(Escalation.level, Escalation.reason)) == [
            ("urgent", "calf_swelling_redness")
        ]
        screened = await rows(database_url, select(RedFlagAnswer.flag_id, RedFlagAnswer.screening)
                              .where(RedFlagAnswer.answer.is_(True)))  # fmt: skip
        assert screened == [("calf_swelling_redness", "weekly")]
        clock.now = EIGHT_AM + timedelta(days=7)
        await dispatcher.tick()
        day8 = await person.wait_for("Day 8")
        assert "No exercises until a professional has checked you" in day8.text
        assert "A professional examined me and said I may exercise" in day8.labels


class TestSymptom:
    async def test_symptom_lists_every_red_flag_and_a_press_escalates_at_once(
        self, bot: AnyApplication, emulator: BotApiEmulator, database_url: str,
        client: EmulatorClient, clock: FakeClock,
    ) -> None:  # fmt: skip
        """/symptom asks every warning sign as a numbered one-tap button; "None of these" is
        thanked; a press on the tense, swollen thigh brings the emergency advice at once and
        stops the exercises (status escalated), without waiting for a check-in."""
        await add_enrolled_users(database_url, [3200], enrolled_at=ENROLLED)
        emulator.open_private_chats([3200])
        person = client.user(3200)
        clock.now = EIGHT_AM + timedelta(hours=3)
        await person.send("/symptom")
        listed = await person.wait_for("Tell me about a new symptom")
        assert all(flag.question in listed.text for flag in FLAGS)
        assert [str(n) for n in range(1, len(FLAGS) + 1)] + ["None of these"] == listed.labels
        await person.press("None of these", message_id=listed.message_id)
        await person.wait_for("none of the warning signs")
        assert await rows(database_url, select(Escalation.reason)) == []

        await person.send("/symptom")
        listed = await person.wait_for("Tell me about a new symptom")
        await person.press(flag_number(listed, "tense_swollen_thigh"),
                           message_id=listed.message_id)  # fmt: skip
        advice = await person.wait_for("emergency number")
        assert "pressure is building up inside the muscle" in advice.text
        assert await rows(database_url, select(Escalation.level, Escalation.reason)) == [
            ("emergency", "tense_swollen_thigh")
        ]
        assert await rows(database_url, select(User.status)) == [("escalated",)]

    async def test_symptom_is_in_help_and_in_the_command_menu(
        self, bot: AnyApplication, user: SandboxUser, client: EmulatorClient
    ) -> None:
        """/help lists /symptom, and so does the menu registered with setMyCommands."""
        await user.send("/help")
        assert "/symptom" in (await user.wait_for("What I can do")).text
        menus = [r["params"] for r in await client.requests() if r["method"] == "setMyCommands"]
        assert any("symptom" in str(menu) for menu in menus), menus


class TestHolds:
    async def test_a_routine_hold_is_lifted_by_ive_seen_a_professional(
        self, bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
        database_url: str,
    ) -> None:  # fmt: skip
        """The same strain a second time this year: routine advice at enrolment and a hold, which
        keeps the gentle phases going but not strength. Day 7 asks "have you seen a professional
        yet?": "Not yet" (asked again a week later); day 14: "I've seen a professional" lifts the
        hold, the check is asked the next day and strength follows."""
        summary = await enrol_again(user)
        assert "book the appointment I suggested" in summary
        lived = await days_of_check_ins(
            user, dispatcher, clock, DAY1, range(1, 17),
            {7: Answers(seen="Not yet"), 14: Answers(seen="I've seen a professional")},
        )  # fmt: skip
        assert [n for n, day in lived.items() if "seen" in day.asked] == [7, 14]
        assert any("I'll ask again in a week" in text for text in lived[7].said)
        assert any("good that you've been seen" in text for text in lived[14].said)
        phases = {n: HEADER.search(day.prompt.text)[2] for n, day in lived.items()}  # type: ignore[index]
        # Held: no check is asked while moving on would mean strength (rule 13) ...
        assert phases[8] == phases[14] == phases[15] == "Movement and control"
        assert [n for n, day in lived.items() if day.checks and n > 7] == [15]
        # ... and seen: the check on day 15, strength from day 16.
        assert phases[16] == "Strength"
        assert await rows(database_url, select(CheckIn.seen).where(CheckIn.seen.is_(True))) == [
            (True,)
        ]


async def enrol_again(user: SandboxUser) -> str:
    """An enrolment with a previous injury in the same thigh: the advice, then the summary and
    day 0's plan; the summary."""
    await consent_and_injury(user)
    await intake_facts(user, replace(GRADE_1, previous="Yes, it's happened before"))
    said = [m["text"] for m in await user.messages() if m["from_bot"]]
    (advice,) = [n for n, text in enumerate(said) if "Please book an appointment" in text]
    assert "keeps coming back" in said[advice]
    assert "How bad is the pain right now" in said[advice - 1]  # given once the pain is known
    await screening(user)
    summary = await time_and_zone(user)
    plan = await user.wait_for("Your plan starts today")
    assert "Protect" in plan.text
    return summary


class TestOldAndTamperedButtons:
    async def test_a_version_1_button_is_answered_with_an_alert_and_changes_nothing(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str, client: EmulatorClient,
    ) -> None:  # fmt: skip
        """Buttons of the previous version still in the chat (v1|did:..., v1|pain:...): an alert
        pointing to /today; nothing is stored and the prompt keeps its buttons."""
        await add_enrolled_users(database_url, [3300], enrolled_at=ENROLLED)
        emulator.open_private_chats([3300])
        person = client.user(3300)
        clock.now = EIGHT_AM
        await dispatcher.tick()
        prompt = await person.wait_for("Day 1")
        assert prompt.message_id is not None
        check_in = check_in_of(prompt)
        for data in (f"v1|did:{check_in}|done", f"v1|pain:{check_in}|3", "v1|consent|yes"):
            await person.press_forged(prompt.message_id, data)
            answer = await person.wait_for(lambda e: e.type == "callback_answer",
                                           types=("callback_answer",))  # fmt: skip
            assert answer.show_alert is True and "earlier version" in answer.text
        assert await rows(database_url, select(CheckIn.adherence, CheckIn.pain)) == [(None, None)]
        assert [e for e in await person.next_events(timeout=0.3) if e.type != "chat_action"] == []
        await person.press("Done", message_id=prompt.message_id)  # the real one still works
        await person.wait_for("Recorded: done.")

    async def test_tampered_version_2_buttons_are_answered_and_change_nothing(
        self, bot: AnyApplication, emulator: BotApiEmulator, dispatcher: Dispatcher,
        clock: FakeClock, database_url: str, client: EmulatorClient,
    ) -> None:  # fmt: skip
        """Forged v2 data: out-of-range values, another user's check-in, unknown codes, ids and
        extra fields: a short answer (no alert) each, nothing stored for anyone."""
        await add_enrolled_users(database_url, [3400, 3401], enrolled_at=ENROLLED)
        emulator.open_private_chats([3400, 3401])
        person, other = client.user(3400), client.user(3401)
        clock.now = EIGHT_AM
        assert (await dispatcher.tick()).sent == 2
        prompt = await person.wait_for("Day 1")
        theirs = check_in_of(await other.wait_for("Day 1"))
        mine = check_in_of(prompt)
        assert prompt.message_id is not None
        forged = (
            f"v2|pn|{mine}|11", f"v2|ep|{mine}|-1", f"v2|dd|{mine}|maybe", f"v2|pn|{theirs}|3",
            f"v2|dd|{theirs}|done", f"v2|pn|{mine}|3|3", f"v2|pn|{mine}", f"v2|zz|{mine}|3",
            f"v2|ck|{mine}|not_a_check|1", f"v2|sc|{mine}|weekly|not_a_flag",
            "v2|sy|not_a_flag", f"v2|pn|{mine + 10_000}|3", f"v2|pn|{'9' * 30}|3",
            f"v3|pn|{mine}|3", f"V2|pn|{mine}|3", f"v2|c2|{theirs}", f"v2|sn|{theirs}|1",
        )  # fmt: skip
        for data in forged:
            await person.press_forged(prompt.message_id, data)
            answer = await person.wait_for(lambda e: e.type == "callback_answer",
                                           types=("callback_answer",))  # fmt: skip
            assert not answer.show_alert, data
        stored = await rows(database_url, select(CheckIn.adherence, CheckIn.pain, CheckIn.cleared,
                                                 CheckIn.seen))  # fmt: skip
        assert stored == [(None, None, False, False)] * 2
        assert await rows(database_url, select(Escalation.id)) == []
        assert question_of(prompt) == "session"
        assert [e.type for e in await person.next_events(timeout=0.3)
                if e.type in ("message", "edit")] == []  # fmt: skip
