"""The enrolment dialog at the service level: every answer stored as given, bad answers re-asked,
the v2 questions asked when they apply, and day 0's plan at the end."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from coachbot.clock import FakeClock
from coachbot.services.actions import Answer, IntakeFlag, Question, Restart
from coachbot.services.container import Services
from coachbot.services.replies import Outcome, Reply
from coachbot.services.who import Who
from coachbot.storage import repositories as repo
from coachbot.storage.models import Escalation, RedFlagAnswer, User

ME = Who(telegram_user_id=42, chat_id=42)
Q = Question


def labels(outcome: Outcome) -> list[str]:
    return [b.label for r in outcome.replies for row in r.buttons for b in row]


def last_text(outcome: Outcome) -> str:
    return outcome.replies[-1].text


def asked_flag(outcome: Outcome) -> str | None:
    """The red flag the last message asks about (None: not a red-flag question)."""
    actions = (
        [b.action for row in outcome.replies[-1].buttons for b in row] if outcome.replies else []
    )
    return next((act.flag for act in actions if isinstance(act, IntakeFlag)), None)


async def user_row(services: Services) -> repo.UserRecord | None:
    async with services.db.read() as session:
        return await repo.get_user(session, ME.telegram_user_id)


async def answer(services: Services, *steps: tuple[Question, str]) -> Outcome:
    """Answer each question in turn (typed where the dialog takes typing); everything said."""
    said: list[Reply] = []
    for question, value in steps:
        if question in (Q.AGE, Q.ACTIVITY):
            outcome = await services.enrolment.text(ME, value)
        else:
            outcome = await services.enrolment.press(ME, Answer(question, value))
        assert outcome.accepted, (question, value, outcome)
        said += outcome.replies
    return Outcome(tuple(said))


async def screening(
    services: Services, first: Outcome, yes: Sequence[str] = ()
) -> tuple[Outcome, list[str]]:
    """Answer every red-flag question asked (yes to those in `yes`); the last outcome and the
    flags that were asked, in order."""
    outcome, asked = first, []
    while (flag := asked_flag(outcome)) is not None:
        asked.append(flag)
        outcome = await services.enrolment.press(ME, IntakeFlag(flag, flag in yes))
        assert outcome.accepted
    return outcome, asked


def facts(injury: str = "hamstring_strain", **changes: str) -> list[tuple[Question, str]]:
    """The intake questions of a strain (sudden, 2 days ago, sprint, middle, grade 2, limping,
    no previous injury, pain 5, sport, no activity), with `changes` by question value."""
    steps = [(Q.CONSENT, "yes"), (Q.INJURY, injury), (Q.AGE, "30"), (Q.ONSET, "sudden"),
             (Q.ONSET_DAYS, "2"), (Q.MECHANISM, "sprint"), (Q.LOCATION, "middle"),
             (Q.GRADE, "2"), (Q.WALKING, "limp"), (Q.PREVIOUS_INJURY, "no"),
             (Q.BASELINE_PAIN, "5"), (Q.GOAL, "sport"), (Q.ACTIVITY, "skip")]  # fmt: skip
    steps = [(q, changes.get(q.value, v)) for q, v in steps]
    if injury != "hamstring_strain":
        steps = [(q, v) for q, v in steps if q is not Q.GRADE]
    if dict(steps)[Q.ONSET] == "gradual":
        steps = [(q, v) for q, v in steps if q is not Q.MECHANISM]
    return steps


async def enrol_to_red_flags(
    services: Services, injury: str = "hamstring_strain", **changes: str
) -> Outcome:
    await services.enrolment.start(ME)
    return await answer(services, *facts(injury, **changes))


async def enrol(services: Services, injury: str = "hamstring_strain", yes: Sequence[str] = (),
                **changes: str) -> Outcome:  # fmt: skip
    first = await enrol_to_red_flags(services, injury, **changes)
    said, _ = await screening(services, first, yes)
    await answer(services, (Q.REMINDER_TIME, "08:00"))
    return await services.enrolment.press(ME, Answer(Q.TIMEZONE, "Europe/Paris"))


class TestHappyPath:
    async def test_a_full_enrolment_stores_everything_and_ends_with_day_0s_plan(
        self, services: Services, clock: FakeClock
    ) -> None:
        """Consent to time zone: each fact stored, status active, the first prompt due tomorrow,
        the summary, then today's plan (day 0) with its exercises."""
        first = await services.enrolment.start(ME)
        assert "not a clinician" in first.replies[0].text
        done = await enrol(services)
        texts = [r.text for r in done.replies if r.animation is None]
        summary, plan = texts[-2], texts[-1]
        pictures = [r.animation for r in done.replies if r.animation is not None]
        assert pictures == ["rest_and_protect", "ice_and_elevate", "gentle_walk"]  # after the plan
        assert "You're enrolled" in summary and "08:00 (Europe/Paris)" in summary
        assert "Goal: Running and sport" in summary
        assert "Your plan starts today" in plan and "Protect" in plan
        assert "Ice and raise the leg" in plan
        user = await user_row(services)
        assert user is not None
        assert (user.status, user.injury, user.age, user.grade, user.baseline_pain) == (
            "active", "hamstring_strain", 30, 2, 5)  # fmt: skip
        assert (user.mechanism, user.walking, user.previous_injury, user.goal, user.activity) == (
            "sprint", "limp", False, "sport", None)  # fmt: skip
        assert user.enrolment_step is None
        # 24 Nov 09:00 UTC is 10:00 in Paris: the first prompt is tomorrow 08:00 Paris = 07:00 UTC.
        assert user.next_prompt_at is not None
        assert user.next_prompt_at.isoformat() == "2026-11-25T07:00:00+00:00"

    async def test_every_answer_is_stored_as_it_is_given(self, services: Services) -> None:
        """After each answer the user row already holds it and points at the next question."""
        await services.enrolment.start(ME)
        await answer(services, (Q.CONSENT, "yes"), (Q.INJURY, "hamstring_contusion"))
        user = await user_row(services)
        assert user is not None and (user.injury, user.enrolment_step) == (
            "hamstring_contusion",
            "age",
        )
        await services.enrolment.text(ME, "41")
        user = await user_row(services)
        assert user is not None and (user.age, user.enrolment_step) == (41, "onset")

    async def test_the_mechanism_is_asked_only_after_a_sudden_onset(
        self, services: Services
    ) -> None:
        """Sudden: how it happened; gradual: straight to where it hurts."""
        await services.enrolment.start(ME)
        sudden = await answer(services, *facts("unsure")[:5])
        assert "How did it happen" in last_text(sudden)
        other = Who(43, 43)
        await services.enrolment.start(other)
        for question, value in facts("unsure", onset="gradual")[:4]:
            if question is Q.AGE:
                await services.enrolment.text(other, value)
            else:
                await services.enrolment.press(other, Answer(question, value))
        gradual = await services.enrolment.text(other, "30")
        assert "Where on the back of your thigh" in last_text(gradual)

    async def test_grade_is_asked_only_for_strains(self, services: Services) -> None:
        """After the location a cramp goes on to walking; a strain is asked its grade."""
        await services.enrolment.start(ME)
        out = await answer(services, *facts("hamstring_cramp")[:7])
        assert "walk" in last_text(out).lower() and "grade" not in last_text(out)

    async def test_the_function_score_is_asked_only_for_a_named_activity(
        self, services: Services
    ) -> None:
        """A named activity asks how able they are now (0-10); Skip goes to the safety questions."""
        out = await enrol_to_red_flags(services, **{"activity": "climbing stairs at work"})
        assert "How able are you to do this now" in last_text(out)
        assert "climbing stairs at work" in last_text(out)
        out = await answer(services, (Q.FUNCTION_BASELINE, "4"))
        assert asked_flag(out) is not None
        user = await user_row(services)
        assert user is not None and (user.activity, user.function_baseline) == (
            "climbing stairs at work",
            4,
        )

    async def test_an_activity_over_60_characters_is_refused(self, services: Services) -> None:
        """61 characters are refused with the limit; 60 are taken."""
        await services.enrolment.start(ME)
        await answer(services, *facts()[:-1])
        out = await services.enrolment.text(ME, "x" * 61)
        assert not out.accepted and "60 characters" in last_text(out)
        out = await services.enrolment.text(ME, "x" * 60)
        assert out.accepted


