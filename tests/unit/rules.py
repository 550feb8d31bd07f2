"""Shared fixtures for the rule tests: a small fake catalogue and one-line builders.

The catalogue is written from clinical spec v2 (§1.3's red flags, §1.4's phases and load classes),
not from `content/`, so the rule tests do not move when the content is edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from coachbot.domain.catalogue import Catalogue
from coachbot.domain.course import Course, DayInput, advance, begin
from coachbot.domain.plan import plan_for
from coachbot.domain.triage import IntakeFacts, Level


@dataclass(frozen=True)
class Exercise:
    id: str
    load: str
    every: int = 1
    minutes: int = 5


@dataclass(frozen=True)
class Flag:
    id: str
    asked: frozenset[str]


def _flag(flag_id: str, asked: str) -> Flag:
    return Flag(flag_id, frozenset(asked))


# §1.3, in content order: (id, level, when asked).
FLAG_TABLE = (
    ("saddle_numbness_or_bladder_bowel", Level.EMERGENCY, "IWR"),
    ("cold_pale_leg", Level.EMERGENCY, "IWR"),
    ("tense_swollen_thigh", Level.EMERGENCY, "IWR"),
    ("breathless_or_chest_pain", Level.EMERGENCY, "IWR"),
    ("calf_swelling_redness", Level.URGENT, "IWR"),
    ("fever_or_unwell", Level.URGENT, "IWR"),
    ("cannot_bear_weight", Level.URGENT, "IWR"),
    ("pop_with_bruising", Level.URGENT, "IR"),
    ("numbness_tingling_or_weakness", Level.URGENT, "IWR"),
    ("night_pain_or_weight_loss", Level.ROUTINE, "IW"),
    ("hard_lump_after_bruise", Level.ROUTINE, "IW"),
    ("limits_daily_activities", Level.ROUTINE, "W"),
)
LEVELS = {flag_id: level for flag_id, level, _ in FLAG_TABLE}
FLAGS = tuple(_flag(flag_id, asked) for flag_id, _, asked in FLAG_TABLE)
FLAG_IDS = tuple(flag.id for flag in FLAGS)
EMERGENCY_FLAG, URGENT_FLAG, ROUTINE_FLAG = (
    "cold_pale_leg",
    "fever_or_unwell",
    "night_pain_or_weight_loss",
)
# The flags re-asked after a flare-up or a rating of 8+ (R), in content order.
RESCREEN_FLAGS = tuple(flag_id for flag_id, _, asked in FLAG_TABLE if "R" in asked)

# Priority order within each phase; each load class of §1.4 appears at least once.
EXERCISES: dict[str, tuple[Exercise, ...]] = {
    "protect": (Exercise("price", "rest", 1, 0), Exercise("gentle_walk", "rest", 1, 10)),
    "isometric": (
        Exercise("bridge_hold", "isometric", 1, 5),
        Exercise("heel_dig", "isometric", 2, 5),
        Exercise("sitting_advice", "rest", 1, 0),
    ),
    "mobility": (
        Exercise("windmill", "mobility", 1, 5),
        Exercise("extender", "mobility", 1, 10),
        Exercise("knee_hug", "mobility", 1, 5),
        Exercise("slow_bridge", "isometric", 1, 5),
        Exercise("balance", "mobility", 2, 5),
    ),
    "strength": (
        Exercise("banded_curl", "isotonic", 1, 10),
        Exercise("diver", "eccentric", 1, 10),
        Exercise("glider", "eccentric", 2, 5),
        Exercise("single_leg_bridge", "isotonic", 1, 5),
        Exercise("assisted_nordic", "eccentric", 3, 5),
        Exercise("single_leg_rdl", "isotonic", 1, 5),
        Exercise("hip_circles", "mobility", 1, 5),
        Exercise("ice_after", "rest", 1, 0),
    ),
    "return": (
        Exercise("running_build_up", "plyometric", 1, 15),
        Exercise("squat", "isotonic", 1, 10),
        Exercise("sport_drills", "plyometric", 2, 10),
        Exercise("curl", "eccentric", 1, 5),
        Exercise("core", "mobility", 1, 5),
        Exercise("cool_down_walk", "rest", 1, 10),
    ),
    "maintain": (
        Exercise("nordic", "eccentric", 3, 10),
        Exercise("hops", "plyometric", 1, 5),
        Exercise("core_glutes", "mobility", 1, 10),
    ),
}
# §1.1: no stretching or deep hip bending for tendons (and `unsure`); no nerve-tension stretches
# for referred pain.
TENDON_AVOID = frozenset({"windmill", "extender", "knee_hug"})
AVOID = {
    "hamstring_tendinopathy": TENDON_AVOID,
    "ischiogluteal_bursitis": TENDON_AVOID,
    "unsure": TENDON_AVOID,
    "referred_pain": frozenset({"extender", "knee_hug"}),
}


def catalogue(**phases: Sequence[Exercise]) -> Catalogue:
    """The fake catalogue, with some phases' exercises replaced."""
    exercises = {**EXERCISES, **{phase: tuple(items) for phase, items in phases.items()}}
    return Catalogue(levels=LEVELS, flags=FLAGS, exercises=exercises, avoid=AVOID)


