"""/progress, /report and the weekly summary over the emulator, as a user sees them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from coachbot.bot.app import AnyApplication
from coachbot.clock import FakeClock
from coachbot.scheduler import Dispatcher
from coachbot.testing import EmulatorClient, SandboxUser

from .flows import Answers, answer_day, consent_and_injury, enrol, intake_facts, screening

pytestmark = pytest.mark.e2e
# 07:45 in Buenos Aires (UTC-3) is 10:45 UTC; enrolment is on the fake clock's 24 Nov.
DAY = datetime(2026, 11, 24, 10, 45, tzinfo=UTC)


async def rate_days(user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock,
                    pains: list[int]) -> None:  # fmt: skip
    for number, pain in enumerate(pains, start=1):
        clock.now = DAY + timedelta(days=number)
        await dispatcher.tick()
        prompt = await user.wait_for(f"Day {number}")
        day = await answer_day(user, prompt, Answers(pain=pain))
        assert f"pain {pain}/10" in day.final.text


async def test_progress_sends_the_summary_then_the_chart(
    bot: AnyApplication, user: SandboxUser, client: EmulatorClient, dispatcher: Dispatcher,
    clock: FakeClock,
) -> None:  # fmt: skip
    await enrol(user)
    await rate_days(user, dispatcher, clock, [5, 4, 4])
    await user.send("/progress")
    summary = await user.wait_for("Your progress - day 3")
    assert "3 of 3 days in the last 7 days" in summary.text
    assert "5/10 when you started; 4.3/10 on average" in summary.text
    chart = await user.wait_for(lambda e: e.photo is not None)
    assert chart.photo is not None and "Shaded bands are phases" in chart.text
    image = Image.open(io.BytesIO(await client.file(chart.photo.file_id)))
    assert image.format == "PNG" and image.size[0] >= 1000


async def test_report_sends_a_pdf(
    bot: AnyApplication, user: SandboxUser, client: EmulatorClient, dispatcher: Dispatcher,
    clock: FakeClock,
) -> None:  # fmt: skip
    await enrol(user)
    await rate_days(user, dispatcher, clock, [4])
    await user.send("/report")
    await user.wait_for("one-page summary of your log")
    sent = await user.wait_for(lambda e: e.document is not None)
    assert sent.document is not None and sent.document.file_name.endswith(".pdf")
    assert sent.document.mime_type == "application/pdf"
    assert (await client.file(sent.document.file_id)).startswith(b"%PDF-")


async def test_every_escalation_message_offers_the_report(
    bot: AnyApplication, user: SandboxUser, client: EmulatorClient
) -> None:
    """A red flag at intake: the advice carries a button that sends the PDF at once."""
    await consent_and_injury(user)
    await intake_facts(user)
    await screening(user, yes=("night_pain_or_weight_loss",))  # the last question
    advice = await user.wait_for("Please book an appointment")
    assert [b.text for row in advice.buttons for b in row] == ["Report for a clinician (PDF)"]
    await user.press("Report for a clinician (PDF)", message_id=advice.message_id)
    sent = await user.wait_for(lambda e: e.document is not None)
    assert sent.document is not None and sent.document.mime_type == "application/pdf"
    await user.send("07:45")  # the enrolment carries on where it was
    await user.wait_for("Which time zone are you in?")


async def test_the_weekly_summary_comes_on_day_7_and_can_be_turned_off(
    bot: AnyApplication, user: SandboxUser, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    await enrol(user)
    await rate_days(user, dispatcher, clock, [5, 4, 4, 3, 3, 3])
    clock.now = DAY + timedelta(days=7)
    await dispatcher.tick()
    weekly = await user.wait_for("Your weekly summary")
    assert "Your progress - day 7" in weekly.text
    prompt = await user.wait_for("Day 7")  # the prompt comes after, its buttons last
    assert prompt.message_id > weekly.message_id
    await user.send("/settings")
    await user.wait_for("Weekly summary: on")
    await user.press("Turn weekly summary off")
    await user.wait_for("The weekly summary is off")
    await answer_day(user, prompt, Answers(pain=2))
    seen: list[str] = []
    for number in range(8, 15):  # rated, so the prompts go on, up to the next weekday
        clock.now = DAY + timedelta(days=number)
        await dispatcher.tick()
        day = await user.wait_for(lambda e, n=number: seen.append(e.text) or f"Day {n}" in e.text)
        await answer_day(user, day, Answers(pain=2))
    assert "Day 14" in seen[-1]
    assert not [text for text in seen if "weekly summary" in text.lower()]
