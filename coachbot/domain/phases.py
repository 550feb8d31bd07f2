"""Phases, load classes, groups and where each injury's program starts (clinical spec v2 §1, rule 7)."""

from __future__ import annotations

from enum import StrEnum

PHASES = ("protect", "isometric", "mobility", "strength", "return", "maintain")
LOADS = ("rest", "isometric", "mobility", "isotonic", "eccentric", "plyometric")
_RANKS = {load: rank for rank, load in enumerate(LOADS)}  # a prompt ranks loads dozens of times
PHASE_MAX_LOAD = {
    "protect": "rest",
    "isometric": "isometric",
    "mobility": "mobility",
    "strength": "eccentric",
    "return": "plyometric",
    "maintain": "plyometric",
}
# Holds block moving into these phases (rule 12); the gentle phases below them go on.
HELD_PHASES = frozenset({"strength", "return", "maintain"})

TENDON_INJURIES = frozenset({"hamstring_tendinopathy", "ischiogluteal_bursitis"})
# Programs that start at `mobility` (spec §1.1 "program" column).
MOBILITY_START = frozenset({"hamstring_cramp", "tight_hamstrings", "referred_pain"})
UNSURE_ACUTE_DAYS = 3  # `unsure`: from protect if the onset was sudden in the last 3 days (0-3)
# The injuries whose avoid-list is the tendon one (no stretching or deep hip bending, Goom 2016).
TENDON_AVOID_INJURIES = TENDON_INJURIES | {"unsure"}


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ESCALATED = "escalated"
    COMPLETED = "completed"


class Group(StrEnum):
    """How fast a program may move (rule 7's table) and which pain limits apply."""

    STANDARD = "standard"
    SLOW = "slow"  # grade 2 or overstretch injuries take about twice as long (Askling 2013)
    TENDON = "tendon"  # tendons adapt slowly and tolerate some pain (Goom 2016; Silbernagel 2007)
    GENTLE = "gentle"  # not a tissue injury: cramp, tightness, referred pain


# Rule 7b: minimum days in each phase before moving on, by group (`-`: the group never is there).
MIN_DAYS: dict[str, dict[Group, int]] = {
    "isometric": {Group.STANDARD: 3, Group.SLOW: 5, Group.TENDON: 14},
    "mobility": {Group.STANDARD: 4, Group.SLOW: 5, Group.TENDON: 7, Group.GENTLE: 3},
    "strength": {Group.STANDARD: 7, Group.SLOW: 10, Group.TENDON: 21, Group.GENTLE: 7},
    "return": {Group.STANDARD: 7, Group.SLOW: 10, Group.TENDON: 14, Group.GENTLE: 7},
}
MAINTAIN_DAYS = 14  # `maintain` runs 14 days, then the program is completed
# The rest-pain limit of rule 7c (and "the limit" of the function checks, §1.5).
REST_PAIN_LIMIT = 2
TENDON_REST_PAIN_LIMIT = 3


def group_of(injury: str, onset: str, grade: int | None, mechanism: str) -> Group | None:
    """The injury's group (spec §1.1 "group" column); None for referral-only injuries."""
    if injury in TENDON_INJURIES:
        return Group.TENDON
    if injury in MOBILITY_START:
        return Group.GENTLE
    if injury == "hamstring_contusion":
        return Group.STANDARD
    if injury == "hamstring_strain":
        return Group.SLOW if grade == 2 or mechanism == "stretch" else Group.STANDARD
    if injury == "unsure":
        if onset == "gradual":
            return Group.TENDON
        return Group.SLOW if mechanism == "stretch" else Group.STANDARD
    return None


def rest_pain_limit(group: Group | None) -> int:
    return TENDON_REST_PAIN_LIMIT if group is Group.TENDON else REST_PAIN_LIMIT


def load_rank(load: str) -> int:
    return _RANKS[load]


def allows(phase: str, load: str) -> bool:
    """Whether `phase` may prescribe an exercise of class `load`."""
    return load_rank(load) <= load_rank(PHASE_MAX_LOAD[phase])


def first_phase(injury: str, onset: str, onset_days_ago: int) -> str:
    """Where the program starts (only for injuries that have one; see triage.has_program)."""
    if injury in MOBILITY_START:
        return "mobility"
    if injury in TENDON_INJURIES:
        return "isometric"
    if injury == "unsure":
        acute = onset == "sudden" and onset_days_ago <= UNSURE_ACUTE_DAYS
        return "protect" if acute else "isometric"
    return "protect"  # strains and contusions


def previous_phase(phase: str, floor: str) -> str:
    """One step back, never below the injury's first phase."""
    index = max(PHASES.index(phase) - 1, PHASES.index(floor))
    return PHASES[index]


def next_phase(phase: str) -> str | None:
    index = PHASES.index(phase) + 1
    return PHASES[index] if index < len(PHASES) else None
