"""The daily check-in at the service level: one question at a time, every answer committed in one
transaction before it is acknowledged, corrections, screens, clearance, /symptom."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from coachbot.clock import FakeClock
from coachbot.domain.phases import Status
from coachbot.services import actions as a
from coachbot.services.container import Services
from coachbot.services.replies import Outcome, Reply
from coachbot.services.simulation import Scenario
from coachbot.services.who import Who
from coachbot.storage import repositories as repo
from tests.courses import ME, START, enrol

STRAIN = Scenario(injury="hamstring_strain", grade=1, age=30, onset="sudden", onset_days_ago=1,
                  location="middle", baseline_pain=4, mechanism="sprint", goal="sport")  # fmt: skip


def actions(reply: Reply) -> list[Any]:
    return [button.action for row in reply.buttons for button in row]


def find(reply: Reply, action_type: type, **fields: object) -> Any:
    """The button action of `action_type` whose fields are `fields`."""
    for action in actions(reply):
        if isinstance(action, action_type) and all(
            getattr(action, k) == v for k, v in fields.items()
        ):
            return action
    raise AssertionError(f"no {action_type.__name__} {fields} in {actions(reply)}")


async def prompt(services: Services, clock: FakeClock, day: int) -> Reply:
    """Day `day`'s check-in message (asked for with /today at 10:00 that day)."""
    clock.now = START + timedelta(days=day, hours=1)
    outcome = await services.checkin.today(ME)
    return outcome.replies[-1]


async def press(services: Services, reply: Reply, action_type: type, **fields: object) -> Outcome:
    return await services.checkin.answer(ME, find(reply, action_type, **fields))


async def check_in(services: Services, clock: FakeClock, day: int, *, pain: int = 1,
                   effort: int = 1) -> Reply:  # fmt: skip
    """Done, exercise pain `effort`, rest pain `pain`: the day's message afterwards."""
    reply = await prompt(services, clock, day)
    reply = (await press(services, reply, a.Did, session=a.Session.DONE)).edit or reply
    reply = (await press(services, reply, a.ExercisePain, pain=effort)).edit or reply
    out = await press(services, reply, a.RestPain, pain=pain)
    assert out.edit is not None
    return out.edit


async def answers(services: Services, day: int) -> repo.DayAnswers:
    """What is stored for program day `day`."""
    user_id = (await user(services)).id
    async with services.db.read() as session:
        return await repo.answers_on(session, user_id, START.date() + timedelta(days=day))


async def user(services: Services) -> repo.UserRecord:
    async with services.db.read() as session:
        found = await repo.get_user(session, ME.telegram_user_id)
    assert found is not None
    return found


@pytest.fixture
async def enrolled(services: Services, clock: FakeClock) -> Services:
    clock.now = START
    await enrol(services, STRAIN)
    return services


