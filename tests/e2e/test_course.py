"""A whole course over the emulator: a month of daily check-ins, the phases they lead through."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from coachbot.bot.app import AnyApplication
from coachbot.clock import FakeClock
from coachbot.scheduler import Dispatcher
from coachbot.storage.models import CheckAnswer, CheckIn, User
from coachbot.testing import SandboxUser

from .flows import GRADE_1, Answers, Day, answer_day, enrol, rows

pytestmark = pytest.mark.e2e
# The flows' user enrols at 09:00 UTC on 24 Nov with 07:45 in Buenos Aires (UTC-3) = 10:45 UTC.
DAY1 = datetime(2026, 11, 25, 10, 45, tzinfo=UTC)
HEADER = re.compile(r"^Day (\d+) - (.+)$", re.MULTILINE)
MOVE_ON = re.compile(r"From tomorrow you move on to (.+), because")


def header(day: Day) -> tuple[int, str]:
    found = HEADER.search(day.prompt.text)
    assert found, day.prompt.text
    return int(found[1]), found[2]


class TestAMonthOfCheckIns:
    async def test_a_30_day_strain_course_moves_through_the_phases(
        self, bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
        database_url: str,
    ) -> None:  # fmt: skip
        """A grade 1 sprinting strain (group `standard`), back to sport, with one activity: each
        day the prompt comes, the user taps Done, an exercise pain of 1 and a rest pain (3, then
        1); the first function check is answered "no", then "yes" the next day it is asked, and
        every later one "yes"; the weekly screen and function score on days 7, 14, 21 and 28.
        The course moves protect -> gentle activation -> movement and control -> strength ->
        back to activity -> keep it away, each move explained the day before it happens."""
        await enrol(user, replace(GRADE_1, activity="sprinting", ability="2"))
        days: dict[int, Day] = {}
        first_check_answered = False
        for number in range(1, 31):
            clock.now = DAY1 + timedelta(days=number - 1)
            assert (await dispatcher.tick()).sent == 1, f"no prompt on day {number}"
            prompt = await user.wait_for(f"Day {number} - ")
            answer = "Yes" if first_check_answered else "No"
            day = await answer_day(user, prompt, Answers(pain=3 if number == 1 else 1,
                                                         check=answer, function=4 + number // 7))  # fmt: skip
            if "check" in day.asked:
                first_check_answered = True
            days[number] = day

        phases = {number: header(day)[1] for number, day in days.items()}
        runs: list[tuple[str, int, int]] = []  # (phase, first day, last day)
        for number in sorted(phases):
            if runs and runs[-1][0] == phases[number]:
                runs[-1] = (runs[-1][0], runs[-1][1], number)
            else:
                runs.append((phases[number], number, number))
        assert runs == [
            ("Protect", 1, 1),
            ("Gentle activation", 2, 7),
            ("Movement and control", 8, 12),
            ("Strength", 13, 20),
            ("Back to activity", 21, 28),
            ("Keep it away", 29, 30),
        ], runs
        # Each move is explained in one sentence, with its reason, the day before it happens.
        moves = {number: found[1] for number, day in days.items() for text in day.said
                 if (found := MOVE_ON.search(text))}  # fmt: skip
        assert moves == {1: "Gentle activation", 7: "Movement and control",
                         12: "Strength", 20: "Back to activity", 28: "Keep it away"}  # fmt: skip
        # The checks: the first one (walking) "no" on day 5, not asked on day 6, "yes" on day 7.
        asked_checks = {n: d.checks for n, d in days.items() if d.checks}
        assert sorted(asked_checks) == [5, 7, 12, 20, 28], asked_checks
        assert all("walk" in text for text in asked_checks[5] + asked_checks[7])
        assert len(asked_checks[20]) == 2  # strength: the bridges and a moderate jog
        answers = await rows(database_url, select(CheckAnswer.day, CheckAnswer.check_id,
                                                  CheckAnswer.answer).order_by(CheckAnswer.day))  # fmt: skip
        assert answers[:2] == [(date(2026, 11, 29), "walk_normal", False),  # day 5
                               (date(2026, 12, 1), "walk_normal", True)]  # day 7 # fmt: skip
        # The weekly screen and function score every 7th day, and only then.
        weekly = [n for n, d in days.items() if "weekly" in d.asked]
        function = [n for n, d in days.items() if "function" in d.asked]
        assert weekly == function == [7, 14, 21, 28]
        assert all(d.asked[:3] == ("session", "exercise_pain", "rest_pain") for d in days.values())
        assert not [n for n, d in days.items() if {"rescreen", "seen"} & set(d.asked)]
        # Nothing escalated, and every answer stored on its own day.
        assert await rows(database_url, select(User.status, User.phase)) == [("active", "maintain")]
        stored = await rows(database_url, select(CheckIn.adherence, CheckIn.exercise_pain,
                                                 CheckIn.pain).order_by(CheckIn.day))  # fmt: skip
        assert stored == [("done", 1, 3)] + [("done", 1, 1)] * 29
