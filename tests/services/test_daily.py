"""Prompt decisions at the service level: the follow-ups the spec asks for."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from coachbot.services.container import Services
from coachbot.storage import dispatch
from coachbot.storage.dispatch import DuePrompt
from coachbot.testing import add_enrolled_users

from ..factories import ENROLLED


async def due_on(services: Services, database_url: str, day: int, **user: object) -> DuePrompt:
    """User 5's prompt on program day `day` (claimed through the real queries)."""
    await add_enrolled_users(database_url, [5], enrolled_at=ENROLLED, **user)  # type: ignore[arg-type]
    async with services.db.transaction() as session:
        await dispatch.claim_due(session, ENROLLED + timedelta(days=1), limit=1,
                                 max_lateness=timedelta(days=30))  # fmt: skip
        (due,) = await dispatch.take_for_sending(session, ENROLLED + timedelta(days=1), limit=1,
                                                 lease=timedelta(minutes=2))  # fmt: skip
    # The day-1 prompt, moved to program day `day`.
    return replace(due, day=ENROLLED.date() + timedelta(days=day))


@pytest.mark.parametrize(("day", "reminded"), [(6, False), (7, True), (8, False)])
async def test_a_routine_escalation_is_reminded_7_days_later(
    services: Services, database_url: str, day: int, reminded: bool
) -> None:
    """A routine red flag at enrolment: the day-7 prompt (only) asks whether they booked."""
    due = await due_on(services, database_url, day, intake_red_flags=("hard_lump_after_bruise",))
    decision = services.daily.decide(due)
    assert decision.reply is not None
    assert ("have you booked the appointment" in decision.reply.text) is reminded


async def test_the_prompt_lists_the_phase_exercises_with_dosage(
    services: Services, database_url: str
) -> None:
    """Day 1 of a contusion: protect's exercises, each with its dosage, and the safety line."""
    due = await due_on(services, database_url, 1)
    decision = services.daily.decide(due)
    assert decision.reply is not None and not decision.pause
    text = decision.reply.text
    assert "Day 1 - Protect" in text and "15-20 min every few hours" in text
    assert "Stop any exercise that causes sharp pain" in text
    labels = [b.label for row in decision.reply.buttons for b in row]
    assert labels[:3] == ["Done", "Partly", "Not today"] and "10" in labels
