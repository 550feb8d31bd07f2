"""The progress figures, checked against values worked out by hand for known courses."""

from __future__ import annotations

from fractions import Fraction

import pytest

from coachbot.content import default_content
from coachbot.domain.course import DayInput, replay
from coachbot.domain.progress import Adherence, Band, LogDay, NextStep, summarise, weekly_due
from coachbot.domain.triage import Escalation, IntakeFacts, Level
from coachbot.services.course import catalogue_of

CATALOGUE = catalogue_of(default_content())
CONTUSION = IntakeFacts(injury="hamstring_contusion", age=30, onset="sudden", onset_days_ago=1,
                        location="middle", baseline_pain=6)  # fmt: skip


def course_of(pains: dict[int, int | None], *, facts: IntakeFacts = CONTUSION,
              flags: dict[int, tuple[str, ...]] | None = None, cleared: tuple[int, ...] = ()):  # type: ignore[no-untyped-def]  # fmt: skip
    flags = flags or {}
    last = max([*pains, *flags, *cleared], default=0)
    days = [(d, DayInput(pains.get(d), red_flags=flags.get(d, ()), cleared=d in cleared))
            for d in range(1, last + 1)]  # fmt: skip
    return replay(facts, [], days, CATALOGUE)


# Pain 5, 4, -, 3, 2, 2, 2, 3 from a baseline of 6, one day after a blow: day 1's 5 (<= 5) at
# onset age 2 ends `protect` (isometric from day 2); nothing more moves it on, as no exercise
# pain and no check was ever reported (rule 7 d, e).
KNOWN = {1: 5, 2: 4, 4: 3, 5: 2, 6: 2, 7: 2, 8: 3}
KNOWN_LOG = [LogDay(1, "done"), LogDay(2, "done"), LogDay(4, "partly"), LogDay(5, "done"),
             LogDay(6, "skipped"), LogDay(7, "done"), LogDay(8, "done")]  # fmt: skip


def test_the_summary_of_a_known_course_matches_the_hand_computed_figures() -> None:
    progress = summarise(course_of(KNOWN), KNOWN_LOG, today=9)
    assert progress.phase == "isometric"
    # Day 9 is the 8th day in isometric (needs 3); its last ratings 2, 2, 3 end in a 3 (> 2), so
    # three low ones are needed; two fine sessions and the walk check too.
    assert progress.next_step == NextStep("progress", "mobility", days_left=0, low_ratings_needed=3,
                                          max_pain=2, fine_sessions_needed=2,
                                          checks=("walk_normal",))  # fmt: skip
    # Last 7 days = days 3-9: done on 5, 7, 8; partly on 4.
    assert progress.week == Adherence(days=7, done=3, partly=1)
    # Last 28 days, clipped to days 1-9: done on 1, 2, 5, 7, 8.
    assert progress.four_weeks == Adherence(days=9, done=5, partly=1)
    # Ratings on days 3-9: 3, 2, 2, 2, 3 -> 12 / 5.
    assert progress.week_average == Fraction(12, 5)
    assert progress.baseline == 6
    assert progress.best == (7, 2)  # the lowest, the most recent of the ties
    assert progress.worst == (1, 5)
    assert progress.missed == (3,)
    assert progress.bands == (Band(0, 1, "protect"), Band(2, 9, "isometric"))
    assert progress.open_escalations == ()


@pytest.mark.parametrize(
    ("pains", "today", "expected"),
    [
        # Three low ratings in the phase (2, 1, 2) and the days served: the sessions and the
        # check are what is left.
        ({**KNOWN, 8: 1, 9: 2}, 10, NextStep("progress", "mobility", 0, 0, 2, 2, ("walk_normal",))),
        # Moved on on day 1: day 4 is the 3rd of isometric, with two low ratings (days 2, 3).
        ({1: 2, 2: 2, 3: 2}, 4, NextStep("progress", "mobility", 0, 1, 2, 2, ("walk_normal",))),
        # Protect: the onset must be 2 days old and the latest rating 5 or less.
        ({1: 6}, 2, NextStep("progress", "isometric", 0, 1, 5)),
    ],
)
def test_what_it_takes_to_move_on(pains: dict[int, int], today: int, expected: NextStep) -> None:
    assert summarise(course_of(pains), [], today).next_step == expected


def test_a_flare_up_a_hold_and_an_escalation_each_say_what_blocks_progress() -> None:
    flare = course_of({1: 2, 2: 5})  # 5 is 3 above the lowest of the week
    assert summarise(flare, [], 3).next_step.kind == "flare"
    tight = IntakeFacts(injury="tight_hamstrings", age=30, onset="gradual", onset_days_ago=9,
                        location="middle", baseline_pain=3)  # fmt: skip
    held = course_of({1: 2}, facts=tight, flags={1: ("night_pain_or_weight_loss",)})
    assert summarise(held, [], 2).next_step.kind == "hold"  # mobility -> strength is held
    gentle = course_of({1: 2}, flags={1: ("night_pain_or_weight_loss",)})
    assert summarise(gentle, [], 2).next_step.kind == "progress"  # isometric -> mobility is not
    stopped = course_of({1: 2}, flags={1: ("calf_swelling_redness",)})
    assert summarise(stopped, [], 2).next_step.kind == "escalated"
    assert [e.reason for e in summarise(stopped, [], 2).open_escalations] == [
        "calf_swelling_redness"
    ]


def test_routine_advice_is_open_until_a_professional_has_been_seen() -> None:
    course = course_of({1: 2}, flags={1: ("night_pain_or_weight_loss",)})
    assert [e.reason for e in summarise(course, [], 2).open_escalations] == [
        "night_pain_or_weight_loss"
    ]
    seen = replay(CONTUSION, [], [(1, DayInput(2, red_flags=("night_pain_or_weight_loss",))),
                                  (2, DayInput(2, seen=True))], CATALOGUE)  # fmt: skip
    assert summarise(seen, [], 3).open_escalations == ()


def test_an_escalation_is_open_until_a_professional_clears_the_user() -> None:
    course = course_of({1: 2, 2: 2, 3: 2, 4: 2}, flags={1: ("calf_swelling_redness",)},
                       cleared=(3,))  # fmt: skip
    progress = summarise(course, [], 4)
    assert progress.open_escalations == ()
    assert progress.escalations == (Escalation(Level.URGENT, "calf_swelling_redness", 1),)
    # Exercises stopped on days 2-3, back in protect from day 4.
    assert progress.bands == (Band(0, 1, "protect"), Band(2, 3, "escalated"), Band(4, 4, "protect"))


def test_an_empty_course_has_no_figures_and_one_band() -> None:
    progress = summarise(course_of({}), [], 0)
    assert (progress.week_average, progress.best, progress.worst) == (None, None, None)
    assert progress.week == Adherence(days=0, done=0, partly=0)
    assert progress.bands == (Band(0, 0, "protect"),)
    assert progress.missed == ()


@pytest.mark.parametrize(("day", "due"), [(0, False), (6, False), (7, True), (8, False),
                                          (13, False), (14, True), (70, True)])  # fmt: skip
def test_the_weekly_summary_comes_on_the_enrolment_weekday(day: int, due: bool) -> None:
    assert weekly_due(day) is due
