"""Triage at enrolment (day 0): red flags, referrals, suspected avulsion, severe pain.

Clinical spec v2 §2 rules 1, 2, 3 and rule 10's day-0 part. Each rule is one function here; the
course (course.py) applies them, the service records what they return and the bot says it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum


class Level(StrEnum):
    """How urgently to see a professional."""

    EMERGENCY = "emergency"  # call the local emergency number or go to an emergency department now
    URGENT = "urgent"  # see a doctor today or within 24 h
    ROUTINE = "routine"  # book a physiotherapist, sports-medicine doctor or GP in the coming days


# Levels that stop exercise prompts until a professional has cleared the user (rules 1, 12).
STOPPING_LEVELS = frozenset({Level.EMERGENCY, Level.URGENT})

# Escalation reasons that are not red-flag ids (spec §1.6).
REFERRAL_INJURY = "referral_injury"
UNDER_16 = "under_16"
RECURRENT_INJURY = "recurrent_injury"
SUSPECTED_AVULSION = "suspected_avulsion"
NO_IMPROVEMENT = "no_improvement"
WORSENING = "worsening"
RECURRENT_FLARE = "recurrent_flare"
SEVERE_PAIN = "severe_pain"

MIN_PROGRAM_AGE = 16  # rule 2: the bot is for 16 and over
AVULSION_MIN_AGE = 14  # rule 3: any age from 14 (v2: adults too; Bertiche 2021)
AVULSION_MIN_PAIN = 7
SEVERE_INTAKE_PAIN = 9  # rule 10: a sudden onset with baseline 9-10 at enrolment
CANNOT_BEAR_WEIGHT = "cannot_bear_weight"  # `walking: cannot` counts as this flag answered yes
REFERRAL_ONLY = frozenset({"hamstring_avulsion", "compartment_syndrome"})  # never a program
REFERRAL_WITH_PROGRAM = "referred_pain"  # referred, and keeps its gentle program
RECURRENCE_INJURIES = frozenset(
    {"hamstring_strain", "hamstring_contusion", "hamstring_cramp", "unsure"}
)


@dataclass(frozen=True)
class IntakeFacts:
    """What the user told us at enrolment (clinical spec v2 §1.2)."""

    injury: str
    age: int
    onset: str  # sudden | gradual
    onset_days_ago: int
    location: str  # upper | middle | lower
    baseline_pain: int
    grade: int | None = None
    mechanism: str = "other"  # sprint | stretch | blow | other
    walking: str = "normal"  # normal | limp | cannot
    previous_injury: bool = False
    goal: str = "everyday"  # sport | everyday
    activity: str | None = None
    function_baseline: int | None = None


OPTIONAL_FACTS = {"grade", "mechanism", "walking", "previous_injury", "goal", "activity",
                  "function_baseline"}  # fmt: skip
_DEFAULTS = {f.name: f.default for f in fields(IntakeFacts)}  # every fact's name, in order


def facts_of(source: object, **changes: object) -> IntakeFacts:
    """The intake facts held by any object with the same attribute names (a stored user, a
    scenario), with `changes` applied; an optional fact that is missing or None takes its
    default (§1.2: users enrolled before v2 carry the defaults); a missing required one is an error."""
    values = {}
    for name, default in _DEFAULTS.items():
        value = changes.get(name, getattr(source, name, None))
        if value is None and name in OPTIONAL_FACTS:
            value = default
        values[name] = value
    missing = sorted(name for name, value in values.items()
                     if value is None and name not in OPTIONAL_FACTS)  # fmt: skip
    if missing:
        raise ValueError(f"intake facts missing: {missing}")
    return IntakeFacts(**values)  # type: ignore[arg-type]  # validated where they were answered


@dataclass(frozen=True)
class Escalation:
    """Advice to see a professional: how urgently, and why (a red-flag id or a rule's reason)."""

    level: Level
    reason: str
    day: int = 0
    why: str = field(default="", compare=False)  # the numbers behind it, for people to read


def red_flag_escalation(flag_id: str, levels: Mapping[str, Level], day: int = 0) -> Escalation:
    """Rule 1: a red flag answered yes escalates at once with its level."""
    return Escalation(levels[flag_id], flag_id, day)


def referral_escalation(facts: IntakeFacts) -> Escalation | None:
    """Rule 2: injuries that need a professional rather than (or as well as) a home program."""
    if facts.injury == "hamstring_avulsion":
        return Escalation(Level.URGENT, REFERRAL_INJURY)
    if facts.injury == "compartment_syndrome":
        level = Level.EMERGENCY if facts.onset == "sudden" else Level.ROUTINE
        return Escalation(level, REFERRAL_INJURY)
    if facts.injury == "hamstring_strain" and facts.grade == 3:
        return Escalation(Level.URGENT, REFERRAL_INJURY)
    if facts.injury == REFERRAL_WITH_PROGRAM:
        return Escalation(Level.ROUTINE, REFERRAL_INJURY)
    return None


def under_16(facts: IntakeFacts) -> Escalation | None:
    """Rule 2: the bot is for 16 and over; younger people see a professional with a parent."""
    return Escalation(Level.ROUTINE, UNDER_16) if facts.age < MIN_PROGRAM_AGE else None


def recurrent_injury(facts: IntakeFacts) -> Escalation | None:
    """Rule 2: the same problem in the same thigh within 12 months "keeps coming back" (seed 003)."""
    if facts.previous_injury and facts.injury in RECURRENCE_INJURIES:
        return Escalation(Level.ROUTINE, RECURRENT_INJURY)
    return None


def suspected_avulsion(facts: IntakeFacts) -> Escalation | None:
    """Rule 3 (seed 000; Bertiche 2021): sudden, severe pain at the sit bone from age 14, whatever
    injury was picked."""
    if (
        facts.age >= AVULSION_MIN_AGE
        and facts.onset == "sudden"
        and facts.location == "upper"
        and facts.baseline_pain >= AVULSION_MIN_PAIN
    ):
        return Escalation(Level.URGENT, SUSPECTED_AVULSION)
    return None


def severe_intake_pain(facts: IntakeFacts) -> Escalation | None:
    """Rule 10 at enrolment: a sudden onset with pain of 9 or 10 at rest."""
    if facts.onset == "sudden" and facts.baseline_pain >= SEVERE_INTAKE_PAIN:
        return Escalation(Level.URGENT, SEVERE_PAIN)
    return None


def facts_escalations(facts: IntakeFacts) -> tuple[Escalation, ...]:
    """Rules 2, 3 and 10, decided as soon as the intake facts are known."""
    rules = (referral_escalation, under_16, recurrent_injury, suspected_avulsion,
             severe_intake_pain)  # fmt: skip
    found = (rule(facts) for rule in rules)
    return tuple(escalation for escalation in found if escalation is not None)


def intake_flags(facts: IntakeFacts, yes_flags: Iterable[str]) -> tuple[str, ...]:
    """The red flags answered yes at enrolment, with `walking: cannot` as `cannot_bear_weight`."""
    flags = list(dict.fromkeys(yes_flags))
    if facts.walking == "cannot" and CANNOT_BEAR_WEIGHT not in flags:
        flags.append(CANNOT_BEAR_WEIGHT)
    return tuple(flags)


def intake_escalations(
    facts: IntakeFacts, yes_flags: Iterable[str], levels: Mapping[str, Level]
) -> tuple[Escalation, ...]:
    """Everything escalated at day 0: the facts' rules, then each red flag answered yes."""
    flags = tuple(red_flag_escalation(flag, levels) for flag in intake_flags(facts, yes_flags))
    return facts_escalations(facts) + flags


def has_program(facts: IntakeFacts) -> bool:
    """Whether the bot gives exercises at all (rule 2: referral-only injuries and under 16s get none)."""
    if facts.age < MIN_PROGRAM_AGE:
        return False
    referral = referral_escalation(facts)
    return referral is None or facts.injury == REFERRAL_WITH_PROGRAM