class TestTheFlow:
    async def test_the_prompt_lists_the_exercises_and_asks_the_session_first(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """Day 1: protect's exercises with their dosage, then "did you do them?"."""
        reply = await prompt(enrolled, clock, 1)
        assert "Day 1 - Protect" in reply.text and "15-20 min every few hours" in reply.text
        assert "Did you do today's exercises?" in reply.text
        assert [b.label for b in reply.buttons[0]] == ["Done", "Partly", "Not today"]
        assert any(isinstance(x, a.Instructions) for x in actions(reply))

    async def test_done_then_exercise_pain_then_rest_pain_then_all_recorded(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """One question at a time, the message edited in place, each answer stored."""
        reply = await prompt(enrolled, clock, 1)
        out = await press(enrolled, reply, a.Did, session=a.Session.DONE)
        assert out.edit is not None and "worst pain during the exercises" in out.edit.text
        out = await press(enrolled, out.edit, a.ExercisePain, pain=2)
        assert out.edit is not None and "pain at rest right now" in out.edit.text
        out = await press(enrolled, out.edit, a.RestPain, pain=1)
        assert out.edit is not None and "All recorded for today" in out.edit.text
        assert "done, exercise pain 2/10, pain 1/10" in out.edit.text
        assert {x.question for x in actions(out.edit) if isinstance(x, a.Revise)} == set(
            a.DailyQuestion
        )
        stored = await answers(enrolled, 1)
        assert (stored.adherence, stored.exercise_pain, stored.pain) == ("done", 2, 1)

    async def test_not_today_skips_the_exercise_pain(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        reply = await prompt(enrolled, clock, 1)
        out = await press(enrolled, reply, a.Did, session=a.Session.SKIPPED)
        assert out.edit is not None and "pain at rest right now" in out.edit.text

    async def test_the_same_answer_again_changes_nothing_and_another_corrects(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        reply = await check_in(enrolled, clock, 1, pain=3)
        again = await enrolled.checkin.answer(ME, a.RestPain(find(reply, a.Revise).check_in, 3))
        assert not again.accepted and again.notice == "Already recorded - thank you."
        revise = await press(enrolled, reply, a.Revise, question=a.DailyQuestion.REST_PAIN)
        assert revise.edit is not None and "pain at rest right now" in revise.edit.text
        fixed = await press(enrolled, revise.edit, a.RestPain, pain=2)
        assert fixed.edit is not None and "pain 2/10" in fixed.edit.text
        stored = await answers(enrolled, 1)
        assert stored.pain == 2

    async def test_switching_to_not_today_drops_the_exercise_pain(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """Exercise pain belongs to a session: corrected to "not today", it is no longer held."""
        reply = await check_in(enrolled, clock, 1, effort=6)
        revise = await press(enrolled, reply, a.Revise, question=a.DailyQuestion.SESSION)
        assert revise.edit is not None
        out = await press(enrolled, revise.edit, a.Did, session=a.Session.SKIPPED)
        assert out.edit is not None and "exercise pain" not in out.edit.text

    async def test_each_press_is_one_transaction(
        self, enrolled: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Stored, through the rules and recorded in one write transaction (spec: committed
        before it is acknowledged)."""
        reply = await prompt(enrolled, clock, 1)
        count = _count_transactions(enrolled, monkeypatch)
        out = await press(enrolled, reply, a.Did, session=a.Session.DONE)
        assert out.accepted and next(count) == 1


class TestBadInput:
    async def test_forged_or_stale_answers_change_nothing(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """Out-of-range values, someone else's check-in, an exercise pain with no session."""
        reply = await prompt(enrolled, clock, 1)
        check_in = find(reply, a.Did, session=a.Session.DONE).check_in
        for action in (a.RestPain(check_in, 11), a.ExercisePain(check_in, 3),
                       a.Check(check_in, "fly", True), a.Function(check_in, 5)):  # fmt: skip
            out = await enrolled.checkin.answer(ME, action)
            assert not out.accepted and out.notice == "That button belongs to an earlier question."
        stranger = await enrolled.checkin.answer(Who(99, 99), a.RestPain(check_in, 3))
        assert not stranger.accepted
        stored = await answers(enrolled, 1)
        assert (stored.pain, stored.exercise_pain, stored.checks) == (None, None, ())

    async def test_a_typed_number_answers_the_current_0_10_question(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """After Done, a typed "3" is the exercise pain; then a typed "1" the pain at rest."""
        reply = await prompt(enrolled, clock, 1)
        await press(enrolled, reply, a.Did, session=a.Session.DONE)
        first = await enrolled.checkin.typed_number(ME, "3")
        assert first is not None and "pain at rest" in first.replies[-1].text
        second = await enrolled.checkin.typed_number(ME, " 1 ")
        assert second is not None and "All recorded" in second.replies[-1].text
        assert await enrolled.checkin.typed_number(ME, "three") is None


class TestRules:
    async def test_checks_are_asked_when_due_and_a_yes_moves_the_phase_on(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """Days 1-4 fine: walk_normal is asked on day 5; "no" keeps isometric, and the phase
        change on "yes" (asked again on day 7) is explained in one sentence."""
        for day in range(1, 5):
            await check_in(enrolled, clock, day)
        reply = await check_in(enrolled, clock, 5)
        assert "walk at your normal pace" in reply.text
        out = await press(enrolled, reply, a.Check, check="walk_normal", passed=False)
        assert out.edit is not None and "All recorded" in out.edit.text
        reply = await check_in(enrolled, clock, 6)
        assert "walk at your normal pace" not in reply.text  # a "no" is not asked the next day
        reply = await check_in(enrolled, clock, 7)
        out = await press(enrolled, reply, a.Check, check="walk_normal", passed=True)
        assert any("From tomorrow you move on to" in r.text and "Movement and control" in r.text
                   for r in out.replies)  # fmt: skip
        assert (await user(enrolled)).phase == "mobility"

    async def test_the_weekly_screen_and_a_yes_escalates(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """Day 7 asks the weekly screen after the ratings; numbness escalates urgently."""
        for day in range(1, 7):
            await check_in(enrolled, clock, day)
        reply = await check_in(enrolled, clock, 7)
        reply = (
            await press(enrolled, reply, a.Check, check="walk_normal", passed=False)
        ).edit or reply
        assert "Weekly safety check" in reply.text
        flag = "numbness_tingling_or_weakness"
        out = await press(enrolled, reply, a.Screen, kind=a.ScreenKind.WEEKLY, flag=flag)
        assert any("see a doctor today" in r.text for r in out.replies)
        assert (await user(enrolled)).status == Status.ESCALATED

    async def test_none_of_these_closes_the_screen(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        for day in range(1, 7):
            await check_in(enrolled, clock, day)
        reply = await check_in(enrolled, clock, 7)
        reply = (
            await press(enrolled, reply, a.Check, check="walk_normal", passed=False)
        ).edit or reply
        out = await press(enrolled, reply, a.Screen, kind=a.ScreenKind.WEEKLY, flag=None)
        assert out.edit is not None and "Weekly safety check" not in out.edit.text
        assert (await user(enrolled)).status == Status.ACTIVE

    async def test_an_urgent_escalation_is_cleared_in_two_steps(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """The first tap asks to confirm, Cancel changes nothing, "Yes, I'm sure" resumes."""
        await enrolled.checkin.report_symptom(ME, a.Symptom("calf_swelling_redness"))
        assert (await user(enrolled)).status == Status.ESCALATED
        reply = await prompt(enrolled, clock, 1)
        assert "No exercises until a professional has checked you" in reply.text
        confirm = await press(enrolled, reply, a.ClearStart)
        assert confirm.edit is not None and "Just to be sure" in confirm.edit.text
        cancelled = await press(enrolled, confirm.edit, a.ClearCancel)
        assert (await user(enrolled)).status == Status.ESCALATED and cancelled.replies
        cleared = await press(enrolled, confirm.edit, a.ClearConfirm)
        assert any("start again tomorrow" in r.text for r in cleared.replies)
        assert (await user(enrolled)).status == Status.ACTIVE
        assert "Today's exercises" in (await prompt(enrolled, clock, 2)).text or "rest day" in (
            await prompt(enrolled, clock, 2)).text  # fmt: skip

    async def test_a_routine_hold_asks_seen_weekly_and_seen_lifts_it(
        self, services: Services, clock: FakeClock
    ) -> None:
        """A previous injury: routine advice with a hold; day 7 asks "seen a professional yet?";
        "Not yet" finishes the day, "I've seen a professional" lifts the hold."""
        clock.now = START
        await enrol(services, STRAIN.model_copy(update={"previous_injury": True}))
        for day in range(1, 7):
            await check_in(services, clock, day)
        reply = await check_in(services, clock, 7)
        reply = (
            await press(services, reply, a.Check, check="walk_normal", passed=False)
        ).edit or reply
        screen = await press(services, reply, a.Screen, kind=a.ScreenKind.WEEKLY, flag=None)
        assert (
            screen.edit is not None
            and "seen a professional about my advice yet" in screen.edit.text
        )
        later = await press(services, screen.edit, a.Seen, seen=False)
        assert later.edit is not None and "All recorded" in later.edit.text
        seen = await press(services, screen.edit, a.Seen, seen=True)
        assert any("good that you've been seen" in r.text for r in seen.replies)
        assert not (await services.course.current(ME.telegram_user_id)).held

    async def test_symptom_escalates_at_once_any_day(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """On the enrolment day itself; the same symptom again the same day adds nothing."""
        menu = await enrolled.checkin.symptom(ME)
        assert len(actions(menu.replies[0])) == len(enrolled.content.red_flags) + 1
        out = await enrolled.checkin.report_symptom(ME, a.Symptom("fever_or_unwell"))
        assert "see a doctor today" in out.replies[0].text
        again = await enrolled.checkin.report_symptom(ME, a.Symptom("fever_or_unwell"))
        assert not again.accepted
        course = await enrolled.course.current(ME.telegram_user_id)
        assert [(e.day, e.reason) for e in course.escalations] == [(0, "fever_or_unwell")]
        none = await enrolled.checkin.report_symptom(ME, a.Symptom(None))
        assert "none of the warning signs" in none.replies[0].text


class TestTheEndOfTheDay:
    """Each tap is applied as it comes, but the rules judged at the end of a day (silence, no
    improvement, progression) wait for its rating, and what an ended day decided is told at the
    next tap, not never."""

    async def test_back_after_a_silent_week_done_does_not_pause(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """Rated on day 1, silent days 2-7: on day 8 "Done" and the exercise pain say nothing
        of a pause, and the rating keeps the course active."""
        await check_in(enrolled, clock, 1, pain=2)
        reply = await prompt(enrolled, clock, 8)
        said: list[str] = []
        for action_type, fields in ((a.Did, {"session": a.Session.DONE}),
                                    (a.ExercisePain, {"pain": 1}), (a.RestPain, {"pain": 2})):  # fmt: skip
            out = await press(enrolled, reply, action_type, **fields)
            reply = out.edit or reply
            said += [r.text for r in out.replies]
        assert not [text for text in said if "paused" in text]
        assert (await user(enrolled)).status == Status.ACTIVE.value

    async def test_no_improvement_decided_at_the_end_of_a_day_is_told_the_next_day(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        """Rest pain 4 (the baseline) on days 1-6; on day 7 only "Done": nothing is decided
        while day 7 goes on; at its end rule 4 escalates (no improvement, no downward trend),
        and day 8's first tap tells it, once."""
        for day in range(1, 7):
            await check_in(enrolled, clock, day, pain=4)
        reply = await prompt(enrolled, clock, 7)
        out = await press(enrolled, reply, a.Did, session=a.Session.DONE)
        assert not [r for r in out.replies if "not improved" in r.text]
        reply = await prompt(enrolled, clock, 8)
        out = await press(enrolled, reply, a.Did, session=a.Session.DONE)
        assert [r for r in out.replies if "not improved" in r.text]
        out = await press(enrolled, out.edit or reply, a.ExercisePain, pain=1)
        assert not [r for r in out.replies if "not improved" in r.text]
        async with enrolled.db.read() as session:
            recorded = await repo.recorded_escalations(session, (await user(enrolled)).id)
        assert [(e.reason, e.day) for e in recorded] == [("no_improvement", 7)]


class TestPrompts:
    async def test_a_week_of_silence_pauses_and_a_completed_course_sends_nothing(
        self, enrolled: Services, clock: FakeClock
    ) -> None:
        from coachbot.storage import dispatch

        await check_in(enrolled, clock, 1)
        clock.now = START + timedelta(days=10)
        user_id = (await user(enrolled)).id
        async with enrolled.db.transaction() as session:
            record, _ = await repo.show_check_in(session, user_id,
                                                 START.date() + timedelta(days=10), now=clock.now)  # fmt: skip
            (due,) = await dispatch.load_prompts(session, [record.id])
        decision = await enrolled.checkin.decide(due)
        assert decision.pause and decision.reply is not None
        assert "paused your daily prompts" in decision.reply.text


def _count_transactions(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Count the write transactions opened from now on; next() gives the count so far."""
    opened = [0]
    original = services.db.transaction

    @asynccontextmanager
    async def counting() -> AsyncIterator[Any]:
        opened[0] += 1
        async with original() as session:
            yield session

    monkeypatch.setattr(services.db, "transaction", counting)

    def counts() -> Iterator[int]:
        while True:
            yield opened[0]

    return counts()


class TestWords:
    def test_each_exercise_says_how_often(self, services: Services) -> None:
        """An every-other-day or every-third-day exercise says so beside its dosage (a daily one
        needs no note), and the one pain scale follows with the group's zones."""
        from coachbot.domain.phases import Group
        from coachbot.services.advice import Advice

        content = services.content
        by_every = {e.every: e for e in content.exercises if e.load != "rest"}
        text = Advice(content).exercises([by_every[1], by_every[2], by_every[3]], Group.TENDON)
        lines = text.splitlines()
        assert "(every other day)" in next(line for line in lines if by_every[2].name in line)
        assert "(every third day)" in next(line for line in lines if by_every[3].name in line)
        assert "(every" not in next(line for line in lines if by_every[1].name in line)
        assert "0-3 out of 10 is fine" in text and "6 or more is over your limit" in text
