"""Triage at enrolment (day 0): red flags, referral injuries and suspected avulsion.

shared/clinical-spec.md §2 rules 1-3. Each rule is one function here; the service records what they
return and the bot says it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum


class Level(StrEnum):
    """How urgently to see a professional."""

    EMERGENCY = "emergency"  # call the local emergency number or go to an emergency department now
    URGENT = "urgent"  # see a doctor today or within 24 h
    ROUTINE = "routine"  # book a physiotherapist, sports-medicine doctor or GP in the coming days


# Levels that stop exercise prompts until a professional has cleared the user (rule 1).
STOPPING_LEVELS = frozenset({Level.EMERGENCY, Level.URGENT})

REFERRAL_INJURY = "referral_injury"
SUSPECTED_AVULSION = "suspected_avulsion"
AVULSION_AGE = range(14, 19)  # 14-18 years inclusive (seed 000)
AVULSION_MIN_PAIN = 7


@dataclass(frozen=True)
class IntakeFacts:
    """What the user told us at enrolment (shared/clinical-spec.md §1, intake facts)."""

    injury: str
    age: int
    onset: str  # sudden | gradual
    onset_days_ago: int
    location: str  # upper | middle | lower
    baseline_pain: int
    grade: int | None = None


def facts_of(source: object, **changes: object) -> IntakeFacts:
    """The intake facts held by any object with the same attribute names (a stored user, a
    scenario), with `changes` applied; a missing fact (other than the grade) is an error."""
    values = {f.name: changes.get(f.name, getattr(source, f.name)) for f in fields(IntakeFacts)}
    missing = sorted(name for name, value in values.items() if value is None and name != "grade")
    if missing:
        raise ValueError(f"intake facts missing: {missing}")
    return IntakeFacts(**values)  # type: ignore[arg-type]  # validated where they were answered


@dataclass(frozen=True)
class Escalation:
    """Advice to see a professional: how urgently, and why (a red-flag id or a rule's reason)."""

    level: Level
    reason: str
    day: int = 0


def red_flag_escalation(flag_id: str, levels: Mapping[str, Level], day: int = 0) -> Escalation:
    """Rule 1: a red flag answered yes escalates at once with its level."""
    return Escalation(levels[flag_id], flag_id, day)


REFERRAL_ONLY = frozenset({"hamstring_avulsion", "compartment_syndrome"})  # never a program
REFERRAL_WITH_PROGRAM = "referred_pain"  # referred, and keeps its gentle program


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


def suspected_avulsion(facts: IntakeFacts) -> Escalation | None:
    """Rule 3 (seed 000): a young athlete with severe, sudden pain at the sit bone, whatever was picked."""
    if (
        facts.age in AVULSION_AGE
        and facts.onset == "sudden"
        and facts.location == "upper"
        and facts.baseline_pain >= AVULSION_MIN_PAIN
    ):
        return Escalation(Level.URGENT, SUSPECTED_AVULSION)
    return None


def facts_escalations(facts: IntakeFacts) -> tuple[Escalation, ...]:
    """Rules 2 and 3, decided as soon as the intake facts are known."""
    found = (referral_escalation(facts), suspected_avulsion(facts))
    return tuple(escalation for escalation in found if escalation is not None)


def intake_escalations(
    facts: IntakeFacts, yes_flags: Iterable[str], levels: Mapping[str, Level]
) -> tuple[Escalation, ...]:
    """Everything escalated at day 0: the facts' rules, then each red flag answered yes."""
    flags = tuple(red_flag_escalation(flag, levels) for flag in yes_flags)
    return facts_escalations(facts) + flags


def has_program(facts: IntakeFacts) -> bool:
    """Whether the injury gets exercises at all (rule 2: some are referral only)."""
    return referral_escalation(facts) is None or facts.injury == REFERRAL_WITH_PROGRAM
