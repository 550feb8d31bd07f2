"""The enrolment dialog at the service level: every answer stored as given, bad answers re-asked."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from coachbot.clock import FakeClock
from coachbot.services.container import Services
from coachbot.services.enrolment import Who
from coachbot.services.replies import Choice, Outcome
from coachbot.storage import repositories as repo
from coachbot.storage.models import Escalation, RedFlagAnswer, User

ME = Who(telegram_user_id=42, chat_id=42)


def labels(outcome: Outcome) -> list[str]:
    return [b.label for r in outcome.replies for row in r.buttons for b in row]


def last_text(outcome: Outcome) -> str:
    return outcome.replies[-1].text


async def user_row(services: Services) -> repo.UserRecord | None:
    async with services.db.transaction() as session:
        return await repo.get_user(session, ME.telegram_user_id)


async def answer(services: Services, *steps: tuple[str, str]) -> Outcome:
    """Press the button `value` for each `step` in turn; return the last outcome."""
    outcome = Outcome()
    for step, value in steps:
        outcome = await services.enrolment.press(ME, Choice(step, value))
        assert outcome.accepted, (step, value, outcome)
    return outcome


def no_red_flags(services: Services, yes: Sequence[str] = ()) -> list[tuple[str, str]]:
    return [
        (f"red_flag:{f.id}", "yes" if f.id in yes else "no") for f in services.content.red_flags
    ]


async def enrol_to_red_flags(services: Services, injury: str = "hamstring_strain") -> None:
    await services.enrolment.start(ME)
    steps = [
        ("consent", "yes"),
        ("injury", injury),
        ("age", "30"),
        ("onset", "sudden"),
        ("onset_days", "2"),
        ("location", "middle"),
    ]
    if injury == "hamstring_strain":
        steps.append(("grade", "2"))
    steps.append(("baseline_pain", "5"))
    await answer(services, *steps)


class TestHappyPath:
    async def test_a_full_enrolment_stores_everything_and_ends_with_the_summary(
        self, services: Services, clock: FakeClock
    ) -> None:
        """Consent to time zone: each fact stored, status active, first prompt due, summary sent."""
        first = await services.enrolment.start(ME)
        assert "not a clinician" in first.replies[0].text
        await enrol_to_red_flags(services)
        await answer(services, *no_red_flags(services), ("reminder_time", "08:00"))
        done = await services.enrolment.press(ME, Choice("timezone", "Europe/Paris"))
        assert "You're enrolled" in last_text(done)
        assert "08:00 (Europe/Paris)" in last_text(done)
        user = await user_row(services)
        assert user is not None
        assert (user.status, user.injury, user.age, user.grade, user.baseline_pain) == (
            "active",
            "hamstring_strain",
            30,
            2,
            5,
        )
        assert user.enrolment_step is None
        # 24 Nov 09:00 UTC is 10:00 in Paris: the first prompt is tomorrow 08:00 Paris = 07:00 UTC.
        assert user.next_prompt_at is not None
        assert user.next_prompt_at.isoformat() == "2026-11-25T07:00:00+00:00"

    async def test_every_answer_is_stored_as_it_is_given(self, services: Services) -> None:
        """After each answer the user row already holds it and points at the next question."""
        await services.enrolment.start(ME)
        await answer(services, ("consent", "yes"), ("injury", "hamstring_contusion"))
        user = await user_row(services)
        assert user is not None and user.injury == "hamstring_contusion"
        assert user.enrolment_step == "age"
        await services.enrolment.text(ME, "41")
        user = await user_row(services)
        assert user is not None and (user.age, user.enrolment_step) == (41, "onset")

    async def test_grade_is_not_asked_for_other_injuries(self, services: Services) -> None:
        """After the location, a cramp goes straight to the pain question."""
        await services.enrolment.start(ME)
        out = await answer(
            services,
            ("consent", "yes"),
            ("injury", "hamstring_cramp"),
            ("age", "30"),
            ("onset", "sudden"),
            ("onset_days", "0"),
            ("location", "lower"),
        )
        assert "How bad is the pain" in last_text(out)


class TestConsent:
    async def test_declining_keeps_nothing(self, services: Services) -> None:
        """'No thanks' erases the row made at /start: nothing about the person is kept."""
        await services.enrolment.start(ME)
        out = await services.enrolment.press(ME, Choice("consent", "no"))
        assert "haven't kept anything" in last_text(out)
        assert await user_row(services) is None


class TestRedFlags:
    async def test_a_yes_is_answered_at_once_with_its_level_and_stored(
        self, services: Services
    ) -> None:
        """A yes to an emergency flag gets the emergency advice before the next question."""
        await enrol_to_red_flags(services)
        out = await services.enrolment.press(
            ME, Choice("red_flag:saddle_numbness_or_bladder_bowel", "yes")
        )
        assert "emergency number" in out.replies[0].text
        assert "Safety question 2 of 12" in last_text(out)
        async with services.db.transaction() as session:
            answers = (
                await session.execute(select(RedFlagAnswer.flag_id, RedFlagAnswer.answer))
            ).all()
            levels = (await session.execute(select(Escalation.level, Escalation.reason))).all()
        assert answers == [("saddle_numbness_or_bladder_bowel", True)]
        assert levels == [("emergency", "saddle_numbness_or_bladder_bowel")]

    async def test_an_urgent_flag_ends_in_escalated_with_no_prompts(
        self, services: Services
    ) -> None:
        """After an urgent flag the program does not start: no prompt is scheduled."""
        await enrol_to_red_flags(services)
        await answer(
            services,
            *no_red_flags(services, yes=["cannot_bear_weight"]),
            ("reminder_time", "08:00"),
        )
        done = await services.enrolment.press(ME, Choice("timezone", "UTC"))
        assert "see a professional before starting" in last_text(done)
        user = await user_row(services)
        assert user is not None and user.status == "escalated" and user.phase == "protect"
        assert user.next_prompt_at is not None

    async def test_a_routine_flag_keeps_the_program(self, services: Services) -> None:
        """A routine flag is advised and the program still starts."""
        await enrol_to_red_flags(services)
        out = await answer(
            services,
            *no_red_flags(services, yes=["limits_daily_activities"]),
            ("reminder_time", "08:00"),
            ("timezone", "UTC"),
        )
        assert "book the appointment" in last_text(out)
        user = await user_row(services)
        assert user is not None and user.status == "active" and user.next_prompt_at is not None

    async def test_a_referral_injury_is_advised_right_after_the_pain_question(
        self, services: Services
    ) -> None:
        """An avulsion is referred (urgent) as soon as the facts are in, before the screening."""
        await services.enrolment.start(ME)
        out = await answer(
            services,
            ("consent", "yes"),
            ("injury", "hamstring_avulsion"),
            ("age", "40"),
            ("onset", "sudden"),
            ("onset_days", "1"),
            ("location", "upper"),
            ("baseline_pain", "6"),
        )
        assert "see a doctor today" in out.replies[0].text
        assert "Safety question 1 of 12" in last_text(out)


class TestBadInput:
    async def test_free_text_where_a_button_is_expected_re_asks_with_the_keyboard(
        self, services: Services
    ) -> None:
        """Typing at the injury question asks again, keyboard included; nothing is stored."""
        await services.enrolment.start(ME)
        await answer(services, ("consent", "yes"))
        out = await services.enrolment.text(ME, "my leg hurts")
        assert not out.accepted
        assert "Please tap one of the buttons" in last_text(out)
        assert "Pulled hamstring" in labels(out)
        user = await user_row(services)
        assert user is not None and user.injury is None and user.enrolment_step == "injury"

    async def test_out_of_range_age_gets_a_specific_message_and_the_same_question(
        self, services: Services
    ) -> None:
        """Age 150 is refused with the allowed range, and the age is asked again."""
        await services.enrolment.start(ME)
        await answer(services, ("consent", "yes"), ("injury", "unsure"))
        out = await services.enrolment.text(ME, "150")
        assert "between 10 and 110" in last_text(out)
        assert "How old are you" in last_text(out)

    async def test_unknown_time_zone_is_echoed_escaped(self, services: Services) -> None:
        """An unknown zone is quoted back safely (HTML-escaped) with examples."""
        await enrol_to_red_flags(services)
        await answer(services, *no_red_flags(services), ("reminder_time", "07:30"))
        out = await services.enrolment.text(ME, "<b>Mars</b> & co")
        assert "&lt;b&gt;Mars&lt;/b&gt; &amp; co" in last_text(out)

    async def test_a_stale_button_changes_nothing(self, services: Services) -> None:
        """Pressing a consent button at the age question is answered as stale and stores nothing."""
        await services.enrolment.start(ME)
        await answer(services, ("consent", "yes"), ("injury", "unsure"))
        out = await services.enrolment.press(ME, Choice("injury", "hamstring_strain"))
        assert not out.accepted and out.notice is not None
        user = await user_row(services)
        assert user is not None and user.injury == "unsure" and user.enrolment_step == "age"

    async def test_a_forged_value_for_the_current_question_is_refused(
        self, services: Services
    ) -> None:
        """A tampered button (pain 11) is treated as invalid input, not stored."""
        await enrol_to_red_flags(services, injury="unsure")  # stops after pain: go back one step
        await services.enrolment.start(ME)
        user = await user_row(services)
        assert (
            user is not None and user.enrolment_step == "red_flag:saddle_numbness_or_bladder_bowel"
        )
        out = await services.enrolment.press(ME, Choice(user.enrolment_step, "maybe"))
        assert not out.accepted

    async def test_an_over_long_message_is_refused_politely(self, services: Services) -> None:
        """5000 characters get 'too long' and the question again."""
        await services.enrolment.start(ME)
        await answer(services, ("consent", "yes"), ("injury", "unsure"))
        out = await services.enrolment.text(ME, "9" * 5000)
        assert "too long" in last_text(out)


class TestRestart:
    async def test_second_start_mid_dialog_resumes_the_same_question(
        self, services: Services
    ) -> None:
        """/start halfway through asks the unanswered question again, nothing lost."""
        await services.enrolment.start(ME)
        await answer(services, ("consent", "yes"), ("injury", "unsure"))
        out = await services.enrolment.start(ME)
        assert "How old are you" in last_text(out)

    async def test_enrolled_user_can_keep_or_start_over(self, services: Services) -> None:
        """/start after enrolling offers keep or restart; restart clears the intake and the log."""
        await enrol_to_red_flags(services)
        await answer(
            services,
            *no_red_flags(services, yes=["hard_lump_after_bruise"]),
            ("reminder_time", "08:00"),
            ("timezone", "UTC"),
        )
        offer = await services.enrolment.start(ME)
        assert labels(offer) == ["Keep my program", "Start over"]
        kept = await services.enrolment.press(ME, Choice("restart", "keep"))
        assert "carries on" in last_text(kept)
        await services.enrolment.start(ME)
        again = await services.enrolment.press(ME, Choice("restart", "restart"))
        assert "Which of these" in last_text(again)
        async with services.db.transaction() as session:
            flags = await session.scalar(select(func.count()).select_from(RedFlagAnswer))
            users = (await session.execute(select(User.injury, User.status))).all()
        assert flags == 0
        assert users == [(None, "enrolling")]