class TestUnder16:
    async def test_an_under_16_is_turned_away_and_nothing_is_kept(self, services: Services) -> None:
        """15: the safety advice first, then who can help; no row about them remains."""
        await services.enrolment.start(ME)
        out = await answer(
            services, (Q.CONSENT, "yes"), (Q.INJURY, "hamstring_strain"), (Q.AGE, "15")
        )
        assert "call 112" in out.replies[-2].text
        assert "16 and over" in last_text(out) and "parent" in last_text(out)
        assert await user_row(services) is None

    async def test_16_goes_on(self, services: Services) -> None:
        await services.enrolment.start(ME)
        out = await answer(
            services, (Q.CONSENT, "yes"), (Q.INJURY, "hamstring_strain"), (Q.AGE, "16")
        )
        assert "suddenly" in last_text(out).lower()


class TestRedFlags:
    async def test_the_screening_asks_only_the_flags_of_spec_1_3_at_enrolment(
        self, services: Services
    ) -> None:
        """No daily-activities question at enrolment (W only); a hard lump only for a blow at
        least 14 days old."""
        first = await enrol_to_red_flags(services)
        _, asked = await screening(services, first)
        assert "limits_daily_activities" not in asked and "hard_lump_after_bruise" not in asked
        assert len(asked) == 10 and "Safety question 1 of 10" in first.replies[-1].text

    async def test_a_old_bruise_is_asked_about_a_hard_lump(self, services: Services) -> None:
        first = await enrol_to_red_flags(services, "hamstring_contusion",
                                         **{"onset_days": "20", "mechanism": "blow"})  # fmt: skip
        _, asked = await screening(services, first)
        assert "hard_lump_after_bruise" in asked

    async def test_a_yes_is_answered_at_once_with_its_level_and_stored(
        self, services: Services
    ) -> None:
        """A yes to an emergency flag gets the emergency advice before the next question."""
        await enrol_to_red_flags(services)
        out = await services.enrolment.press(
            ME, IntakeFlag("saddle_numbness_or_bladder_bowel", True)
        )
        assert "emergency number" in out.replies[0].text
        assert "Safety question 2 of 10" in last_text(out)
        async with services.db.read() as session:
            answers = (
                await session.execute(select(RedFlagAnswer.flag_id, RedFlagAnswer.answer))
            ).all()
            levels = (await session.execute(select(Escalation.level, Escalation.reason))).all()
        assert answers == [("saddle_numbness_or_bladder_bowel", True)]
        assert levels == [("emergency", "saddle_numbness_or_bladder_bowel")]

    async def test_an_urgent_flag_ends_in_escalated_with_no_plan(self, services: Services) -> None:
        """After an urgent flag the program does not start: no day-0 plan, daily check-ins only."""
        done = await enrol(services, yes=["cannot_bear_weight"])
        assert "see a professional before starting" in last_text(done)
        user = await user_row(services)
        assert user is not None and user.status == "escalated" and user.phase == "protect"
        assert user.next_prompt_at is not None

    async def test_a_routine_flag_keeps_the_program(self, services: Services) -> None:
        """A routine flag is advised and the program still starts, with today's plan."""
        done = await enrol(services, yes=["night_pain_or_weight_loss"])
        texts = [r.text for r in done.replies if r.animation is None]
        assert "book the appointment" in texts[-2]
        assert "Your plan starts today" in texts[-1]
        user = await user_row(services)
        assert user is not None and user.status == "active" and user.next_prompt_at is not None

    async def test_not_being_able_to_walk_is_the_red_flag_and_is_not_asked_again(
        self, services: Services
    ) -> None:
        """walking: cannot -> the urgent advice right after the pain question; the flag's own
        question is then not asked."""
        out = await enrol_to_red_flags(services, walking="cannot")
        assert any("see a doctor today" in r.text for r in out.replies)
        _, asked = await screening(services, out)
        assert "cannot_bear_weight" not in asked and len(asked) == 9

    async def test_a_referral_injury_is_advised_right_after_the_pain_question(
        self, services: Services
    ) -> None:
        """An avulsion is referred (urgent) as soon as the facts are in, before the screening."""
        out = await enrol_to_red_flags(
            services, "hamstring_avulsion", location="upper", baseline_pain="6"
        )
        assert any("see a doctor today" in r.text for r in out.replies)
        assert "Safety question 1 of" in last_text(out)

    async def test_a_previous_injury_is_a_routine_referral(self, services: Services) -> None:
        """The same injury within a year: "keeps coming back" (seed 003), routine, with a hold."""
        out = await enrol_to_red_flags(services, previous_injury="yes")
        assert any("coming back" in r.text and "book an appointment" in r.text for r in out.replies)

    async def test_an_adult_with_sudden_severe_sit_bone_pain_is_referred(
        self, services: Services
    ) -> None:
        """42, sudden, upper, pain 8: urgent suspected avulsion whatever was picked (rule 3)."""
        await services.enrolment.start(ME)
        steps = [(q, v) for q, v in facts(location="upper", baseline_pain="8") if q is not Q.AGE]
        out = await answer(services, *steps[:2], (Q.AGE, "42"), *steps[2:])
        assert any("see a doctor today" in r.text and "X-ray" in r.text for r in out.replies)


