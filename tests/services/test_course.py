"""The persisted course: answers stored, rules applied, every change recorded with its cause."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coachbot.clock import FakeClock
from coachbot.paths import CONTENT_DIR
from coachbot.services.container import Services
from coachbot.services.course import NotEnrolled
from coachbot.services.simulation import ScenarioDay, load_scenario, simulate
from coachbot.storage import repositories as repo
from coachbot.storage.models import CheckIn, Escalation, PhaseChange
from tests.courses import DAY0, ME, answer_days, enrol


async def stored(services: Services) -> repo.UserRecord:
    async with services.db.transaction() as session:
        user = await repo.get_user(session, ME.telegram_user_id)
    assert user is not None
    return user


SCENARIOS = sorted(
    p.stem for p in (CONTENT_DIR / "scenarios").glob("*.yaml") if p.stem != "under_16"
)


@pytest.mark.parametrize("name", SCENARIOS)
async def test_the_bot_and_the_simulator_agree(
    name: str, services: Services, clock: FakeClock
) -> None:
    """For every shipped scenario (an under-16 is never stored): enrolled through the dialog and
    answered day by day, the stored course is what `coachbot simulate` prints."""
    scenario = load_scenario(CONTENT_DIR / "scenarios" / f"{name}.yaml", services.content)
    expected = simulate(scenario, services.content)
    await enrol(services, scenario)
    user = await stored(services)
    assert (user.phase, user.status) == (
        expected["days"][0]["phase"],
        expected["days"][0]["status"],
    )
    await answer_days(services, list(scenario.days), {})
    course = await services.course.current(ME.telegram_user_id)
    # What the bot holds after the last answer is what the simulator shows for the day after.
    last = len(scenario.days)
    followup = scenario.model_copy(update={"days": (*scenario.days, ScenarioDay())})
    next_day = simulate(followup, services.content)["days"][last + 1]
    assert (course.phase, course.status.value) == (next_day["phase"], next_day["status"])
    assert list(services.course.plan(course, last + 1)) == [e["id"] for e in next_day["exercises"]]
    assert services.course.asks(course, last + 1).names() == next_day["asks"]
    escalations = [(e.day, e.level.value, e.reason) for e in course.escalations]
    assert escalations == [(e["day"], e["level"], e["reason"]) for e in expected["escalations"]]
    user = await stored(services)
    assert (user.phase, user.status) == (course.phase, course.status.value)


async def test_every_change_is_recorded_with_its_reason_and_cause(services: Services) -> None:
    """A flare-up after a progression leaves both in the history, with the numbers behind them."""
    scenario = load_scenario(CONTENT_DIR / "scenarios" / "flare_regression.yaml", services.content)
    await enrol(services, scenario)
    for number, pain in enumerate([2, 2, 2, 6], start=1):
        outcome = await services.course.record_day(
            ME.telegram_user_id, DAY0 + timedelta(days=number), pain=pain
        )
    assert [t.reason for t in outcome.transitions] == ["flare_up"]
    assert [n.kind for n in outcome.notices] == ["rescreen"]
    async with services.db.transaction() as session:
        history = (
            await session.execute(
                select(
                    PhaseChange.phase, PhaseChange.reason, PhaseChange.cause, PhaseChange.started_on
                ).order_by(PhaseChange.id)
            )
        ).all()
    assert history == [
        ("protect", "enrolled", "intake", DAY0),
        (
            "isometric",
            "progression",
            "onset 2 days ago >= 2, pain 2 <= 5",
            DAY0 + timedelta(days=2),
        ),
        (
            "protect",
            "flare_up",
            "pain 6 (lowest of the previous 7 days: 2)",
            DAY0 + timedelta(days=5),
        ),
    ]
    user = await stored(services)
    assert (user.phase, user.phase_since) == ("protect", DAY0 + timedelta(days=5))


async def test_a_red_flag_during_the_course_is_stored_with_its_cause(services: Services) -> None:
    """Calf swelling on day 2: an urgent escalation with day and cause; the status stops."""
    scenario = load_scenario(
        CONTENT_DIR / "scenarios" / "contusion_hard_lump.yaml", services.content
    )
    await enrol(services, scenario)
    outcome = await services.course.record_day(
        ME.telegram_user_id, DAY0 + timedelta(days=2), pain=4, red_flags=("calf_swelling_redness",)
    )
    assert [(e.level.value, e.reason) for e in outcome.escalations] == [
        ("urgent", "calf_swelling_redness")
    ]
    async with services.db.transaction() as session:
        rows = (
            await session.execute(
                select(Escalation.program_day, Escalation.level, Escalation.cause)
            )
        ).all()
    assert rows == [(2, "urgent", "red flag reported on day 2")]
    assert (await stored(services)).status == "escalated"


async def test_a_second_rating_for_a_day_corrects_the_first(services: Services) -> None:
    """Pressing again replaces the day's rating: one check-in, the newer pain."""
    scenario = load_scenario(
        CONTENT_DIR / "scenarios" / "contusion_hard_lump.yaml", services.content
    )
    await enrol(services, scenario)
    day = DAY0 + timedelta(days=1)
    await services.course.record_day(ME.telegram_user_id, day, pain=7)
    await services.course.record_day(ME.telegram_user_id, day, pain=3)
    async with services.db.transaction() as session:
        rows = (await session.execute(select(CheckIn.day, CheckIn.pain))).all()
        count = await session.scalar(select(func.count()).select_from(CheckIn))
    assert rows == [(day, 3)] and count == 1


async def test_answers_before_enrolment_or_out_of_range_are_refused(services: Services) -> None:
    """No course without an enrolment; pain 11 and unknown flags are programming errors."""
    with pytest.raises(NotEnrolled):
        await services.course.record_day(ME.telegram_user_id, DAY0, pain=3)
    scenario = load_scenario(
        CONTENT_DIR / "scenarios" / "contusion_hard_lump.yaml", services.content
    )
    await enrol(services, scenario)
    with pytest.raises(ValueError, match="pain"):
        await services.course.record_day(ME.telegram_user_id, DAY0 + timedelta(days=1), pain=11)
    with pytest.raises(ValueError, match="unknown red flags"):
        await services.course.record_day(
            ME.telegram_user_id, DAY0 + timedelta(days=1), red_flags=("itchy",)
        )
    with pytest.raises(ValueError, match="not after the enrolment day"):
        await services.course.record_day(ME.telegram_user_id, DAY0, pain=3)
