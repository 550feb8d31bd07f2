"""Courses for tests, made through the real services: enrol by the dialog, then answer day by day.

`python -m tests.courses docs/samples` writes the committed sample chart and report of the
90-day course (docs/samples/progress-90-days.png and report-90-days.pdf).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from coachbot.clock import FakeClock
from coachbot.services.actions import Answer, IntakeFlag, Question
from coachbot.services.container import Services, create_services
from coachbot.services.questions import TYPED
from coachbot.services.simulation import Scenario, ScenarioDay
from coachbot.services.who import Who
from coachbot.storage import repositories as repo
from coachbot.storage.migrate import upgrade_to_head

ME = Who(77, 77)
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # enrolment: 09:00 in London
DAY0 = date(2026, 11, 24)  # the enrolment date in Europe/London


async def enrol(services: Services, scenario: Scenario, who: Who = ME) -> None:
    """Enrol through the real dialog with the scenario's intake answers (typed where the dialog
    takes typing, a button otherwise)."""
    answers = {
        Question.CONSENT: "yes", Question.INJURY: scenario.injury, Question.AGE: str(scenario.age),
        Question.ONSET: scenario.onset, Question.ONSET_DAYS: str(scenario.onset_days_ago),
        Question.MECHANISM: scenario.mechanism, Question.LOCATION: scenario.location,
        Question.GRADE: str(scenario.grade) if scenario.grade else "unknown",
        Question.WALKING: scenario.walking,
        Question.PREVIOUS_INJURY: "yes" if scenario.previous_injury else "no",
        Question.BASELINE_PAIN: str(scenario.baseline_pain), Question.GOAL: scenario.goal,
        Question.ACTIVITY: scenario.activity or "skip",
        Question.FUNCTION_BASELINE: str(scenario.function_baseline),
        Question.REMINDER_TIME: "08:00", Question.TIMEZONE: "Europe/London",
    }  # fmt: skip
    outcome = await services.enrolment.start(who)
    while True:
        buttons = [b.action for reply in outcome.replies for row in reply.buttons for b in row]
        flag = next((b for b in buttons if isinstance(b, IntakeFlag)), None)
        if flag is not None:
            yes = flag.flag in scenario.intake_red_flags
            outcome = await services.enrolment.press(who, IntakeFlag(flag.flag, yes))
            continue
        async with services.db.read() as session:
            user = await repo.get_user(session, who.telegram_user_id)
        if user is None or user.enrolment_step is None:
            return
        question = Question(user.enrolment_step)
        if question in TYPED:
            outcome = await services.enrolment.text(who, answers[question])
        else:
            outcome = await services.enrolment.press(who, Answer(question, answers[question]))
        assert outcome.accepted, (question, answers[question])


async def answer_days(
    services: Services, days: list[ScenarioDay], adherence: dict[int, str], who: Who = ME
) -> None:
    """Record each day's answers (day 1 first) as the bot does, with the sessions in `adherence`."""
    for number, entry in enumerate(days, start=1):
        if entry.skip and number not in adherence:
            continue
        answers = entry.entry()
        await services.course.record_day(
            who.telegram_user_id, DAY0 + timedelta(days=number), pain=answers.pain,
            adherence=adherence.get(number, answers.session), exercise_pain=answers.exercise_pain,
            checks=dict(answers.checks), function=answers.function, red_flags=answers.red_flags,
            cleared=answers.cleared, seen=answers.seen,
        )  # fmt: skip


# A strain that settles over twelve weeks: three gaps (the last long enough to pause the
# prompts), two flare-ups within three weeks (a routine referral), a routine red flag on day 45
# and a professional's clearance on day 52.
_GAPS = {*range(10, 13), *range(55, 58), *range(74, 83)}
_PAIN = (
    [6, 5, 4, 3, 2, 2, 2, 1, 1] + [2] * 16 + [5, 4, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] + [6, 5, 3]
)
_PAIN += [2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0] * 4


def _pain(day: int) -> int | None:
    return None if day in _GAPS else _PAIN[day - 1]


# Done most days, partly on some, skipped on a few; none recorded while unrated.
NINETY_DAYS_ADHERENCE = {
    day: "partly" if day % 9 == 0 else "skipped" if day % 13 == 0 else "done"
    for day in range(1, 91)
    if _pain(day) is not None
}
# Goal everyday: each rated day a session with its exercise pain (1, fine) and the checks of
# every phase answered yes (a check answered on a day it was not asked still counts).
_CHECKS = {"walk_normal": True, "walk_brisk": True, "strength_match": True, "stairs": True,
           "daily_activities": True}  # fmt: skip


def _ninety_day(day: int) -> ScenarioDay:
    pain = _pain(day)
    if pain is None:
        return ScenarioDay(skip=True)
    session = NINETY_DAYS_ADHERENCE[day]
    return ScenarioDay(pain=pain, session=session,  # type: ignore[arg-type]
                       exercise_pain=None if session == "skipped" else 1, checks=_CHECKS,
                       red_flags=("limits_daily_activities",) if day == 45 else (),
                       cleared=day == 52)  # fmt: skip


NINETY_DAYS = Scenario(
    injury="hamstring_strain", grade=1, age=34, onset="sudden", onset_days_ago=2,
    location="middle", baseline_pain=6, days=tuple(_ninety_day(day) for day in range(1, 91)),
)  # fmt: skip


async def ninety_day_course(services: Services, clock: FakeClock) -> None:
    """Enrol on DAY0 and answer 90 days; the clock ends on day 90."""
    clock.now = START
    await enrol(services, NINETY_DAYS)
    await answer_days(services, list(NINETY_DAYS.days), NINETY_DAYS_ADHERENCE)
    clock.now = START + timedelta(days=90, hours=10)


async def _render_samples(url: str) -> tuple[bytes, bytes]:
    clock = FakeClock(START)
    services = create_services(url, "Europe/London", clock=clock)
    try:
        await ninety_day_course(services, clock)
        _, chart = await services.progress.progress(ME)
        _, report = await services.progress.report(ME)
    finally:
        await services.close()
    return chart[0].data, report[0].data


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite+aiosqlite:///{tmp}/samples.sqlite3"
        upgrade_to_head(database)
        png, pdf = asyncio.run(_render_samples(database))
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/samples")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "progress-90-days.png").write_bytes(png)
    (directory / "report-90-days.pdf").write_bytes(pdf)