class TestBadInput:
    async def test_free_text_where_a_button_is_expected_re_asks_with_the_keyboard(
        self, services: Services
    ) -> None:
        """Typing at the injury question asks again, keyboard included; nothing is stored."""
        await services.enrolment.start(ME)
        await answer(services, (Q.CONSENT, "yes"))
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
        await answer(services, (Q.CONSENT, "yes"), (Q.INJURY, "unsure"))
        out = await services.enrolment.text(ME, "150")
        assert "between 10 and 110" in last_text(out)
        assert "How old are you" in last_text(out)

    async def test_unknown_time_zone_is_echoed_escaped(self, services: Services) -> None:
        """An unknown zone is quoted back safely (HTML-escaped) with examples."""
        first = await enrol_to_red_flags(services)
        await screening(services, first)
        await answer(services, (Q.REMINDER_TIME, "07:30"))
        out = await services.enrolment.text(ME, "<b>Mars</b> & co")
        assert "&lt;b&gt;Mars&lt;/b&gt; &amp; co" in last_text(out)

    async def test_a_stale_button_changes_nothing(self, services: Services) -> None:
        """Pressing an injury button at the age question is answered as stale and stores nothing."""
        await services.enrolment.start(ME)
        await answer(services, (Q.CONSENT, "yes"), (Q.INJURY, "unsure"))
        out = await services.enrolment.press(ME, Answer(Q.INJURY, "hamstring_strain"))
        assert not out.accepted and out.notice is not None
        user = await user_row(services)
        assert user is not None and user.injury == "unsure" and user.enrolment_step == "age"

    async def test_a_forged_value_or_flag_is_refused(self, services: Services) -> None:
        """A tampered button (a walking answer 'maybe', a flag not being asked) stores nothing."""
        await services.enrolment.start(ME)
        await answer(services, *facts()[:8])
        out = await services.enrolment.press(ME, Answer(Q.WALKING, "maybe"))
        assert not out.accepted
        first = await answer(services, *facts()[8:])
        assert asked_flag(first) == "saddle_numbness_or_bladder_bowel"
        out = await services.enrolment.press(ME, IntakeFlag("fever_or_unwell", True))
        assert not out.accepted
        async with services.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(RedFlagAnswer)) == 0

    async def test_an_over_long_message_is_refused_politely(self, services: Services) -> None:
        """5000 characters get 'too long' and the question again."""
        await services.enrolment.start(ME)
        await answer(services, (Q.CONSENT, "yes"), (Q.INJURY, "unsure"))
        out = await services.enrolment.text(ME, "9" * 5000)
        assert "too long" in last_text(out)


