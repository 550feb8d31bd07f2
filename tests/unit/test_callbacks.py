"""Button data (coachbot/bot/callbacks.py): what `encode` writes decodes back to the same action,
and what would not is refused when the button is made, never sent to a user."""

from __future__ import annotations

import pytest

from coachbot.bot.callbacks import MAX_ROW_ID, decode, encode
from coachbot.services import actions as a

ROUND_TRIPS = [
    a.Did(check_in=1, session=a.Session.DONE),
    a.Did(check_in=MAX_ROW_ID, session=a.Session.SKIPPED),
    a.RestPain(check_in=0, pain=10),
    a.Check(check_in=42, check="single_leg_bridge", passed=True),
    a.Screen(check_in=42, kind=a.ScreenKind.WEEKLY, flag=None),
    a.Screen(check_in=43, kind=a.ScreenKind.WEEKLY, flag="numbness"),
    a.Symptom(flag="numbness"),
    a.ShowExercise(exercise="isometric_bridge"),
    a.Answer(question=a.Question.REMINDER_TIME, value="07:30"),
]


@pytest.mark.parametrize("action", ROUND_TRIPS, ids=repr)
def test_a_button_decodes_to_the_action_it_was_made_for(action: a.Action) -> None:
    assert decode(encode(action)) == action


@pytest.mark.parametrize(
    "action",
    [
        a.Did(check_in=MAX_ROW_ID + 1, session=a.Session.DONE),  # beyond a 32-bit row id
        a.Did(check_in=-1, session=a.Session.DONE),
        a.RestPain(check_in=7, pain=-3),
        a.Check(check_in=7, check="has|bar", passed=True),  # would split into other fields
        a.Symptom(flag="Not An Id"),
        a.ShowExercise(exercise="x" * 60),  # over Telegram's 64 bytes
        a.Answer(question=a.Question.REMINDER_TIME, value="seven o'clock"),
    ],
    ids=repr,
)
def test_a_button_that_would_not_decode_is_refused_when_made(action: a.Action) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        encode(action)


def test_numbers_are_checked_for_every_button_not_only_the_first_of_a_kind() -> None:
    encode(a.RestPain(check_in=5, pain=3))  # the kind's round trip is known good now
    with pytest.raises(ValueError):
        encode(a.RestPain(check_in=5, pain=MAX_ROW_ID + 1))


def test_a_button_without_fields_round_trips() -> None:
    assert decode(encode(a.Report())) == a.Report()
