"""What the daily prompt asks (rule 13): the weekly screen, re-screens, function checks.

Spec v2 §1.3 (which red flags are asked when), §1.5 (function checks) and rule 13. Which flags are
asked at enrolment (I), weekly (W) and in a re-screen (R) is content (`asked:`); the conditions on
top of that (a contusion's hard lump, daily activities after the first week) are rules, here.
"""

from __future__ import annotations

from collections.abc import Iterable

from coachbot.domain.catalogue import FlagLike
from coachbot.domain.phases import Group, group_of
from coachbot.domain.triage import IntakeFacts, intake_flags

INTAKE, WEEKLY, RESCREEN = "I", "W", "R"
SCREEN_EVERY_DAYS = 7  # rule 13: days 7, 14, 21, ...
HARD_LUMP = "hard_lump_after_bruise"
HARD_LUMP_INJURY = "hamstring_contusion"
HARD_LUMP_MIN_ONSET_AGE = 14  # myositis ossificans shows from about two weeks after the blow
LIMITS_DAILY = "limits_daily_activities"
LIMITS_DAILY_FROM_DAY = 7  # "after the first week" ...
LIMITS_DAILY_FROM_DAY_SLOW = 14  # ... two for group `slow`

# §1.5: the checks that leaving each phase needs, by the user's goal.
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "isometric": {"sport": ("walk_normal",), "everyday": ("walk_normal",)},
    "mobility": {"sport": ("jog_slow",), "everyday": ("walk_brisk",)},
    "strength": {
        "sport": ("strength_match", "jog_moderate"),
        "everyday": ("strength_match", "stairs"),
    },  # fmt: skip
    "return": {"sport": ("sprint_confident",), "everyday": ("daily_activities",)},
}
CHECK_IDS = tuple(
    dict.fromkeys(c for by_goal in CHECKS.values() for ids in by_goal.values() for c in ids)
)


def checks_for(phase: str | None, goal: str) -> tuple[str, ...]:
    """The checks leaving `phase` needs for `goal` (none for protect and maintain)."""
    if phase is None:
        return ()
    return CHECKS.get(phase, {}).get(goal, ())


def is_screen_day(day: int) -> bool:
    return day > 0 and day % SCREEN_EVERY_DAYS == 0


def flags_asked(
    flags: Iterable[FlagLike], when: str, *, injury: str, group: Group | None, onset_age: int,
    day: int,
) -> tuple[str, ...]:  # fmt: skip
    """The ids of the flags asked `when` (I, W or R) on `day`, in content order."""
    asked = []
    for flag in flags:
        if when not in flag.asked:
            continue
        if flag.id == HARD_LUMP and (
            injury != HARD_LUMP_INJURY or onset_age < HARD_LUMP_MIN_ONSET_AGE
        ):
            continue
        if flag.id == LIMITS_DAILY:
            first = LIMITS_DAILY_FROM_DAY_SLOW if group is Group.SLOW else LIMITS_DAILY_FROM_DAY
            if day < first:
                continue
        asked.append(flag.id)
    return tuple(asked)


def asked_at_intake(flags: Iterable[FlagLike], facts: IntakeFacts) -> tuple[str, ...]:
    """The red flags the enrolment screening asks (§1.3 `I`), in content order; `walking: cannot`
    already answers `cannot_bear_weight`, so it is not asked again."""
    group = group_of(facts.injury, facts.onset, facts.grade, facts.mechanism)
    asked = flags_asked(flags, INTAKE, injury=facts.injury, group=group,
                        onset_age=facts.onset_days_ago, day=0)  # fmt: skip
    known = intake_flags(facts, ())
    return tuple(flag for flag in asked if flag not in known)