class TestRestart:
    async def test_second_start_mid_dialog_resumes_the_same_question(
        self, services: Services
    ) -> None:
        """/start halfway through asks the unanswered question again, nothing lost."""
        await services.enrolment.start(ME)
        await answer(services, (Q.CONSENT, "yes"), (Q.INJURY, "unsure"))
        out = await services.enrolment.start(ME)
        assert "How old are you" in last_text(out)

    async def test_second_start_mid_screening_resumes_the_next_flag(
        self, services: Services
    ) -> None:
        first = await enrol_to_red_flags(services)
        await services.enrolment.press(ME, IntakeFlag("saddle_numbness_or_bladder_bowel", False))
        out = await services.enrolment.start(ME)
        assert asked_flag(out) == "cold_pale_leg" and asked_flag(first) != asked_flag(out)

    async def test_enrolled_user_can_keep_or_start_over(self, services: Services) -> None:
        """/start after enrolling offers keep or restart; restart clears the intake and the log."""
        await enrol(services, yes=["night_pain_or_weight_loss"])
        offer = await services.enrolment.start(ME)
        assert labels(offer) == ["Keep my program", "Start over"]
        kept = await services.enrolment.restart(ME, Restart(start_over=False))
        assert "carries on" in last_text(kept)
        await services.enrolment.start(ME)
        again = await services.enrolment.restart(ME, Restart(start_over=True))
        assert "Which of these" in last_text(again)
        async with services.db.read() as session:
            flags = await session.scalar(select(func.count()).select_from(RedFlagAnswer))
            users = (await session.execute(select(User.injury, User.status, User.goal))).all()
        assert flags == 0
        assert users == [(None, "enrolling", None)]
