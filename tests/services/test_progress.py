"""/progress, the weekly summary and /report from stored courses: words, pictures, PDFs."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
from PIL import Image

from coachbot.clock import FakeClock
from coachbot.services.actions import Answer, IntakeFlag, Question, Report
from coachbot.services.container import Services
from coachbot.services.simulation import Scenario, ScenarioDay
from coachbot.services.who import Who
from tests.courses import ME, START, answer_days, enrol, ninety_day_course

TELEGRAM_PHOTO_BYTES = 10 * 1024 * 1024  # sendPhoto: at most 10 MB,
TELEGRAM_PHOTO_SIDES = 10_000  # width + height at most 10000, ratio at most 20
TELEGRAM_DOCUMENT_BYTES = 50 * 1024 * 1024

CONTUSION = Scenario(injury="hamstring_contusion", age=30, onset="sudden", onset_days_ago=1,
                     location="middle", baseline_pain=6)  # fmt: skip
# Pain 5, 4, -, 3, 2, 2, 2, 3 (the course tests/unit/test_progress.py works out by hand).
KNOWN_DAYS = [ScenarioDay(pain=p) if p is not None else ScenarioDay(skip=True)
              for p in (5, 4, None, 3, 2, 2, 2, 3)]  # fmt: skip
KNOWN_ADHERENCE = {1: "done", 2: "done", 4: "partly", 5: "done", 6: "skipped", 7: "done", 8: "done"}


def assert_phone_photo(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.verify()
    width, height = image.size
    assert image.format == "PNG" and len(data) < TELEGRAM_PHOTO_BYTES
    assert width + height <= TELEGRAM_PHOTO_SIDES and max(width, height) / min(width, height) < 20
    assert width >= 1000  # sharp on a phone


def pdf_pages(data: bytes) -> int:
    assert data.startswith(b"%PDF-") and len(data) < TELEGRAM_DOCUMENT_BYTES
    return len(re.findall(rb"/Type\s*/Page\b", data))


async def test_the_summary_shows_the_hand_computed_figures(
    services: Services, clock: FakeClock
) -> None:
    await enrol(services, CONTUSION)
    await answer_days(services, KNOWN_DAYS, KNOWN_ADHERENCE)
    clock.now = START + timedelta(days=9)
    outcome, files = await services.progress.progress(ME)
    text = outcome.replies[0].text
    assert "day 9" in text and "Direct blow / bruise" in text
    assert "Phase: <b>Gentle activation</b>" in text
    assert "3 ratings in a row at 2/10 or below" in text
    assert "It also needs 2 exercise session(s)" in text and "1 quick check(s) answered yes" in text
    assert "3 of 7 days (partly on 1) in the last 7 days; 5 of 9 days (partly on 1)" in text
    assert "6/10 when you started; 2.4/10 on average over the last 7 days" in text
    assert "Best day: 2/10 on Tue 1 Dec 2026. Hardest day: 5/10 on Wed 25 Nov 2026." in text
    assert "Still open" not in text
    assert [f.name for f in files] == ["progress.png"]
    assert_phone_photo(files[0].data)


@pytest.mark.parametrize("days", [0, 1, 90])
async def test_chart_and_report_for_an_empty_a_one_day_and_a_90_day_course(
    services: Services, clock: FakeClock, days: int
) -> None:
    if days == 90:
        await ninety_day_course(services, clock)
    else:
        await enrol(services, CONTUSION)
        await answer_days(services, KNOWN_DAYS[:days], {})
        clock.now = START + timedelta(days=days, hours=1)
    _, chart = await services.progress.progress(ME)
    assert_phone_photo(chart[0].data)
    _, report = await services.progress.report(ME)
    assert report[0].name.endswith(".pdf") and pdf_pages(report[0].data) == 1


async def test_the_report_holds_what_a_clinician_needs(
    services: Services, clock: FakeClock
) -> None:
    await ninety_day_course(services, clock)
    data = services.progress.report_data(
        await services.progress.snapshot(ME.telegram_user_id, history=True)
    )
    lines = [
        line for s in (*data.before_chart, *data.after_chart) for line in (s.heading, *s.lines)
    ]
    text = "\n".join(lines)
    assert "not by a clinician" in data.disclaimer
    assert "Pulled hamstring. Age 34. Onset suddenly, 2 days before enrolment" in text
    assert "Strain grade given: 1. Pain at enrolment: 6/10." in text
    assert "At intake: no to all 10 questions." in text
    assert "How it happened: None of these / not sure. Walking: Normally." in text
    assert "Fri 8 Jan 2027 (day 45): reported YES - After the first week, does the pain" in text
    assert [int(d) for d in re.findall(r"\(day (\d+)\): routine appointment", text)] == [40, 42, 45]
    assert "flared up twice within three weeks" in text
    assert "Exercises done (user-reported):" in text
    assert "Tue 24 Nov: Protect (start)" in text and "(flare-up)" in text
    # Maintain ran its 14 days (days 61-74): the program is complete, nothing is prescribed.
    assert "Sun 24 Jan: Keep it away" in text
    assert data.after_chart[-1].lines[0] == "none (exercises on hold or program finished)"
    assert data.progress.today == 90 and len(data.progress.ratings) == 75


async def test_a_report_is_ready_as_soon_as_an_escalation_is_given_during_enrolment(
    services: Services,
) -> None:
    """The escalation message offers the report; mid-screening it shows the answers so far."""
    await services.enrolment.start(ME)
    q = Question
    for question, value in [(q.CONSENT, "yes"), (q.INJURY, "hamstring_contusion"), (q.AGE, "30"),
                            (q.ONSET, "sudden"), (q.ONSET_DAYS, "1"), (q.MECHANISM, "blow"),
                            (q.LOCATION, "middle"), (q.WALKING, "normal"), (q.PREVIOUS_INJURY, "no"),
                            (q.BASELINE_PAIN, "5"), (q.GOAL, "everyday"), (q.ACTIVITY, "skip")]:  # fmt: skip
        if question is q.AGE:
            await services.enrolment.text(ME, value)
        else:
            await services.enrolment.press(ME, Answer(question, value))
    said = await services.enrolment.press(ME, IntakeFlag("saddle_numbness_or_bladder_bowel", True))
    escalation = said.replies[0]
    assert "emergency" in escalation.text.lower()
    assert [b.action for row in escalation.buttons for b in row] == [Report()]
    _, report = await services.progress.report(ME)
    assert pdf_pages(report[0].data) == 1
    data = services.progress.report_data(
        await services.progress.snapshot(ME.telegram_user_id, history=True)
    )
    assert "At intake: 1 of 10 questions answered; YES to: " in "\n".join(
        data.before_chart[0].lines
    )


async def test_nothing_to_report_before_the_intake(services: Services) -> None:
    outcome, files = await services.progress.report(Who(5, 5))
    assert files == () and "once you've answered the first questions" in outcome.replies[0].text
    outcome, files = await services.progress.progress(Who(5, 5))
    assert files == ()


async def test_pictures_are_drawn_in_another_process(services: Services) -> None:
    """Drawing takes 200-300 ms of CPU: it must not run in the bot's process (event loop)."""
    assert await services.renderer.run(os.getpid) != os.getpid()


async def test_the_weekly_summary_is_the_progress_text(
    services: Services, clock: FakeClock
) -> None:
    await enrol(services, CONTUSION)
    await answer_days(services, KNOWN_DAYS, KNOWN_ADHERENCE)
    clock.now = START + timedelta(days=9)
    weekly = await services.progress.weekly(ME.telegram_user_id)
    outcome, _ = await services.progress.progress(ME)
    assert weekly is not None and weekly.text.endswith(outcome.replies[0].text)
    assert "turn it off in /settings" in weekly.text
