"""Phases, load classes and where each injury's program starts (shared/clinical-spec.md §1)."""

from __future__ import annotations

from enum import StrEnum

PHASES = ("protect", "isometric", "mobility", "strength", "return", "maintain")
LOADS = ("rest", "isometric", "mobility", "isotonic", "eccentric", "plyometric")
PHASE_MAX_LOAD = {
    "protect": "rest",
    "isometric": "isometric",
    "mobility": "mobility",
    "strength": "eccentric",
    "return": "plyometric",
    "maintain": "plyometric",
}
# Tendon and bursa pain may be mildly uncomfortable during loading (rule 7).
TENDON_INJURIES = frozenset({"hamstring_tendinopathy", "ischiogluteal_bursitis"})
# Programs that start at `mobility` (spec §1 "program" column).
MOBILITY_START = frozenset({"hamstring_cramp", "tight_hamstrings", "referred_pain"})
UNSURE_ACUTE_DAYS = 3  # `unsure`: from protect if the onset was sudden in the last 3 days (0-3)


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ESCALATED = "escalated"
    COMPLETED = "completed"


def load_rank(load: str) -> int:
    return LOADS.index(load)


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