CATALOGUE = catalogue()

# §1.5, every check id; answering all of them yes passes any phase's checks for either goal.
CHECK_IDS = (
    "walk_normal",
    "jog_slow",
    "walk_brisk",
    "strength_match",
    "jog_moderate",
    "stairs",
    "sprint_confident",
    "daily_activities",
)
ALL_YES = tuple((check, True) for check in CHECK_IDS)

# A grade 1 strain from a sprint, a day old, at moderate pain: group `standard`, starts in protect.
STRAIN = IntakeFacts(
    injury="hamstring_strain",
    age=30,
    onset="sudden",
    onset_days_ago=1,
    location="middle",
    baseline_pain=5,
    grade=1,
)
TENDON = replace(
    STRAIN, injury="hamstring_tendinopathy", onset="gradual", onset_days_ago=30, grade=None,
    location="upper", baseline_pain=3,
)  # fmt: skip

Day = int | None | DayInput


def facts(base: IntakeFacts = STRAIN, /, **changes: object) -> IntakeFacts:
    """Intake facts in one line: `facts(baseline_pain=7, goal="sport")`."""
    return replace(base, **changes)  # type: ignore[arg-type]


def day_input(day: Day) -> DayInput:
    """A rating (int), no answer at all (None) or a full DayInput."""
    if isinstance(day, DayInput):
        return day
    return DayInput(pain=day)


def good(pain: int | None = 1, exercise_pain: int = 1, **changes: object) -> DayInput:
    """A day that moves a course on: low rest pain, a fine session, every check passed."""
    return replace(
        DayInput(pain=pain, session="done", exercise_pain=exercise_pain, checks=ALL_YES),
        **changes,  # type: ignore[arg-type]
    )


def timeline(
    facts: IntakeFacts,
    days: Sequence[Day],
    flags: Sequence[str] = (),
    cat: Catalogue = CATALOGUE,
) -> list[Course]:
    """The course at the end of day 0, 1, 2, ... (days[0] is day 1's answers)."""
    courses = [begin(facts, tuple(flags), cat)]
    for number, day in enumerate(days, start=1):
        courses.append(advance(courses[-1], number, day_input(day), cat))
    return courses


def course(
    facts: IntakeFacts,
    days: Sequence[Day] = (),
    flags: Sequence[str] = (),
    cat: Catalogue = CATALOGUE,
) -> Course:
    """The course at the end of the last day given (day 1 is days[0])."""
    return timeline(facts, days, flags, cat)[-1]


def plan_ids(courses: Sequence[Course], day: int, cat: Catalogue = CATALOGUE) -> list[str]:
    """The ids of day `day`'s plan, made from the course at the end of day `day - 1`."""
    return [e.id for e in plan_for(courses[day - 1], day, cat)]


def plan_loads(courses: Sequence[Course], day: int, cat: Catalogue = CATALOGUE) -> set[str]:
    return {e.load for e in plan_for(courses[day - 1], day, cat)}


def reasons(course: Course) -> list[tuple[int, str]]:
    """(day, reason) of every escalation, in order."""
    return [(e.day, e.reason) for e in course.escalations]


def escalated_for(course: Course, reason: str) -> bool:
    return any(e.reason == reason for e in course.escalations)


def moves(course: Course) -> list[tuple[int, str | None, str]]:
    """(day, phase, reason) of every transition after day 0."""
    return [(t.day, t.phase, t.reason) for t in course.transitions if t.day > 0]
